import type { CompiledAppOptions } from '../../app/app-options';
import type { JsonValue } from '../../protocol/message';
import { clock } from '../../runtime/lamport-clock';
import type { LimitedSet } from '../../runtime/limited-set';
import { SW_IDENT, VERSION } from '../../runtime/version';
import type { BaseTask } from '../../task/base-task';
import type { ControlCommand } from '../../transport/control';
import { InvalidRateLimitError } from '../../errors';
import type { TimeLimits } from '../run/execute';
import { parseRateLimit, type RateLimit } from '../run/rate-limit';
import { signalNumber } from '../run/termination';
import type { WorkerMonitor } from '../monitor';
import { brokerInfo, resourceUsage } from './broker-info';
import { queryState, taskInfo } from './task-info';

/** What remote control reads from and does to a worker (the Worker, seen from here). */
export interface ControlledWorker {
  readonly hostname: string;
  readonly pool: 'async' | 'threads';
  readonly concurrency: number;
  readonly prefetch: number;
  readonly queues: readonly string[];
  readonly uptimeSeconds: number;
  readonly monitor: WorkerMonitor;
  readonly app: {
    readonly taskNames: readonly string[];
    readonly revocations: LimitedSet;
    readonly transport: { readonly displayUrl: string };
    readonly conf: Pick<
      CompiledAppOptions,
      'defaultQueue' | 'taskSendSentEvent' | 'resultExpires' | 'workerDisableRateLimits'
    >;
    findTask(name: string): BaseTask | undefined;
  };
  /** Stops the runs of these ids (running or reserved here); returns the ids it found. */
  terminate(ids: readonly string[], signum: number): string[];
  setTimeLimits(taskName: string, limits: TimeLimits): void;
  /** Sets (falsy: clears) a task's rate limit on this worker; the rate was checked already. */
  setRateLimit(taskName: string, rate: RateLimit): void;
  /** The task's rate limit in force here, as written (null: none). */
  rateLimitOf(taskName: string): RateLimit;
  /** Revoked: the tasks of these ids that wait for their rate limit are discarded now. */
  discardWaiting(ids: readonly string[]): void;
  addQueue(queue: string): Promise<boolean>;
  cancelQueue(queue: string): Promise<boolean>;
  /** Changes the concurrency (and prefetch) by `delta`; false when the pool cannot. */
  resizePool(delta: number): Promise<boolean>;
  /** Time limits set by `time_limit`, if any. */
  timeLimitsOf(taskName: string): TimeLimits | undefined;
  readonly taskEvents: boolean;
  setTaskEvents(enabled: boolean): void;
  sendHeartbeat(): void;
  /** Warm shutdown, asked for remotely. */
  requestShutdown(message: string | null): void;
}

/** A reply of Celery's shape for a failed command: `{"error": "KeyError('x')"}`. */
export function errorReply(kind: string, message: string): { error: string } {
  return { error: `${kind}(${pythonString(message)})` };
}

/** Python's `repr` of a str: single quotes, or double quotes when the text has a ' and no ". */
function pythonString(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\');
  if (text.includes("'") && !text.includes('"')) return `"${escaped}"`;
  return `'${escaped.replace(/'/g, "\\'")}'`;
}

/** A handler's own argument error: becomes an error reply, never an exception in the worker. */
class ArgumentError extends Error {
  constructor(
    readonly kind: 'TypeError' | 'ValueError',
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

type Arguments = Record<string, JsonValue>;
type Handler = (
  worker: ControlledWorker,
  args: Arguments,
) => JsonValue | undefined | Promise<JsonValue | undefined>;

function stringList(value: JsonValue | undefined, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))
    throw new ArgumentError('TypeError', `${name} must be a string or a list of strings`);
  return list as string[];
}

function requiredString(args: Arguments, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value === '')
    throw new ArgumentError('TypeError', `missing required argument: '${name}'`);
  return value;
}

