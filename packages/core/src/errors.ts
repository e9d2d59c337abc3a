/**
 * Every error the framework throws. Names are stable (they travel on the wire as `exc_type` and are what
 * callers match on), so each class sets `name` explicitly instead of relying on minifiable class names.
 */

/** Base of every framework error; `code` is a stable, greppable identifier. */
export class QueueError extends Error {
  /**
   * A stable identifier of the error's kind (`TASK_RETRY`, `RESULT_TIMEOUT`, …): match on it, not on the
   * message.
   */
  readonly code: string = 'QUEUE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueError';
  }
}

// ---- control flow: what a task body (or the framework on its behalf) throws to steer its outcome ----

/** Thrown by `this.retry()`: the run ends and the task is sent again later (state RETRY). */
export class Retry extends QueueError {
  override readonly code = 'TASK_RETRY';
  constructor(
    message: string,
    /** The error that caused the retry, if any. */
    readonly exc: Error | undefined,
    /** When the next attempt is due (epoch ms). */
    readonly when: number,
  ) {
    super(message, { cause: exc });
    this.name = 'Retry';
  }
}

/** Thrown by a task to refuse its message: it is dead-lettered (or requeued when `requeue`), no state is stored. */
export class Reject extends QueueError {
  override readonly code = 'TASK_REJECT';
  constructor(
    /** Why the message was refused (put on the dead letter). */
    readonly reason = 'rejected by task',
    /** Put the message back on its queue instead of dead-lettering it. */
    readonly requeue = false,
  ) {
    super(reason);
    this.name = 'Reject';
  }
}

/** Thrown by a task to end its run without storing any state (the message is acked). */
export class Ignore extends QueueError {
  override readonly code = 'TASK_IGNORE';
  constructor(message = 'task ignored') {
    super(message);
    this.name = 'Ignore';
  }
}

/** Raised into a run at its soft time limit (the reason of `this.signal`); a task may catch it and clean up. */
export class SoftTimeLimitExceeded extends QueueError {
  override readonly code = 'SOFT_TIME_LIMIT_EXCEEDED';
  constructor(
    /** The soft limit that was reached, in seconds. */
    readonly seconds: number,
  ) {
    super(`soft time limit (${seconds}s) exceeded`);
    this.name = 'SoftTimeLimitExceeded';
  }
}

/** The run passed its hard time limit and was given up as FAILURE. */
export class TimeLimitExceeded extends QueueError {
  override readonly code = 'TIME_LIMIT_EXCEEDED';
  constructor(
    /** The hard limit that was reached, in seconds. */
    readonly seconds: number,
  ) {
    super(`hard time limit (${seconds}s) exceeded`);
    this.name = 'TimeLimitExceeded';
  }
}

/** `this.retry()` was called when the task had already been retried `maxRetries` times. */
export class MaxRetriesExceededError extends QueueError {
  override readonly code = 'MAX_RETRIES_EXCEEDED';
  constructor(
    /** The task's registered name. */
    readonly taskName: string,
    /** The id of the run that asked for one retry too many. */
    readonly taskId: string,
    /** The limit in force (the task's `maxRetries`, or the one given to `retry()`). */
    readonly maxRetries: number,
    cause?: unknown,
  ) {
    super(`Can't retry ${taskName}[${taskId}]: max retries (${maxRetries}) exceeded`, { cause });
    this.name = 'MaxRetriesExceededError';
  }
}

/** The task was revoked or had expired before it ran. */
export class TaskRevokedError extends QueueError {
  override readonly code = 'TASK_REVOKED';
  constructor(message: string) {
    super(message);
    this.name = 'TaskRevokedError';
  }
}

/**
 * A chord's header task failed or was revoked, so its body cannot run: stored as the body's FAILURE, as
 * Celery's `celery.exceptions.ChordError` (a Python caller rebuilds it as that class).
 */
export class ChordError extends QueueError {
  override readonly code = 'CHORD_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ChordError';
  }
}

/** A chord was applied on a result backend that cannot join one (`rpc://`, as in Celery); nothing was sent. */
export class ChordNotSupportedError extends QueueError {
  override readonly code = 'CHORD_NOT_SUPPORTED';
  constructor(backend: string) {
    super(
      `The ${backend} result backend does not support chords: use redis://, postgresql:// (or memory:// in tests) as resultBackend`,
    );
    this.name = 'ChordNotSupportedError';
  }
}

// ---- definition and input errors ----

/** No task of that name is registered (in this App, or on the worker that received it). */
export class NotRegistered extends QueueError {
  override readonly code = 'TASK_NOT_REGISTERED';
  constructor(
    /** The name nobody registered. */
    readonly taskName: string,
  ) {
    super(`Task of name '${taskName}' is not registered`);
    this.name = 'NotRegistered';
  }
}

