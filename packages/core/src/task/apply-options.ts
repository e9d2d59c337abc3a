import {
  IsArray,
  IsDate,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  validateSync,
} from 'class-validator';
import { ConfigurationError, describeIssues } from '../errors';
import { toIssues } from './options';

/** Options of one call: `applyAsync({...})`, `app.sendTask(name, args, kwargs, {...})`. */
export interface ApplyOptions<TArgs extends unknown[] = unknown[]> {
  /** Positional arguments. @default `[]` */
  args?: TArgs;
  /** Keyword arguments (matched to parameter names; what Celery callers send). @default `{}` */
  kwargs?: Record<string, unknown>;
  /** The task id (set it to store the id before sending, e.g. on a database row). @default a random UUID */
  taskId?: string;
  /** Seconds from now before the task may run. @default none: it runs as soon as a worker takes it */
  countdown?: number;
  /** The earliest time the task may run (wins over `countdown`). @default none */
  eta?: Date;
  /**
   * Seconds from now, or a time, after which the task is revoked instead of run. @default none: it never
   * expires
   */
  expires?: number | Date;
  /** Destination queue. @default the task's queue, else the App's defaultQueue */
  queue?: string;
  /**
   * Message priority 0–255 (needs a queue declared with `x-max-priority`). @default the task's priority, else
   * 0
   */
  priority?: number;
  /** Extra message headers (travel with the task, visible as `this.request.headers`). @default `{}` */
  headers?: Record<string, unknown>;
}

function IsNumberOrDate(): PropertyDecorator {
  return ValidateBy({
    name: 'isNumberOrDate',
    validator: {
      validate: (value: unknown) =>
        (typeof value === 'number' && Number.isFinite(value)) ||
        (value instanceof Date && !Number.isNaN(value.getTime())),
      defaultMessage: () => 'expires must be seconds (number) or a valid Date',
    },
  });
}

class ApplyOptionsSchema {
  @IsOptional() @IsArray() args?: unknown[];
  @IsOptional() @IsObject() kwargs?: Record<string, unknown>;
  @IsOptional() @IsString() @IsNotEmpty() taskId?: string;
  @IsOptional() @IsNumber() @Min(0) countdown?: number;
  @IsOptional() @IsDate() eta?: Date;
  @IsOptional() @IsNumberOrDate() expires?: number | Date;
  @IsOptional() @IsString() @IsNotEmpty() queue?: string;
  @IsOptional() @IsInt() @Min(0) @Max(255) priority?: number;
  @IsOptional() @IsObject() headers?: Record<string, unknown>;
}

const isPlainObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isValidDate = (value: unknown): boolean => value instanceof Date && !Number.isNaN(value.getTime());
const isNonEmptyString = (value: unknown): boolean => typeof value === 'string' && value.length > 0;

/** The same rules as `ApplyOptionsSchema`, checked by hand: every call runs them, class-validator only for errors. */
const QUICK_CHECKS: Record<string, (value: unknown) => boolean> = {
  args: Array.isArray,
  kwargs: isPlainObject,
  taskId: isNonEmptyString,
  countdown: (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
  eta: isValidDate,
  expires: (value) => (typeof value === 'number' && Number.isFinite(value)) || isValidDate(value),
  queue: isNonEmptyString,
  priority: (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255,
  headers: isPlainObject,
};

function obviouslyValid(options: ApplyOptions): boolean {
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const check = QUICK_CHECKS[key];
    if (!check || !check(value)) return false;
  }
  return true;
}

/** @throws ConfigurationError naming the task and each bad option. */
export function validateApplyOptions(taskName: string, options: ApplyOptions): void {
  if (obviouslyValid(options)) return;
  const errors = validateSync(Object.assign(new ApplyOptionsSchema(), options), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (errors.length > 0) {
    const detail = describeIssues(toIssues(errors));
    throw new ConfigurationError(`Invalid call options for task ${taskName}: ${detail}`);
  }
}