function optionalSeconds(value: JsonValue | undefined, name: string): number | null {
  if (value === null || value === undefined) return null;
  const seconds = typeof value === 'string' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0)
    throw new ArgumentError('ValueError', `${name} must be a positive number of seconds or null`);
  return seconds;
}

function poolDelta(args: Arguments): number {
  const n = args.n ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw new ArgumentError('ValueError', 'n must be a positive integer');
  return n;
}

function revoke(worker: ControlledWorker, args: Arguments): JsonValue {
  const ids = stringList(args.task_id, 'task_id');
  const signum = signalNumber(args.signal);
  if (signum === undefined)
    throw new ArgumentError('ValueError', `unknown signal ${JSON.stringify(args.signal)}`);
  for (const id of new Set(ids)) worker.app.revocations.add(id);
  worker.discardWaiting(ids);
  if (args.terminate === true) {
    const found = worker.terminate(ids, signum);
    return { ok: `terminate: ${found.length > 0 ? found.join(', ') : 'tasks unknown'}` };
  }
  return { ok: `tasks ${[...new Set(ids)].join(', ')} flagged as revoked` };
}

/** The task attributes `registered` can show, by Celery's names. */
function taskAttribute(
  task: BaseTask,
  item: string,
  limits: TimeLimits | undefined,
  rate: RateLimit,
): JsonValue | undefined {
  const options = task.options;
  const attributes: Record<string, JsonValue | undefined> = {
    rate_limit: rate,
    queue: options.queue,
    time_limit: limits ? limits.hard : options.timeLimit,
    soft_time_limit: limits ? limits.soft : options.softTimeLimit,
    max_retries: options.maxRetries,
    acks_late: options.acksLate,
    ignore_result: options.ignoreResult,
    priority: options.priority,
  };
  return attributes[item];
}

/** What `registered` shows when not told (Celery's `DEFAULT_TASK_INFO_ITEMS`). */
const DEFAULT_TASK_INFO_ITEMS = ['exchange', 'routing_key', 'rate_limit'];

function registered(worker: ControlledWorker, args: Arguments): JsonValue {
  const given = args.taskinfoitems === undefined || args.taskinfoitems === null ? [] : args.taskinfoitems;
  const listed = stringList(given, 'taskinfoitems');
  const items = listed.length > 0 ? listed : DEFAULT_TASK_INFO_ITEMS;
  return [...worker.app.taskNames].sort().map((name) => {
    const task = worker.app.findTask(name);
    const shown = task
      ? items.flatMap((item) => {
          const value = taskAttribute(task, item, worker.timeLimitsOf(name), worker.rateLimitOf(name));
          return value === undefined || value === null ? [] : [`${item}=${String(value)}`];
        })
      : [];
    return shown.length > 0 ? `${name} [${shown.join(' ')}]` : name;
  });
}

/**
 * Celery's `rate_limit`, replies and their order included: the rate is checked first (a bad unit is the
 * KeyError that escapes Celery's ValueError check), then the task; the reply says "disabled" when the rate
 * given is falsy in Python (so `"0"`, a truthy string, says "set" although it limits nothing, as in Celery).
 */
function rateLimit(worker: ControlledWorker, args: Arguments): JsonValue {
  const name = requiredString(args, 'task_name');
  if (!Object.hasOwn(args, 'rate_limit'))
    throw new ArgumentError('TypeError', "missing required argument: 'rate_limit'");
  const rate = args.rate_limit;
  if (rate !== null && typeof rate !== 'string' && typeof rate !== 'number')
    throw new ArgumentError('TypeError', 'rate_limit must be a string, a number or null');
  try {
    parseRateLimit(rate);
  } catch (error) {
    if (!(error instanceof InvalidRateLimitError)) throw error;
    if (error.problem === 'unit') return errorReply('KeyError', error.part);
    const pythonMessage =
      error.problem === 'number'
        ? `could not convert string to float: ${pythonString(error.part)}`
        : error.message;
    return { error: `Invalid rate limit string: ValueError(${pythonString(pythonMessage)})` };
  }
  if (!worker.app.findTask(name)) return { error: 'unknown task' };
  worker.setRateLimit(name, rate);
  return rate === null || rate === 0 || rate === ''
    ? { ok: 'rate limit disabled successfully' }
    : { ok: 'new rate limit set successfully' };
}