/** An App option or URL is wrong. */
export class ConfigurationError extends QueueError {
  override readonly code: string = 'CONFIGURATION_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/**
 * A rate limit is not Celery's `null`, a number, or `"<float>/<s|m|h>"`. `problem` says what is wrong and
 * `part` is the offending piece (the unit for `unit`, the amount for `number`), which the `rate_limit`
 * control command turns into Celery's own error replies.
 */
export class InvalidRateLimitError extends ConfigurationError {
  override readonly code = 'INVALID_RATE_LIMIT';
  constructor(
    /** The rate limit as given. */
    readonly value: unknown,
    /** What is wrong: the unit, the amount, its range, or the value's type. */
    readonly problem: 'unit' | 'number' | 'range' | 'type',
    /** The offending piece of `value` (the unit for `unit`, the amount for `number`). */
    readonly part: string,
    detail: string,
  ) {
    super(
      `invalid rate limit ${typeof value === 'string' ? JSON.stringify(value) : String(value)}: ${detail}`,
    );
    this.name = 'InvalidRateLimitError';
  }
}

/** One failed constraint of a task option or payload property. */
export interface ValidationIssue {
  /** Dotted path of the property (e.g. `maxRetries`, `address.zip`). */
  readonly property: string;
  /** Constraint name (class-validator's, or a Standard Schema issue's `code`, else `invalid`) → message. */
  readonly constraints: Readonly<Record<string, string>>;
}

/** `property: message; message, property: ...` — one line for error messages. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.property}: ${Object.values(i.constraints).join('; ')}`).join(', ');
}

/** A task's options are invalid (raised when the task is defined or registered): a configuration error. */
export class InvalidTaskOptionsError extends ConfigurationError {
  override readonly code = 'INVALID_TASK_OPTIONS';
  constructor(
    /** The task (its class or registered name) whose options are wrong. */
    readonly taskName: string,
    /** Each option that failed, with the rules it broke. */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`Invalid options for task ${taskName}: ${describeIssues(issues)}`);
    this.name = 'InvalidTaskOptionsError';
  }
}

/** Two different tasks were given the same name; the message names both (and where each was defined). */
export class DuplicateTaskError extends QueueError {
  override readonly code = 'DUPLICATE_TASK';
  constructor(
    /** The name both tasks want. */
    readonly taskName: string,
    /** The task that has the name, e.g. `class SendEmail (src/mail.ts:12)`. */
    readonly registered?: string,
    /** The task refused, e.g. `function sendEmail (src/legacy.ts:40)`. */
    readonly refused?: string,
  ) {
    super(
      registered && refused
        ? `Task name '${taskName}' is taken: ${registered} has it, so ${refused} cannot be registered under it (rename one of them)`
        : `A different task is already registered under the name '${taskName}'`,
    );
    this.name = 'DuplicateTaskError';
  }
}

/**
 * `@ValidateArgs()` asks for payload validation but no parameter type is known to validate against
 * (decorator metadata not emitted, the DTO imported with `import type`, or standard decorators, which emit
 * none). Raised when the class is defined, so validation never switches itself off silently.
 */
export class PayloadTypesUnknownError extends ConfigurationError {
  override readonly code = 'PAYLOAD_TYPES_UNKNOWN';
  constructor(
    /** The task class and its task name, e.g. `class Signup (src/tasks.ts:12), task 'users.signup'`. */
    readonly task: string,
    /** Why nothing is known: no `design:paramtypes`, none of them a DTO class, or standard decorators. */
    readonly reason: 'no-metadata' | 'no-validated-type' | 'standard-decorators',
    detail: string,
  ) {
    super(
      `@ValidateArgs() on ${task} cannot validate anything: ${detail}. Enable emitDecoratorMetadata (with ` +
        'experimentalDecorators), import the DTO as a value (not `import type`), or use `payload:` ' +
        '(`@Task({ payload: Dto or a Standard Schema })`)',
    );
    this.name = 'PayloadTypesUnknownError';
  }
}

/**
 * The arguments of a run failed their payload schema (class-validator rules or a Standard Schema), before
 * sending or in the worker; never retried.
 */
export class TaskValidationError extends QueueError {
  override readonly code = 'TASK_VALIDATION_FAILED';
  constructor(
    /** The task whose arguments were refused. */
    readonly taskName: string,
    /** Each argument property that failed, with the rules it broke. */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`Invalid arguments for task ${taskName}: ${describeIssues(issues)}`);
    this.name = 'TaskValidationError';
  }
}

// ---- what the caller sees ----

