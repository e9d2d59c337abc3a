import { setTimeout as sleepFor } from 'node:timers/promises';
import { Signature, type FullSignature, type HeadOf, type TailOf } from '../canvas/signature';
import { MaxRetriesExceededError, Retry } from '../errors';
import { getTaskLogger, type Logger } from '../logging/logger';
import type { BuiltinState, TaskState } from '../protocol/message';
import type { AsyncResult, DeclaredStates, NoStates } from '../result/async-result';
import type { ApplyOptions } from './apply-options';
import { bindingOf } from './binding';
import { retryDelaySeconds } from './retry-policy';
import { hostForClass, type TaskHost } from './task-host';
import type { CompiledTaskOptions, TaskOptions } from './options';
import { directRequest, runContext, type TaskRequest } from './request';

/** The error and its traceback text, passed to `onFailure`/`onRetry`/`afterReturn` (Celery's `einfo`). */
export interface ExceptionInfo {
  /** The error itself. */
  readonly exception: Error;
  /** Its type name (`error.name`), as stored in `exc_type`. */
  readonly type: string;
  /** Its stack text ('' when it has none). */
  readonly traceback: string;
}

/** Options of `this.retry()`. */
export interface RetryOptions {
  /**
   * The error that made the run fail (stored with the RETRY state, re-raised past the limit). @default none
   */
  exc?: Error;
  /**
   * Seconds until the next attempt. @default the task's retry delay: `defaultRetryDelay`, or the backoff
   * delay when `retryBackoff` is on
   */
  countdown?: number;
  /** When the next attempt is due (wins over `countdown`). @default none */
  eta?: Date;
  /** Overrides the task's `maxRetries` for this decision. @default the task's `maxRetries` */
  maxRetries?: number;
}

/** A concrete task class (what `@Task` decorates and what static methods receive as `this`). */
export type TaskClass<T extends BaseTask = BaseTask> = new () => T;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTask = BaseTask<any, any>;
/** The parameters of a task class's `run` (read from `run`, so a class that omits BaseTask's generics is typed too). */
export type ArgsOf<T> = T extends { run(...args: infer A): unknown } ? A : never;
/** The states a task may report: any without declared states, else the declared and built-in ones. */
export type StateName<TStates extends DeclaredStates> = [keyof TStates] extends [never]
  ? TaskState
  : (keyof TStates & string) | BuiltinState;
/** The meta a state of `TStates` carries (`unknown` for a built-in or undeclared state). */
export type StateMeta<TStates extends DeclaredStates, K> = K extends keyof TStates ? TStates[K] : unknown;
/** The custom states a task class declares (its third type parameter). */
export type StatesOf<T> =
  T extends Pick<BaseTask<never[], unknown, infer S>, 'declaredStates'> ? S : NoStates;
/** What a task class's `run` resolves to. */
export type ResultOf<T> = T extends { run(...args: never[]): infer R } ? Awaited<R> : never;

const EMPTY_REQUEST: TaskRequest = Object.freeze(directRequest('', '', [], ''));
const NEVER_ABORTED = new AbortController().signal;

/**
 * The option fields of a task class (declared once, in {@link TaskOptions}): undefined unless a subclass sets
 * them; once the task is registered in an App they hold the effective values.
 */
// Declaration merging gives the class TaskOptions' fields as optional members (no own properties are emitted);
// the type parameters must repeat the class's, unused here.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
export interface BaseTask<TArgs extends unknown[] = unknown[], TResult = unknown> extends TaskOptions {}

