import { ConfigurationError } from '../errors';
import type { JsonValue } from '../protocol/message';
import type { LimitedSet } from '../runtime/limited-set';
import type { ControlChannel, ControlCommand } from '../transport/control';
import type { Transport } from '../transport/transport';

/** Which workers a command is for, and how long to wait for their replies. */
export interface ControlTarget {
  /** Worker hostnames (`name@host`). @default every worker */
  destination?: string[];
  /**
   * With `matcher`: the workers whose hostname matches (`glob`: `w*@host`; `pcre`: a regular expression).
   * @default none (every worker, unless `destination` names some)
   */
  pattern?: string;
  /**
   * How `pattern` is read: `glob` (fnmatch: `*`, `?`, `[seq]`) or `pcre` (a regular expression anchored at the
   * start). @default none: without a matcher, `pattern` is ignored and every worker is addressed
   */
  matcher?: 'glob' | 'pcre';
  /** Seconds to wait for the next reply (the wait restarts with each one). @default 1 */
  timeout?: number;
  /** Stop after this many replies. @default the number of destinations, if given */
  limit?: number;
}

/** A control command's options: whether to wait for replies (Celery's `reply=True`). */
export interface ControlCallOptions extends ControlTarget {
  /** Wait for the workers' replies; otherwise the command is sent and `{}` returned. @default false */
  reply?: boolean;
}

/** Options of `app.control.revoke()` and `AsyncResult.revoke()`. */
export interface RevokeOptions extends ControlCallOptions {
  /** Also stop the task if it is running: its AbortSignal fires and it ends REVOKED. @default false */
  terminate?: boolean;
  /** Reported as the signal (`SIGTERM`, `SIGKILL`, a number); tasks are stopped the same way. @default 'SIGTERM' */
  signal?: string | number;
}

/** Replies by worker hostname, as Celery's `app.control` returns them (`{"w1@host": {"ok": "pong"}}`). */
export type ControlReplies<T = JsonValue> = Record<string, T>;

/** Celery's `Request.info()` of a task a worker holds (`active`, `reserved`, `query_task`). */
export interface TaskInfo {
  /** The task id. */
  id: string;
  /** The task name. */
  name: string;
  /** Positional arguments (a repr string with `active({ safe: true })`). */
  args: JsonValue;
  /** Keyword arguments (a repr string with `active({ safe: true })`). */
  kwargs: JsonValue;
  /** The task type: its name again (Celery's `type`). */
  type: string;
  /** The worker holding the task (`name@host`). */
  hostname: string;
  /** Epoch seconds the task started, or null. */
  time_start: number | null;
  /** Whether the message was acked already (early ack, `acksLate: false`). */
  acknowledged: boolean;
  /** Where the message came from. */
  delivery_info: {
    /** The exchange it was published to ('' for the default exchange). */
    exchange: string;
    /** Its routing key (the queue name for direct sends). */
    routing_key: string;
    /** Its message priority. */
    priority: number;
    /** The broker delivered it before (to this or another consumer). */
    redelivered: boolean;
  };
  /** The process id of the worker. */
  worker_pid: number;
  [key: string]: JsonValue;
}

/** What the App gives its control. */
interface ControlHost {
  readonly transport: Transport;
  readonly revocations: LimitedSet;
  connect(): Promise<void>;
}

/**
 * Celery's remote control (`app.control`): commands to running workers, ours and Python ones alike, over
 * the broker's pidbox (see `@queue/amqp`). `inspect()` asks; the other methods act.
 *
 * @example
 * ```ts
 * await app.control.revoke(taskId, { terminate: true });
 * const active = await app.control.inspect({ timeout: 2 }).active();
 * ```
 */
export class Control {
  constructor(private readonly host: ControlHost) {}

  /** Sends any command by Celery's name (`ping`, `rate_limit`, …) with its keyword arguments. */
  async broadcast(
    method: string,
    args: Record<string, JsonValue> = {},
    options: ControlCallOptions = {},
  ): Promise<ControlReplies> {
    const channel = this.channel();
    await this.host.connect();
    const command: ControlCommand = {
      method,
      arguments: args,
      destination: options.destination?.length ? [...options.destination] : null,
      pattern: options.pattern ?? null,
      matcher: options.matcher ?? null,
    };
    const timeoutMs = (options.timeout ?? 1) * 1000;
    const limit = options.limit ?? (options.destination?.length || undefined);
    const replies = await channel.broadcast(command, { reply: options.reply ?? false, timeoutMs, limit });
    const byHostname: ControlReplies = {};
    for (const { hostname, reply } of replies) byHostname[hostname] = reply;
    return byHostname;
  }

  /** Asks running workers about their state. */
  inspect(target: ControlTarget = {}): Inspect {
    return new Inspect(this, target);
  }

  /**
   * Revokes tasks everywhere: this process's workers at once, and every running worker through the
   * broker. A revoked task still queued is discarded (REVOKED) when a worker receives it; with
   * `terminate`, a running one is stopped.
   */
  async revoke(taskIds: string | readonly string[], options: RevokeOptions = {}): Promise<ControlReplies> {
    const ids = typeof taskIds === 'string' ? [taskIds] : [...taskIds];
    for (const id of ids) this.host.revocations.add(id);
    if (!this.host.transport.control) return {};
    return this.broadcast(
      'revoke',
      { task_id: ids, terminate: options.terminate ?? false, signal: options.signal ?? 'SIGTERM' },
      options,
    );
  }