/** A task failed in a worker (ours or Celery's); carries the original error's type, message and traceback. */
export class RemoteTaskError extends QueueError {
  override readonly code = 'REMOTE_TASK_FAILED';
  constructor(
    /** The original error's type name (`exc_type`), e.g. `ValueError`, `RangeError`. */
    readonly excType: string,
    /** The original error's message. */
    readonly excMessage: string,
    /** The module the error came from (`exc_module`), when the worker said. */
    readonly excModule: string | undefined,
    /** The worker-side traceback / stack text. */
    readonly traceback: string | undefined,
    /** The id of the task that failed. */
    readonly taskId: string,
  ) {
    // The message is the original one, as Celery's `str(exc)`; the type is in `excType` (and the name).
    super(excMessage);
    this.name = 'RemoteTaskError';
  }
}

/** Waiting for a result took longer than the given timeout. Same name as Celery's `celery.exceptions.TimeoutError`. */
export class TimeoutError extends QueueError {
  override readonly code = 'RESULT_TIMEOUT';
  constructor(
    /** The task whose result did not come. */
    readonly taskId: string,
    /** How long was waited, in seconds (the `timeout` given to `get()`). */
    readonly timeoutSeconds: number,
  ) {
    super(`The operation timed out: no result for task ${taskId} within ${timeoutSeconds}s`);
    this.name = 'TimeoutError';
  }
}

/** A stored result is not a task state document (written by something else, or damaged). */
export class CorruptResultError extends QueueError {
  override readonly code = 'RESULT_CORRUPT';
  constructor(
    /** The task whose stored result could not be read. */
    readonly taskId: string,
    detail: string,
  ) {
    super(`the stored result of task ${taskId} is not a task state document: ${detail}`);
    this.name = 'CorruptResultError';
  }
}

/** A task's result (or state meta) is larger than the App's `maxResultBytes`: it is not stored. */
export class ResultTooLargeError extends QueueError {
  override readonly code = 'RESULT_TOO_LARGE';
  constructor(
    /** The size of the result as JSON, in bytes. */
    readonly bytes: number,
    /** The App's `maxResultBytes`. */
    readonly limit: number,
  ) {
    super(
      `the result is ${bytes} bytes as JSON, over the limit of ${limit} (maxResultBytes); nothing was stored`,
    );
    this.name = 'ResultTooLargeError';
  }
}

// ---- messages and transports ----

/** A message could not be decoded as a Celery protocol-v2 task; `reason` is a stable code put on the dead letter. */
export class MessageDecodeError extends QueueError {
  override readonly code = 'MESSAGE_DECODE_FAILED';
  constructor(
    /** What is wrong with the message, as put on the dead letter. */
    readonly reason: MessageRejectReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'MessageDecodeError';
  }
}

/** Stable reason codes attached to dead-lettered messages. */
export type MessageRejectReason =
  | 'unsupported-content-type'
  | 'unsupported-content-encoding'
  | 'payload-too-large'
  | 'invalid-json'
  | 'too-deeply-nested'
  | 'missing-header'
  | 'invalid-header'
  | 'invalid-body'
  | 'unknown-task'
  | 'rejected-by-task'
  | 'internal-error';

/** The transport could not do what was asked (connection lost, publish not confirmed, ...). */
export class TransportError extends QueueError {
  override readonly code: string = 'TRANSPORT_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/**
 * True for errors from any realm (Node internals, vm contexts, worker threads), where `instanceof Error`
 * fails; a task's error must keep its type and message whatever created it.
 */
export function isError(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Error).name === 'string' &&
      typeof (value as Error).message === 'string')
  );
}

const CLASS_CHAIN = Symbol.for('queue.classChain');

/** Marks an error rebuilt from another thread with the class names it had there. */
export function setErrorClassChain(error: Error, chain: readonly string[]): void {
  Object.defineProperty(error, CLASS_CHAIN, { value: chain, enumerable: false });
}

/**
 * The class names an error was made of in another thread (empty for local errors): errors rebuilt from a
 * worker thread are plain Errors, and `autoretryFor` must still match their original classes by name.
 */
export function errorClassChain(error: object): readonly string[] {
  return (error as { [CLASS_CHAIN]?: string[] })[CLASS_CHAIN] ?? [];
}

// ---- periodic tasks (beat) ----

/** A beat schedule entry, interval, crontab or timezone is invalid; the message names the entry or field. */
export class InvalidScheduleError extends ConfigurationError {
  override readonly code = 'INVALID_SCHEDULE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidScheduleError';
  }
}

/** A publish made while holding a transport lock was refused because the lock is no longer held. */
export class LockLostError extends TransportError {
  override readonly code = 'LOCK_LOST';
  constructor(
    /** The name of the lock that was lost. */
    readonly lockName: string,
  ) {
    super(
      `the lock ${lockName} is no longer held (its connection dropped or it was released): not published`,
    );
    this.name = 'LockLostError';
  }
}
