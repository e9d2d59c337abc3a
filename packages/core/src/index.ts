import 'reflect-metadata';

export { App } from './app/app';
export type { AppOptions, CompiledAppOptions } from './app/app-options';
export type { ApplyOptions } from './app/apply-options';
export { currentApp } from './app/current-app';
export {
  registerResultBackend,
  registerTransport,
  type ResultBackendContext,
  type ResultBackendFactory,
  type TransportContext,
  type TransportFactory,
} from './app/plugins';

export {
  BaseTask,
  type ExceptionInfo,
  type RetryOptions,
  type TaskClass,
  type ArgsOf,
  type ResultOf,
} from './task/base-task';
export { Task, ValidateArgs } from './task/decorator';
export { sharedTask, type BoundTask, type BoundTaskOptions, type TaskFunction } from './task/function-task';
export {
  DEFAULT_TASK_OPTIONS,
  type CompiledTaskOptions,
  type ErrorClass,
  type TaskDefaults,
  type TaskOptions,
} from './task/options';
export type { DeliveryInfo, TaskRequest } from './task/request';

export { AsyncResult, type GetOptions, type StateChange } from './result/async-result';
export type { ReplyTarget, ResultBackend } from './result/result-backend';
export { MemoryResultBackend } from './result/memory-result-backend';
export { StateListeners } from './result/state-listeners';

export { Worker, type WorkerEvents, type WorkerOptions } from './worker/worker';
export { processHolds } from './runtime/process-hold';
export type { ThreadAppModule } from './worker/pools/thread-protocol';
export { retryDelaySeconds } from './worker/retry-policy';

export type { ConsumeOptions, Consumer, Delivery, PublishOptions, Transport } from './transport/transport';
export type { ControlChannel, ControlCommand, ControlReply } from './transport/control';
export type { TaskSnapshot } from './worker/monitor';
export { MemoryTransport } from './transport/memory/memory-transport';
export { MemoryBroker, type DeadLetter } from './transport/memory/memory-broker';

export {
  READY_STATES,
  EXCEPTION_STATES,
  States,
  type BuiltinState,
  type JsonValue,
  type MessageProperties,
  type SerializedError,
  type StateMessage,
  type TaskEmbed,
  type TaskEnvelope,
  type TaskState,
  type WireMessage,
} from './protocol/message';
export { decodeTaskMessage, encodeTaskMessage, EMPTY_EMBED, ORIGIN, reprOf } from './protocol/task-codec';
export {
  decodeStateMessage,
  deserializeError,
  encodeStateMessage,
  serializeError,
} from './protocol/result-codec';
export { DEFAULT_JSON_LIMITS, parseJsonBody, type JsonLimits } from './protocol/json';

export {
  configureLogging,
  getTaskLogger,
  rootLogger,
  type LogFormat,
  type LoggingOptions,
  type LogTransport,
} from './logging/logger';
export type { Logger } from 'winston';

export {
  ConfigurationError,
  DuplicateTaskError,
  Ignore,
  InvalidTaskOptionsError,
  MaxRetriesExceededError,
  MessageDecodeError,
  NotRegistered,
  QueueError,
  Reject,
  RemoteTaskError,
  Retry,
  SoftTimeLimitExceeded,
  TaskRevokedError,
  TaskValidationError,
  TimeLimitExceeded,
  TimeoutError,
  TransportError,
  type MessageRejectReason,
  type ValidationIssue,
} from './errors';
