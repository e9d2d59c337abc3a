import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskState } from '../protocol/message';

/** How the message of the current run reached the worker. */
export interface DeliveryInfo {
  readonly exchange: string;
  readonly routingKey: string;
  readonly queue: string;
  readonly redelivered: boolean;
  readonly priority: number;
}

/** Everything about the current run of a task (Celery's `self.request`). */
export interface TaskRequest {
  readonly id: string;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** Retries so far: 0 on the first run. */
  readonly retries: number;
  readonly eta: string | null;
  readonly expires: string | null;
  readonly replyTo: string;
  readonly correlationId: string;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly group: string | null;
  /** The worker running it (`name@host`); for direct calls, this process. */
  readonly hostname: string;
  readonly origin: string;
  readonly ignoreResult: boolean;
  readonly timelimit: readonly [number | null, number | null];
  /** Headers beyond the protocol's own (user `headers`). */
  readonly headers: Readonly<Record<string, unknown>>;
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
