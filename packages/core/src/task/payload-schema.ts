import { getMetadataStorage } from 'class-validator';

// The Standard Schema v1 interface (https://standardschema.dev), copied as its authors ask so that core
// depends on no schema library: zod ≥ 3.24, valibot ≥ 1 and arktype objects all carry `~standard`.

/** A schema of any library implementing Standard Schema v1 (zod ≥ 3.24, valibot ≥ 1, arktype, …). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The library-neutral interface: what `payload:` calls to validate an argument. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` property of a {@link StandardSchemaV1}. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Always 1. */
  readonly version: 1;
  /** The library that made the schema (`zod`, `valibot`, …). */
  readonly vendor: string;
  /** Checks a value; may be asynchronous. */
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** Type-level only: the schema's input and output types. */
  readonly types?:
    | {
        /** The type `validate` accepts. */
        readonly input: Input;
        /** The type a successful `validate` returns. */
        readonly output: Output;
      }
    | undefined;
}

/** What a Standard Schema's `validate` returns: the (possibly transformed) value, or the issues. */
export type StandardSchemaResult<Output> =
  | {
      /** The valid value, possibly transformed by the schema. */
      readonly value: Output;
      /** Absent on success. */
      readonly issues?: undefined;
    }
  | {
      /** What is wrong with the value. */
      readonly issues: readonly StandardSchemaIssue[];
    };

/** One problem a Standard Schema found. */
export interface StandardSchemaIssue {
  /** What is wrong, in the library's words. */
  readonly message: string;
  /** Where, from the validated value down (`['address', 'city']`); absent for the value itself. */
  readonly path?:
    | ReadonlyArray<
        | PropertyKey
        | {
            /** One step of the path. */
            readonly key: PropertyKey;
          }
      >
    | undefined;
}

/** A class whose properties carry class-validator rules (compiled with legacy decorators), built with `new Dto()`. */
export type PayloadClass = new () => object;

/** How one positional argument is validated: a class-validator DTO class or a Standard Schema. */
export type PayloadSchema = PayloadClass | StandardSchemaV1;

/**
 * The `payload` task option: one schema for the first positional argument, or one per position
 * (`undefined`/`null` where an argument is not validated).
 */
export type PayloadOption = PayloadSchema | ReadonlyArray<PayloadSchema | null | undefined>;

/** True for an object (or callable, as arktype's types are) implementing Standard Schema v1. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props = (value as { '~standard'?: { version?: unknown; validate?: unknown } })['~standard'];
  return typeof props === 'object' && props !== null && typeof props.validate === 'function';
}

/** True when class-validator knows rules for the class (false when its decorators never ran). */
export function hasValidationRules(type: PayloadClass): boolean {
  const storage = getMetadataStorage();
  return storage.getTargetValidationMetadatas(type as unknown as () => void, '', true, false).length > 0;
}

/** The schema of each position, `payload` normalised (a single schema validates the first argument). */
export function payloadSchemas(payload: PayloadOption): (PayloadSchema | undefined)[] {
  return Array.isArray(payload)
    ? (payload as ReadonlyArray<PayloadSchema | null | undefined>).map((schema) => schema ?? undefined)
    : [payload as PayloadSchema];
}

/** Why `value` is not a usable `payload` option, or undefined when it is. */
export function payloadOptionProblem(value: unknown): string | undefined {
  const entries: unknown[] = Array.isArray(value) ? value : [value];
  if (entries.every((entry) => entry === undefined || entry === null)) {
    return 'payload must name at least one schema';
  }
  for (const [index, entry] of entries.entries()) {
    if (entry === undefined || entry === null || isStandardSchema(entry)) continue;
    const where = Array.isArray(value) ? `payload[${index}]` : 'payload';
    if (typeof entry !== 'function') {
      return `${where} must be a class-validator DTO class or a Standard Schema (zod, valibot, arktype…), got ${typeof entry}`;
    }
    if (!hasValidationRules(entry as PayloadClass)) {
      // class-validator's decorators are legacy-only: under standard decorators they never register rules.
      return `${where}: class ${entry.name || '(anonymous)'} has no class-validator rules (its module must be compiled with experimentalDecorators), and is not a Standard Schema`;
    }
  }
  return undefined;
}
