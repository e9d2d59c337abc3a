import {
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Max,
  Min,
  ValidateBy,
  ValidationArguments,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { InvalidTaskOptionsError, isError, type ValidationIssue } from '../errors';
import { parseRateLimit, type RateLimit } from '../worker/run/rate-limit';
import { payloadOptionProblem, type PayloadOption } from './payload-schema';

/** A class of errors (`RangeError`, a custom `class DbDown extends Error`). */
export type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * How a task behaves. Set them in `@Task({...})`, `app.task({...}, fn)`, as fields of a `BaseTask` subclass,
 * or as an App's `taskDefaults`; precedence: decorator/`app.task` options > class fields > App defaults.
 * Durations are in seconds, as in Celery.
 */
export interface TaskOptions {
  /** The name the task is registered and sent under. @default the class or function name */
  name?: string;
  /** Function tasks: pass the task object as the first argument (Celery's `self`). Class tasks always have `this`. @default false */
  bind?: boolean;
  /** Retries allowed after the first run (`3` → at most 4 runs). @default 3 */
  maxRetries?: number;
  /** Seconds before a retry when neither a countdown nor backoff says otherwise. @default 180 */
  defaultRetryDelay?: number;
  /** Exponential backoff between retries: `true` (base 1 s) or the base in seconds; delay = min(max, base·2^retries). @default false */
  retryBackoff?: boolean | number;
  /** Cap of the backoff delay, in seconds. @default 600 */
  retryBackoffMax?: number;
  /** Full jitter: the backoff delay is drawn uniformly from [0, delay]. @default true */
  retryJitter?: boolean;
  /** Errors (and their subclasses) after which the task is retried automatically. @default `[]` */
  autoretryFor?: ErrorClass[];
  /** Errors that are never retried automatically, even when `autoretryFor` matches. @default `[]` */
  dontAutoretryFor?: ErrorClass[];
  /** Hard limit in seconds: the run is given up as FAILURE (`TimeLimitExceeded`). @default none */
  timeLimit?: number;
  /** Soft limit in seconds: `this.signal` aborts with `SoftTimeLimitExceeded`. Must be below `timeLimit`. @default none */
  softTimeLimit?: number;
  /** Store and send no state at all for this task. @default false */
  ignoreResult?: boolean;
  /** Report STARTED when a worker begins a run. @default false */
  trackStarted?: boolean;
  /** Report RECEIVED when a worker accepts the message (before it waits for a free slot). @default false */
  trackReceived?: boolean;
  /** Ack the message after the outcome is recorded (`false`: before the run, Celery's default, which loses a task whose worker dies). @default true */
  acksLate?: boolean;
  /** The queue the task is sent to. @default the App's `defaultQueue` */
  queue?: string;
  /**
   * Message priority 0–255 (needs a queue declared with `x-max-priority`). @default none (messages carry 0)
   */
  priority?: number;
  /**
   * Most runs per second of this task on each worker, in Celery's syntax: a number (per second) or
   * `'<n>/s'`, `'<n>/m'`, `'<n>/h'` (`'10/m'`); `null` or 0 for none. Tasks over it wait in the worker
   * (holding their prefetch slot) without holding back tasks of other names. Changed at run time by the
   * `rate_limit` control command. @default none
   */
  rateLimit?: RateLimit;
  /**
   * Validates the arguments before sending and before every run, without decorator metadata: a
   * class-validator DTO class or a Standard Schema (zod ≥ 3.24, valibot ≥ 1, arktype) checks the first
   * positional argument; an array gives one per position (`undefined` skips one). Invalid arguments raise
   * `TaskValidationError`. Replaces what `@ValidateArgs()` reads from `design:paramtypes`. @default none
   */
  payload?: PayloadOption;
}

/** Options that an App may default for all its tasks. */
export type TaskDefaults = Omit<TaskOptions, 'name' | 'bind' | 'payload'>;

/** Effective options of one task in one App, after precedence and defaults. */
export interface CompiledTaskOptions {
  /** See {@link TaskOptions.name}. */
  readonly name: string;
  /** See {@link TaskOptions.bind}. */
  readonly bind: boolean;
  /** See {@link TaskOptions.maxRetries}. */
  readonly maxRetries: number;
  /** See {@link TaskOptions.defaultRetryDelay}. */
  readonly defaultRetryDelay: number;
  /** Backoff base in seconds; 0 = no backoff. */
  readonly retryBackoff: number;
  /** See {@link TaskOptions.retryBackoffMax}. */
  readonly retryBackoffMax: number;
  /** See {@link TaskOptions.retryJitter}. */
  readonly retryJitter: boolean;
  /** See {@link TaskOptions.autoretryFor}. */
  readonly autoretryFor: readonly ErrorClass[];
  /** See {@link TaskOptions.dontAutoretryFor}. */
  readonly dontAutoretryFor: readonly ErrorClass[];
  /** See {@link TaskOptions.timeLimit}; undefined for none. */
  readonly timeLimit: number | undefined;
  /** See {@link TaskOptions.softTimeLimit}; undefined for none. */
  readonly softTimeLimit: number | undefined;
  /** See {@link TaskOptions.ignoreResult}. */
  readonly ignoreResult: boolean;
  /** See {@link TaskOptions.trackStarted}. */
  readonly trackStarted: boolean;
  /** See {@link TaskOptions.trackReceived}. */
  readonly trackReceived: boolean;
  /** See {@link TaskOptions.acksLate}. */
  readonly acksLate: boolean;
  /** See {@link TaskOptions.queue}; undefined: the App's `defaultQueue`. */
  readonly queue: string | undefined;
  /** See {@link TaskOptions.priority}; undefined for none. */
  readonly priority: number | undefined;
  /** As written (what `inspect registered` shows); null for none. */
  readonly rateLimit: RateLimit;
  /** See {@link TaskOptions.payload}; undefined: `@ValidateArgs()` metadata, if any. */
  readonly payload: PayloadOption | undefined;
}

export const DEFAULT_TASK_OPTIONS = {
  bind: false,
  maxRetries: 3,
  defaultRetryDelay: 180,
  retryBackoff: false,
  retryBackoffMax: 600,
  retryJitter: true,
  autoretryFor: [],
  dontAutoretryFor: [],
  ignoreResult: false,
  trackStarted: false,
  trackReceived: false,
  acksLate: true,
} as const satisfies TaskOptions;

/** The option names, in the order they are read from class fields. */
export const TASK_OPTION_KEYS = [
  'name',
  'bind',
  'maxRetries',
  'defaultRetryDelay',
  'retryBackoff',
  'retryBackoffMax',
  'retryJitter',
  'autoretryFor',
  'dontAutoretryFor',
  'timeLimit',
  'softTimeLimit',
  'ignoreResult',
  'trackStarted',
  'trackReceived',
  'acksLate',
  'queue',
  'priority',
  'rateLimit',
  'payload',
] as const satisfies ReadonlyArray<keyof TaskOptions>;

// ---- validation (class-validator) ----

function isErrorClass(value: unknown): boolean {
  return typeof value === 'function' && (value === Error || value.prototype instanceof Error);
}

function IsErrorClassList(): PropertyDecorator {
  return ValidateBy({
    name: 'isErrorClassList',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every(isErrorClass),
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must list Error classes (got ${describe(args?.value)})`,
    },
  });
}

function describe(value: unknown): string {
  if (!Array.isArray(value)) return typeof value;
  const bad = value.find((v) => !isErrorClass(v));
  return typeof bad === 'function'
    ? `class ${bad.name || '(anonymous)'}, which does not extend Error`
    : String(bad);
}

function IsBooleanOrNonNegativeNumber(): PropertyDecorator {
  return ValidateBy({
    name: 'isBooleanOrNonNegativeNumber',
    validator: {
      validate: (value: unknown) => typeof value === 'boolean' || (typeof value === 'number' && value >= 0),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be a boolean or a number ≥ 0`,
    },
  });
}

