/**
 * `@queue/core`: Celery-class background tasks for TypeScript. This entry is for applications: the App,
 * tasks, calling them, results and states, errors, logging. Transport and result-backend authors import
 * `@queue/core/transport`; tests import the in-memory broker from `@queue/core/testing`.
 *
 * @example Quick start (runs as is: the in-memory broker is the default)
 * ```ts
 * import { App, BaseTask, Task } from '@queue/core';
 *
 * const app = new App({ name: 'hello' });
 * const add = app.task({ name: 'add' }, (a: number, b: number) => a + b);
 *
 * @Task({ name: 'reports.build', maxRetries: 3 })
 * class BuildReport extends BaseTask<[number], string> {
 *   async run(id: number) {
 *     await this.updateState('PROGRESS', { percent: 50 });
 *     return `report-${id}.pdf`;
 *   }
 * }
 *
 * await app.worker({ concurrency: 4 }).start();
 * console.log(await (await add.delay(2, 3)).get({ timeout: 5 })); // 5
 * console.log(await (await BuildReport.delay(7)).get({ timeout: 5 })); // report-7.pdf
 * await app.close();
 * ```
 *
 * @module \@queue/core
 */
import 'reflect-metadata';

export { App } from './app/app';
export type { AppOptions, CompiledAppOptions } from './app/app-options';
export { currentApp } from './app/current-app';
export {
  Control,
  Inspect,
  type ControlCallOptions,
  type ControlReplies,
  type ControlTarget,
  type RevokeOptions,
  type TaskInfo,
} from './app/control';

export {
  BaseTask,
  type ArgsOf,
  type StateMeta,
  type StateName,
  type StatesOf,
  type ExceptionInfo,
  type ResultOf,
  type RetryOptions,
  type TaskClass,
} from './task/base-task';
export { Task, ValidateArgs, type TaskClassDecorator, type ValidateArgsDecorator } from './task/decorator';
export type {
  PayloadClass,
  PayloadOption,
  PayloadSchema,
  StandardSchemaIssue,
  StandardSchemaProps,
  StandardSchemaResult,
  StandardSchemaV1,
} from './task/payload-schema';
export {
  sharedTask,
  type BoundTask,
  type BoundTaskOptions,
  type TaskFunction,
  type UnboundTaskOptions,
} from './task/function-task';
export type { CompiledTaskOptions, ErrorClass, TaskDefaults, TaskOptions } from './task/options';
export type { ApplyOptions } from './task/apply-options';
export type { DeliveryInfo, TaskRequest } from './task/request';
export type { TaskHost } from './task/task-host';

export {
  AsyncResult,
  type AnyStateChange,
  type DeclaredStates,
  type GetOptions,
  type NoStates,
  type TypedStateChange,
  type StateChange,
  type TaskError,
} from './result/async-result';
export { GroupResult, type GroupStateChange } from './result/group-result';

export { Canvas } from './canvas/canvas';
export { Signature, type FullSignature, type HeadOf, type Signs, type TailOf } from './canvas/signature';
export type { SignatureDict, SignatureOptions } from './canvas/signature-dict';
export { Chain } from './canvas/chain';
export { Group } from './canvas/group';
export { Chord } from './canvas/chord';
export { chain, chord, group, type ResultsOf, type Step } from './canvas/workflows';
export type { CeleryEvent } from './protocol/celery-events';

export { Worker, type WorkerEvents, type WorkerOptions } from './worker/worker';
export type { ThreadAppModule } from './worker/pools/thread-protocol';
export { parseRateLimit, type RateLimit } from './worker/run/rate-limit';

export {
  EXCEPTION_STATES,
  READY_STATES,
  States,
  type JsonValue,
  type TaskEnvelope,
  type TaskState,
} from './protocol/message';

export { configureLogging, getTaskLogger, type Logger, type LoggingOptions } from './logging/logger';
export {
  LOG_LEVEL_NAMES,
  parseLogFormat,
  parseLogLevel,
  type LogFormat,
  type LogLevel,
} from './logging/levels';

export {
  ChordError,
  ChordNotSupportedError,
  ConfigurationError,
  CorruptResultError,
  DuplicateTaskError,
  Ignore,
  InvalidRateLimitError,
  InvalidTaskOptionsError,
  MaxRetriesExceededError,
  NotRegistered,
  PayloadTypesUnknownError,
  QueueError,
  Reject,
  RemoteTaskError,
  ResultTooLargeError,
  Retry,
  SoftTimeLimitExceeded,
  TaskRevokedError,
  TaskValidationError,
  TimeLimitExceeded,
  TimeoutError,
  TransportError,
  type ValidationIssue,
} from './errors';

// ---- periodic tasks (beat) ----
export {
  Beat,
  DEFAULT_SCHEDULE_FILE,
  type BeatApp,
  type BeatEntryStatus,
  type BeatEvents,
  type BeatOptions,
  type BeatRun,
} from './beat/beat';
export { crontab, CrontabSchedule, type CrontabFields } from './beat/crontab';
export type { CronField } from './beat/crontab-field';
export { every, IntervalSchedule } from './beat/interval';
export { isDue, type DueState, type Schedule } from './beat/schedule';
export type { BeatEntry, BeatEntryOptions, BeatScheduleEntry } from './beat/entries';
export { InvalidScheduleError, LockLostError } from './errors';
