import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskState } from '../protocol/message';

/** How the message of the current run reached the worker. */
export interface DeliveryInfo {
  /** The exchange it was published to ('' for the default exchange). */
  readonly exchange: string;
  /** Its routing key (the queue name for direct sends). */
  readonly routingKey: string;
  /** The queue it was consumed from. */
  readonly queue: string;
  /** The broker delivered it before (the first delivery was not acked: a worker died, or it was requeued). */
  readonly redelivered: boolean;
  /** Its message priority (0 when none was given). */
  readonly priority: number;
}

/** Everything about the current run of a task (Celery's `self.request`). */
export interface TaskRequest {
  /** The task id (the same on every retry). */
  readonly id: string;
  /** The task's registered name. */
  readonly name: string;
  /** Positional arguments as received. */
  readonly args: readonly unknown[];
  /** Keyword arguments as received. */
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** Retries so far: 0 on the first run. */
  readonly retries: number;
  /** Not run before this time (ISO 8601), or null. */
  readonly eta: string | null;
  /** Revoked instead of run when received after this time (ISO 8601), or null. */
  readonly expires: string | null;
  /** Where the states of this run go (the rpc backend's reply queue); '' when nobody listens. */
  readonly replyTo: string;
  /** The id results are routed by (the task id). */
  readonly correlationId: string;
  /** The id of the first task of the workflow this run belongs to (its own id when sent on its own). */
  readonly rootId: string;
  /** The id of the task whose run sent this one, or null. */
  readonly parentId: string | null;
  /** The id of the group this task is part of, or null. */
  readonly group: string | null;
  /** The worker running it (`name@host`); for direct calls, this process. */
  readonly hostname: string;
  /** Who sent the task: `gen<pid>@<hostname>`, as Celery writes it. */
  readonly origin: string;
  /** The sender asked for no stored result. */
  readonly ignoreResult: boolean;
  /** `[hard, soft]` time limits in seconds sent with the message, each null when unset. */
  readonly timelimit: readonly [number | null, number | null];
  /** Headers beyond the protocol's own (user `headers`). */
  readonly headers: Readonly<Record<string, unknown>>;
  /** How the message reached the worker; null for direct calls and eager runs. */
  readonly deliveryInfo: DeliveryInfo | null;
  /** True when the task body was called in-process (`ping()`, `Cls.runLocal()`), not by a worker. */
  readonly calledDirectly: boolean;
}

/** The request of a body called in-process (`ping()`, `Cls.runLocal()`): no message, no worker. */
export function directRequest(
  id: string,
  name: string,
  args: readonly unknown[],
  hostname: string,
): TaskRequest {
  return {
    id,
    name,
    args,
    kwargs: {},
    retries: 0,
    eta: null,
    expires: null,
    replyTo: '',
    correlationId: '',
    rootId: '',
    parentId: null,
    group: null,
    hostname,
    origin: hostname,
    ignoreResult: false,
    timelimit: [null, null],
    headers: {},
    deliveryInfo: null,
    calledDirectly: true,
  };
}

/** Per-run data, kept in AsyncLocalStorage so concurrent runs of one task instance never see each other's. */
export interface RunContext {
  readonly request: TaskRequest;
  readonly signal: AbortSignal;
  /** Reports a state of this run (absent for direct calls, which have nowhere to report). */
  readonly reportState?: (state: TaskState, meta: unknown) => Promise<void>;
}

export const runContext = new AsyncLocalStorage<RunContext>();