function rateLimitProblem(value: unknown): string | undefined {
  try {
    parseRateLimit(value as RateLimit);
    return undefined;
  } catch (error) {
    return isError(error) ? error.message : String(error);
  }
}

function IsRateLimit(): PropertyDecorator {
  return ValidateBy({
    name: 'isRateLimit',
    validator: {
      validate: (value: unknown) => rateLimitProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => rateLimitProblem(args?.value) ?? '',
    },
  });
}

function IsPayloadOption(): PropertyDecorator {
  return ValidateBy({
    name: 'isPayloadOption',
    validator: {
      validate: (value: unknown) => payloadOptionProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => payloadOptionProblem(args?.value) ?? '',
    },
  });
}

function IsBelowTimeLimit(): PropertyDecorator {
  return ValidateBy({
    name: 'isBelowTimeLimit',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const hard = (args?.object as TaskOptionsSchema).timeLimit;
        return typeof value !== 'number' || typeof hard !== 'number' || value < hard;
      },
      defaultMessage: (args?: ValidationArguments) =>
        `softTimeLimit (${args?.value}) must be less than timeLimit (${(args?.object as TaskOptionsSchema).timeLimit})`,
    },
  });
}

/** The class-validator rules of {@link TaskOptions}; unknown keys are refused. */
class TaskOptionsSchema {
  @IsOptional() @IsString() @IsNotEmpty() name?: string;
  @IsOptional() @IsBoolean() bind?: boolean;
  @IsOptional() @IsInt() @Min(0) maxRetries?: number;
  @IsOptional() @IsNumber() @Min(0) defaultRetryDelay?: number;
  @IsOptional() @IsBooleanOrNonNegativeNumber() retryBackoff?: boolean | number;
  @IsOptional() @IsNumber() @Min(0) retryBackoffMax?: number;
  @IsOptional() @IsBoolean() retryJitter?: boolean;
  @IsOptional() @IsArray() @IsErrorClassList() autoretryFor?: ErrorClass[];
  @IsOptional() @IsArray() @IsErrorClassList() dontAutoretryFor?: ErrorClass[];
  @IsOptional() @IsNumber() @IsPositive() timeLimit?: number;
  @IsOptional() @IsNumber() @IsPositive() @IsBelowTimeLimit() softTimeLimit?: number;
  @IsOptional() @IsBoolean() ignoreResult?: boolean;
  @IsOptional() @IsBoolean() trackStarted?: boolean;
  @IsOptional() @IsBoolean() trackReceived?: boolean;
  @IsOptional() @IsBoolean() acksLate?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() queue?: string;
  @IsOptional() @IsInt() @Min(0) @Max(255) priority?: number;
  @IsOptional() @IsRateLimit() rateLimit?: RateLimit;
  @IsOptional() @IsPayloadOption() payload?: PayloadOption;
}