  /** Revoke with `terminate`. */
  terminate(
    taskIds: string | readonly string[],
    signal: string | number = 'SIGTERM',
    options: ControlCallOptions = {},
  ): Promise<ControlReplies> {
    return this.revoke(taskIds, { ...options, terminate: true, signal });
  }

  /** Asks the workers to answer (`{ ok: 'pong' }` each): who is alive. */
  ping(target: ControlTarget = {}): Promise<ControlReplies> {
    return this.broadcast('ping', {}, { ...target, reply: true });
  }

  /** Sets a task's rate limit on the workers (`'10/m'`; null: none), by Celery's `rate_limit`. */
  rateLimit(
    taskName: string,
    rate: string | number | null,
    options: ControlCallOptions = {},
  ): Promise<ControlReplies> {
    return this.broadcast('rate_limit', { task_name: taskName, rate_limit: rate }, options);
  }

  /** Changes the time limits (seconds; null: none) of a task on the workers. */
  timeLimit(
    taskName: string,
    limits: { soft?: number | null; hard?: number | null },
    options: ControlCallOptions = {},
  ): Promise<ControlReplies> {
    return this.broadcast(
      'time_limit',
      { task_name: taskName, soft: limits.soft ?? null, hard: limits.hard ?? null },
      options,
    );
  }

  /** Makes the workers consume one more queue (Celery's `add_consumer`). */
  addConsumer(queue: string, options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('add_consumer', { queue }, options);
  }

  /** Makes the workers stop consuming a queue (Celery's `cancel_consumer`). */
  cancelConsumer(queue: string, options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('cancel_consumer', { queue }, options);
  }

  /** Raises the workers' concurrency by `n` (Celery's `pool_grow`). */
  poolGrow(n = 1, options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('pool_grow', { n }, options);
  }

  /** Lowers the workers' concurrency by `n` (Celery's `pool_shrink`). */
  poolShrink(n = 1, options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('pool_shrink', { n }, options);
  }

  /** Turns the workers' task events on (Celery's `enable_events`). */
  enableEvents(options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('enable_events', {}, options);
  }

  /** Turns the workers' task events off (Celery's `disable_events`). */
  disableEvents(options: ControlCallOptions = {}): Promise<ControlReplies> {
    return this.broadcast('disable_events', {}, options);
  }

  /** Warm shutdown of the workers (they never reply). */
  async shutdown(options: ControlTarget = {}): Promise<void> {
    await this.broadcast('shutdown', {}, { ...options, reply: false });
  }

  private channel(): ControlChannel {
    const channel = this.host.transport.control;
    if (!channel)
      throw new ConfigurationError(`the broker ${this.host.transport.displayUrl} has no remote control`);
    return channel;
  }
}

/** Celery's `app.control.inspect()`: each method asks the targeted workers and returns replies by hostname. */
export class Inspect {
  constructor(
    private readonly control: Control,
    private readonly target: ControlTarget,
  ) {}

  private ask<T>(method: string, args: Record<string, JsonValue> = {}): Promise<ControlReplies<T>> {
    return this.control.broadcast(method, args, { ...this.target, reply: true }) as Promise<
      ControlReplies<T>
    >;
  }

  /** Who is alive: each worker answers `{ ok: 'pong' }`. */
  ping(): Promise<
    ControlReplies<{
      /** Always `pong`. */
      ok: 'pong';
    }>
  > {
    return this.ask('ping');
  }

  /** Counters, pool, broker, rusage (Celery's `stats` layout). */
  stats(): Promise<ControlReplies<Record<string, JsonValue>>> {
    return this.ask('stats');
  }

  /** Running tasks; with `safe`, args and kwargs as repr strings. */
  active({ safe = false }: { safe?: boolean } = {}): Promise<ControlReplies<TaskInfo[]>> {
    return this.ask('active', { safe });
  }

  /** Received, waiting for a free slot. */
  reserved(): Promise<ControlReplies<TaskInfo[]>> {
    return this.ask('reserved');
  }

  /** Held in memory until their ETA. */
  scheduled(): Promise<
    ControlReplies<
      Array<{
        /** When the task is due (ISO 8601), or null. */
        eta: string | null;
        /** Its message priority. */
        priority: number;
        /** The task. */
        request: TaskInfo;
      }>
    >
  > {
    return this.ask('scheduled');
  }

  /** Task names (with `items`, e.g. `time_limit`, the attributes that are set: `name [time_limit=5]`). */
  registered(...items: string[]): Promise<ControlReplies<string[]>> {
    return this.ask('registered', items.length > 0 ? { taskinfoitems: items } : {});
  }

  /** The task ids each worker holds revoked. */
  revoked(): Promise<ControlReplies<string[]>> {
    return this.ask('revoked');
  }

  /** Where each task is: `active`, `reserved`, or `ready` (finished here, with its final `state`). */
  queryTask(...ids: string[]): Promise<ControlReplies<Record<string, [string, TaskInfo]>>> {
    return this.ask('query_task', { ids });
  }

  /** The queues each worker consumes, in kombu's queue layout (`name`, `exchange`, `routing_key`, …). */
  activeQueues(): Promise<ControlReplies<Array<Record<string, JsonValue>>>> {
    return this.ask('active_queues');
  }

  /** Each worker's Lamport clock. */
  clock(): Promise<
    ControlReplies<{
      /** The clock's value. */
      clock: number;
    }>
  > {
    return this.ask('clock');
  }

  /** Each worker's configuration, in Celery's setting names. */
  conf(): Promise<ControlReplies<Record<string, JsonValue>>> {
    return this.ask('conf');
  }
}