function stats(worker: ControlledWorker): JsonValue {
  return {
    total: { ...worker.monitor.counts },
    pid: process.pid,
    clock: String(clock.current),
    uptime: worker.uptimeSeconds,
    pool: {
      'max-concurrency': worker.concurrency,
      processes: [process.pid],
      'max-tasks-per-child': 'N/A',
      'put-guarded-by-semaphore': false,
      timeouts: [0, 0],
      implementation: worker.pool,
    },
    broker: brokerInfo(worker.app.transport.displayUrl),
    prefetch_count: worker.prefetch,
    rusage: resourceUsage(),
    sw_ident: SW_IDENT,
    sw_ver: VERSION,
  };
}

/** kombu's `Queue.as_dict(recurse=True)` for a queue we consume (Celery 5's topology, PROTOCOL.md). */
function queueDescription(name: string): JsonValue {
  return {
    name,
    exchange: {
      name: '',
      type: 'direct',
      arguments: null,
      durable: true,
      passive: false,
      auto_delete: false,
      delivery_mode: null,
      no_declare: false,
    },
    routing_key: name,
    queue_arguments: null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: true,
    exclusive: false,
    auto_delete: false,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  };
}

/** The settings `conf` shows (Flower's config tab), by Celery's names where one exists. */
function conf(worker: ControlledWorker): JsonValue {
  const { conf: settings, transport } = worker.app;
  return {
    broker_url: transport.displayUrl,
    task_default_queue: settings.defaultQueue,
    task_send_sent_event: settings.taskSendSentEvent,
    worker_send_task_events: worker.taskEvents,
    worker_concurrency: worker.concurrency,
    worker_prefetch_count: worker.prefetch,
    worker_pool: worker.pool,
    worker_disable_rate_limits: settings.workerDisableRateLimits,
    result_expires: settings.resultExpires,
  };
}