/** Flattens class-validator errors into `{property, constraints}` with dotted paths. */
export function toIssues(errors: readonly ValidationError[], prefix = ''): ValidationIssue[] {
  return errors.flatMap((error) => {
    const property = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ property, constraints: { ...error.constraints } }] : [];
    return [...own, ...toIssues(error.children ?? [], property)];
  });
}

/**
 * Checks options against {@link TaskOptionsSchema}.
 * @param owner names the task in the error (class name or task name).
 * @throws InvalidTaskOptionsError naming the owner and each bad option.
 */
export function validateTaskOptions(owner: string, options: object): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidTaskOptionsError(owner, [
      { property: '(options)', constraints: { isObject: 'options must be an object' } },
    ]);
  }
  const errors = validateSync(Object.assign(new TaskOptionsSchema(), options), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (errors.length > 0) throw new InvalidTaskOptionsError(owner, toIssues(errors));
}

/** Picks the option fields that are set (not undefined) on a task instance. */
export function optionFieldsOf(instance: object): TaskOptions {
  const fields: Record<string, unknown> = {};
  for (const key of TASK_OPTION_KEYS) {
    const value = (instance as Record<string, unknown>)[key];
    if (value !== undefined) fields[key] = value;
  }
  return fields as TaskOptions;
}

/**
 * Merges the three layers (explicit > class fields > App defaults > built-in defaults) and validates the result.
 */
export function compileTaskOptions(
  owner: string,
  explicit: TaskOptions,
  fields: TaskOptions,
  appDefaults: TaskDefaults,
  fallbackName: string,
): CompiledTaskOptions {
  const merged: TaskOptions = { ...DEFAULT_TASK_OPTIONS, ...appDefaults, ...fields, ...explicit };
  validateTaskOptions(owner, merged);
  const backoff = merged.retryBackoff;
  return Object.freeze({
    name: merged.name ?? fallbackName,
    bind: merged.bind ?? DEFAULT_TASK_OPTIONS.bind,
    maxRetries: merged.maxRetries ?? DEFAULT_TASK_OPTIONS.maxRetries,
    defaultRetryDelay: merged.defaultRetryDelay ?? DEFAULT_TASK_OPTIONS.defaultRetryDelay,
    retryBackoff: backoff === true ? 1 : backoff === false || backoff === undefined ? 0 : backoff,
    retryBackoffMax: merged.retryBackoffMax ?? DEFAULT_TASK_OPTIONS.retryBackoffMax,
    retryJitter: merged.retryJitter ?? DEFAULT_TASK_OPTIONS.retryJitter,
    autoretryFor: [...(merged.autoretryFor ?? [])],
    dontAutoretryFor: [...(merged.dontAutoretryFor ?? [])],
    timeLimit: merged.timeLimit,
    softTimeLimit: merged.softTimeLimit,
    ignoreResult: merged.ignoreResult ?? DEFAULT_TASK_OPTIONS.ignoreResult,
    trackStarted: merged.trackStarted ?? DEFAULT_TASK_OPTIONS.trackStarted,
    trackReceived: merged.trackReceived ?? DEFAULT_TASK_OPTIONS.trackReceived,
    acksLate: merged.acksLate ?? DEFAULT_TASK_OPTIONS.acksLate,
    queue: merged.queue,
    priority: merged.priority,
    rateLimit: merged.rateLimit ?? null,
    payload: merged.payload,
  });
}
