import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { TaskValidationError, type ValidationIssue } from '../errors';
import { toIssues } from './options';
import {
  hasValidationRules,
  isStandardSchema,
  type PayloadClass,
  type PayloadSchema,
  type StandardSchemaIssue,
  type StandardSchemaV1,
} from './payload-schema';

/** Parameter types of `run` that carry class-validator rules (undefined where a parameter has none). */
export function validatedParameterTypes(prototype: object, method = 'run'): (PayloadClass | undefined)[] {
  return (
    emittedParameterTypes(prototype, method)?.map((type) =>
      typeof type === 'function' && hasValidationRules(type as PayloadClass)
        ? (type as PayloadClass)
        : undefined,
    ) ?? []
  );
}

/** What TypeScript emitted as `design:paramtypes` (undefined without `emitDecoratorMetadata`). */
export function emittedParameterTypes(prototype: object, method = 'run'): unknown[] | undefined {
  return Reflect.getMetadata('design:paramtypes', prototype, method) as unknown[] | undefined;
}

/**
 * Checks each positional argument against the schema of its position: a class-validator DTO (the argument
 * becomes an instance; unknown properties refused) or a Standard Schema (the argument becomes its output).
 * @throws TaskValidationError listing each property and constraint.
 */
export async function validateArguments(
  taskName: string,
  schemas: readonly (PayloadSchema | undefined)[],
  args: readonly unknown[],
): Promise<unknown[]> {
  const result = [...args];
  for (let index = 0; index < schemas.length; index++) {
    const schema = schemas[index];
    if (!schema) continue;
    // Standard Schema first: arktype's schemas are functions too.
    result[index] = isStandardSchema(schema)
      ? await validateStandard(taskName, schema, args[index], index)
      : await validateClass(taskName, schema, args[index], index);
  }
  return result;
}

async function validateClass(
  taskName: string,
  type: PayloadClass,
  value: unknown,
  index: number,
): Promise<object> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskValidationError(taskName, [
      { property: `args[${index}]`, constraints: { isObject: `must be an object for ${type.name}` } },
    ]);
  }
  const instance = value instanceof type ? value : plainToInstance(type, value);
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) throw new TaskValidationError(taskName, toIssues(errors));
  return instance;
}

async function validateStandard(
  taskName: string,
  schema: StandardSchemaV1,
  value: unknown,
  index: number,
): Promise<unknown> {
  const outcome = await schema['~standard'].validate(value);
  if (outcome.issues) throw new TaskValidationError(taskName, standardIssues(outcome.issues, index));
  return outcome.value;
}

/** Standard Schema issues as `{property, constraints}`: dotted paths, keyed by the library's code if any. */
function standardIssues(issues: readonly StandardSchemaIssue[], index: number): ValidationIssue[] {
  const byProperty = new Map<string, Record<string, string>>();
  for (const issue of issues) {
    const path = (issue.path ?? []).map((part) =>
      String(typeof part === 'object' && part !== null ? part.key : part),
    );
    const property = path.length > 0 ? path.join('.') : `args[${index}]`;
    // `code` is not in the spec, but zod and others name the failed check with it.
    const code = (issue as { code?: unknown }).code;
    const key = typeof code === 'string' && code !== '' ? code : 'invalid';
    const constraints = byProperty.get(property) ?? {};
    constraints[key] = constraints[key] ? `${constraints[key]}; ${issue.message}` : issue.message;
    byProperty.set(property, constraints);
  }
  return [...byProperty].map(([property, constraints]) => ({ property, constraints }));
}