const HANDLERS: Record<string, Handler> = {
  ping: () => ({ ok: 'pong' }),
  clock: () => ({ clock: clock.current }),
  stats: (worker) => stats(worker),
  registered,
  active: (worker, args) =>
    worker.monitor
      .inState('STARTED')
      .map((tracked) => taskInfo(tracked, worker.hostname, args.safe === true)),
  reserved: (worker, args) =>
    worker.monitor
      .inState('RECEIVED')
      .map((tracked) => taskInfo(tracked, worker.hostname, args.safe === true)),
  scheduled: (worker) =>
    worker.monitor.inState('SCHEDULED').map((tracked) => ({
      eta: tracked.eta,
      priority: tracked.priority,
      request: taskInfo(tracked, worker.hostname),
    })),
  revoked: (worker) => worker.app.revocations.ids(),
  query_task: (worker, args) => {
    const found: Record<string, JsonValue> = {};
    for (const id of stringList(args.ids ?? [], 'ids')) {
      const tracked = worker.monitor.find(id);
      if (tracked) found[id] = [queryState(tracked), taskInfo(tracked, worker.hostname)];
    }
    return found;
  },
  active_queues: (worker) => worker.queues.map(queueDescription),
  conf: (worker) => conf(worker),
  report: (worker) => ({
    ok: `software -> ${SW_IDENT}:${VERSION} node:${process.version}\nplatform -> ${process.platform} ${process.arch}\nbroker -> ${worker.app.transport.displayUrl}\n`,
  }),
  hello: (worker, args) => {
    if (args.from_node === worker.hostname) return null;
    const theirs = args.revoked;
    if (theirs && typeof theirs === 'object' && !Array.isArray(theirs)) {
      for (const id of Object.keys(theirs).slice(0, worker.app.revocations.maxlen))
        worker.app.revocations.add(id);
    }
    const revoked: Record<string, JsonValue> = {};
    for (const [id, at] of worker.app.revocations.entries()) revoked[id] = [at / 1000, id];
    return { revoked, clock: clock.forward() };
  },
  revoke,
  terminate: (worker, args) => revoke(worker, { ...args, terminate: true }),
  rate_limit: (worker, args) => rateLimit(worker, args),
  time_limit: (worker, args): JsonValue => {
    const name = requiredString(args, 'task_name');
    if (!worker.app.findTask(name)) return { error: 'unknown task' };
    const limits = { hard: optionalSeconds(args.hard, 'hard'), soft: optionalSeconds(args.soft, 'soft') };
    if (limits.hard !== null && limits.soft !== null && limits.soft >= limits.hard)
      throw new ArgumentError('ValueError', 'soft must be less than hard');
    worker.setTimeLimits(name, limits);
    return { ok: 'time limits set successfully' };
  },
  add_consumer: async (worker, args) => {
    const queue = requiredString(args, 'queue');
    return (await worker.addQueue(queue))
      ? { ok: `add consumer ${queue}` }
      : { ok: `already consuming from ${JSON.stringify(queue)}` };
  },
  cancel_consumer: async (worker, args) => {
    const queue = requiredString(args, 'queue');
    await worker.cancelQueue(queue);
    return { ok: `no longer consuming from ${queue}` };
  },
  pool_grow: async (worker, args) =>
    (await worker.resizePool(poolDelta(args)))
      ? { ok: 'pool will grow' }
      : errorReply('NotImplementedError', `pool_grow is not supported by the ${worker.pool} pool`),
  pool_shrink: async (worker, args) =>
    (await worker.resizePool(-poolDelta(args)))
      ? { ok: 'pool will shrink' }
      : errorReply('NotImplementedError', `pool_shrink is not supported by the ${worker.pool} pool`),
  autoscale: () => errorReply('ValueError', 'Autoscale not enabled'),
  pool_restart: () => errorReply('ValueError', 'Pool restarts not enabled'),
  enable_events: (worker) => {
    const already = worker.taskEvents;
    worker.setTaskEvents(true);
    return { ok: already ? 'task events already enabled' : 'task events enabled' };
  },
  disable_events: (worker) => {
    const already = !worker.taskEvents;
    worker.setTaskEvents(false);
    return { ok: already ? 'task events already disabled' : 'task events disabled' };
  },
  heartbeat: (worker) => {
    worker.sendHeartbeat();
    return null;
  },
  shutdown: (worker, args) => {
    worker.requestShutdown(typeof args.msg === 'string' ? args.msg : null);
    return undefined; // never replies, as Celery
  },
  election: () => undefined, // gossip's leader election: cast only, and we take no part
};

const ALIASES: Record<string, string> = {
  dump_tasks: 'registered',
  dump_active: 'active',
  dump_reserved: 'reserved',
  dump_schedule: 'scheduled',
  dump_revoked: 'revoked',
  dump_conf: 'conf',
};

/**
 * A worker's answer to one remote-control command, in Celery's reply shapes (PROTOCOL-2 §2.4–2.5);
 * undefined means no reply (`shutdown`). Never throws: an unknown command or bad arguments become Celery's
 * `{"error": …}` reply.
 */
export async function answerControl(
  worker: ControlledWorker,
  command: ControlCommand,
): Promise<JsonValue | undefined> {
  const method = ALIASES[command.method] ?? command.method;
  const handler = Object.hasOwn(HANDLERS, method) ? HANDLERS[method] : undefined;
  if (!handler) return errorReply('KeyError', command.method);
  try {
    return await handler(worker, command.arguments);
  } catch (error) {
    const kind = error instanceof ArgumentError ? error.kind : (error as Error).name || 'Error';
    return errorReply(kind, (error as Error).message);
  }
}
