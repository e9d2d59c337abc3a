import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validate } from 'class-validator';
import { TaskValidationError } from '../errors';
import { toIssues } from './options';

type Constructor = ClassConstructor<object>;

/** Parameter types of `run` that carry class-validator rules (undefined where a parameter has none). */
export function validatedParameterTypes(prototype: object, method = 'run'): (Constructor | undefined)[] {
  const types = (Reflect.getMetadata('design:paramtypes', prototype, method) as unknown[] | undefined) ?? [];
  return types.map((type) =>
    typeof type === 'function' && hasValidationRules(type as Constructor) ? (type as Constructor) : undefined,
  );
}

function hasValidationRules(type: ClassConstructor<object>): boolean {
  return (
    getMetadataStorage().getTargetValidationMetadatas(type as unknown as () => void, '', true, false).length >
    0
  );
}

/**
 * Turns plain JSON arguments into instances of their parameter classes and validates them
 * (unknown properties refused). @throws TaskValidationError listing each property and constraint.
 */
export async function validateArguments(
  taskName: string,
  types: readonly (Constructor | undefined)[],
  args: readonly unknown[],
): Promise<unknown[]> {
  const result = [...args];
  for (let index = 0; index < types.length; index++) {
    const type = types[index];
    if (!type) continue;
    const value = args[index];
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
    result[index] = instance;
  }
  return result;
}