/**
 * Base class of class-based tasks. Subclass it, implement `run`, set options as fields or with `@Task({...})`.
 * One instance per App serves every run; per-run data (`request`, `signal`) comes from AsyncLocalStorage.
 *
 * @example
 * ```ts
 * @Task({ name: 'images.resize', maxRetries: 5, autoretryFor: [NetworkError] })
 * class Resize extends BaseTask<[string, number], string> {
 *   async run(url: string, width: number) {
 *     this.logger.info(`resizing ${url}`);
 *     return resizeTo(url, width, { signal: this.signal });
 *   }
 * }
 * const result = await Resize.delay('https://…/a.png', 320);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export abstract class BaseTask<
  TArgs extends unknown[] = unknown[],
  TResult = unknown,
  TStates extends DeclaredStates = NoStates,
> {
  /** Type-level only (never set): the custom states this task declares, as callers see them. */
  declare readonly declaredStates?: TStates;

  private ownLogger?: Logger;

  /** The task body. */
  abstract run(...args: TArgs): TResult | Promise<TResult>;

  /** Called after a successful run (the result is already stored). */
  onSuccess(
    _retval: TResult,
    _taskId: string,
    _args: unknown[],
    _kwargs: Record<string, unknown>,
  ): void | Promise<void> {}

  /** Called after a run failed for good (FAILURE stored). */
  onFailure(
    _exc: Error,
    _taskId: string,
    _args: unknown[],
    _kwargs: Record<string, unknown>,
    _einfo: ExceptionInfo,
  ): void | Promise<void> {}

  /** Called when a run ends in a retry (RETRY stored, next attempt sent). */
  onRetry(
    _exc: Error,
    _taskId: string,
    _args: unknown[],
    _kwargs: Record<string, unknown>,
    _einfo: ExceptionInfo,
  ): void | Promise<void> {}

  /** Called after every run, whatever its outcome. */
  afterReturn(
    _status: TaskState,
    _retval: unknown,
    _taskId: string,
    _args: unknown[],
    _kwargs: Record<string, unknown>,
    _einfo: ExceptionInfo | null,
  ): void | Promise<void> {}

  /** The App this instance is registered in (to send other tasks: `this.app.sendTask(...)`). */
  get app(): TaskHost {
    return bindingOf(this).host;
  }

  /** Effective options (after decorator > fields > App defaults). */
  get options(): CompiledTaskOptions {
    return bindingOf(this).options;
  }

  /** The current run's request; outside a run, an empty request. */
  get request(): TaskRequest {
    return runContext.getStore()?.request ?? EMPTY_REQUEST;
  }

  /** Aborts at the soft time limit (reason: `SoftTimeLimitExceeded`) and at the hard limit. Pass it to I/O. */
  get signal(): AbortSignal {
    return runContext.getStore()?.signal ?? NEVER_ABORTED;
  }

  /** A logger named after the class; lines logged during a run carry the task name and id. */
  get logger(): Logger {
    return (this.ownLogger ??= getTaskLogger(this.constructor.name));
  }
  /** Replaces this task's logger (e.g. with a child logger that adds fields). */
  set logger(logger: Logger) {
    this.ownLogger = logger;
  }

  /**
   * Ends this run and schedules the task again (state RETRY). Throws, so write `throw this.retry(...)` or
   * `return this.retry(...)` for readable control flow.
   * @throws Retry normally; MaxRetriesExceededError when the task was already retried `maxRetries` times.
   */
  retry(options: RetryOptions = {}): never {
    const context = runContext.getStore();
    if (!context || context.request.calledDirectly) {
      throw options.exc ?? new Retry('retry requested outside a worker run', undefined, Date.now());
    }
    const { request } = context;
    const compiled = this.options;
    const max = options.maxRetries ?? compiled.maxRetries;
    if (request.retries >= max) {
      throw new MaxRetriesExceededError(request.name, request.id, max, options.exc);
    }
    let when: number;
    if (options.eta) when = options.eta.getTime();
    else if (options.countdown !== undefined) when = Date.now() + options.countdown * 1000;
    else when = Date.now() + retryDelaySeconds(compiled, request.retries) * 1000;
    throw new Retry(`Retry in ${Math.max(0, Math.round(when - Date.now()))}ms`, options.exc, when);
  }

  /**
   * Reports a state of the current run, e.g. `updateState('PROGRESS', { percent: 40 })`. When the class
   * declares its states (third type parameter), only those (and the built-in ones) are accepted, each with
   * its meta type. No-op outside a worker run.
   */
  async updateState<K extends StateName<TStates>>(state: K, meta?: StateMeta<TStates, K>): Promise<void> {
    const context = runContext.getStore();
    if (!context?.reportState) return;
    await context.reportState(state, meta ?? null);
  }

  /**
   * Waits `ms` milliseconds, rejecting with the abort reason (e.g. `SoftTimeLimitExceeded`) when
   * `this.signal` aborts. (Times are seconds unless the name ends in `Ms`.)
   */
  async sleepMs(ms: number): Promise<void> {
    const signal = this.signal;
    try {
      await sleepFor(ms, undefined, { signal });
    } catch (error) {
      throw signal.aborted && signal.reason instanceof Error ? signal.reason : error;
    }
  }

  /** Sends the task with positional arguments; resolves once the broker has the message. */
  static delay<T extends AnyTask>(
    this: new () => T,
    ...args: ArgsOf<T>
  ): Promise<AsyncResult<Awaited<ResultOf<T>>, StatesOf<T>>> {
    return hostFor(this).applyTask(this as unknown as TaskClass, { args }) as unknown as Promise<
      AsyncResult<Awaited<ResultOf<T>>, StatesOf<T>>
    >;
  }

  /** Sends the task with full control (kwargs, id, countdown/eta, expires, queue, priority, headers). */
  static applyAsync<T extends AnyTask>(
    this: new () => T,
    options: ApplyOptions<ArgsOf<T>> = {},
  ): Promise<AsyncResult<Awaited<ResultOf<T>>, StatesOf<T>>> {
    return hostFor(this).applyTask(this as unknown as TaskClass, options) as unknown as Promise<
      AsyncResult<Awaited<ResultOf<T>>, StatesOf<T>>
    >;
  }

  /** A signature for workflows: `Add.s(2, 2)`, or every argument but the first (`Mul.s(4)` in a chain). */
  static readonly s: ClassSigns['s'] = function (this: TaskClass, ...args: unknown[]) {
    return signatureOf(this, args, false);
  } as ClassSigns['s'];

  /** An immutable signature: it ignores what a workflow passes (Celery's `.si()`). */
  static readonly si: ClassSigns['si'] = function (this: TaskClass, ...args: unknown[]) {
    return signatureOf(this, args, true);
  } as ClassSigns['si'];

  /** Runs the task body right here, in this process, as a plain call (Celery's `task()`); nothing is sent. */
  static runLocal<T extends AnyTask>(this: new () => T, ...args: ArgsOf<T>): Promise<Awaited<ResultOf<T>>> {
    const host = hostFor(this);
    return host.runLocal(host.getTask(this as unknown as TaskClass), args) as Promise<Awaited<ResultOf<T>>>;
  }
}

/** `Cls.s(...)` and `Cls.si(...)`, typed from the class's `run` (see `Signs` for function tasks). */
interface ClassSigns {
  s: {
    <T extends AnyTask>(
      this: new () => T,
      ...args: ArgsOf<T>
    ): FullSignature<ArgsOf<T>, Awaited<ResultOf<T>>>;
    <T extends AnyTask>(
      this: new () => T,
      ...args: TailOf<ArgsOf<T>>
    ): Signature<HeadOf<ArgsOf<T>>, Awaited<ResultOf<T>>, false>;
  };
  si<T extends AnyTask>(this: new () => T, ...args: ArgsOf<T>): Signature<[], Awaited<ResultOf<T>>, true>;
}

function signatureOf(cls: TaskClass, args: unknown[], immutable: boolean): Signature {
  const host = () => hostFor(cls);
  return new Signature(host().getTask(cls).options.name, args, {}, {}, immutable, host);
}

function hostFor(cls: { name: string }): TaskHost {
  return hostForClass(cls, `calling ${cls.name}.delay/applyAsync/runLocal`);
}
