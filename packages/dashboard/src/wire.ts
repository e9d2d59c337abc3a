/**
 * The JSON the dashboard's server sends to its page (`/api/*` and the event stream). The browser bundle
 * imports these types too, so this file must stay free of Node imports. Times are epoch seconds.
 */

/** A value as JSON carries it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One task as the list shows it: short, so that 10,000 of them make a snapshot of a few megabytes. */
export interface TaskSummary {
  /** The task id. */
  id: string;
  /** The task name, once an event named it. */
  name: string | null;
  /** Celery's state as the events tell it (PENDING, RECEIVED, STARTED, SUCCESS, …). */
  state: string;
  /** The worker that received or ran it. */
  worker: string | null;
  /** The arguments' repr, cut short. */
  args: string;
  /** When the dashboard first heard of it (its own clock): the list's order. */
  seen: number;
  /** task-received (or task-sent, when no worker received it yet). */
  received: number | null;
  /** task-started. */
  started: number | null;
  /** When it became SUCCESS, FAILURE, REVOKED or REJECTED. */
  finished: number | null;
  /** Seconds the run took (task-succeeded). */
  runtime: number | null;
  /** Retries so far (the highest `retries` an event carried). */
  retries: number;
  /** 0–100 from the task's PROGRESS meta in the result backend; null when none is known. */
  progress: number | null;
}

/** One step in a task's life, from one event. */
export interface TaskStep {
  /** The state the event stands for. */
  state: string;
  /** The event's time (its sender's clock). */
  at: number;
  /** Who sent it (a worker, or a client for task-sent). */
  hostname: string | null;
}

/** Everything known about one task (its page). */
export interface TaskDetail extends TaskSummary {
  /** Full reprs (up to the dashboard's size limits). */
  argsFull: string | null;
  /** The keyword arguments' repr. */
  kwargs: string | null;
  /** task-succeeded's result repr, or the result backend's value as JSON. */
  result: string | null;
  /** The failure's repr (`ValueError('bad')`). */
  exception: string | null;
  /** The failure's traceback, as the worker sent it. */
  traceback: string | null;
  /** task-sent (only when the sender has `taskSendSentEvent` on). */
  sent: number | null;
  /** Not run before this time (ISO 8601), when an event said. */
  eta: string | null;
  /** Revoked when received after this time (ISO 8601), when an event said. */
  expires: string | null;
  /** The id of the first task of its workflow. */
  rootId: string | null;
  /** The id of the task whose run sent it. */
  parentId: string | null;
  /** The queue it was sent to, when task-sent said. */
  queue: string | null;
  /** A revoke that stopped it while running. */
  terminated: boolean;
  /** Its steps, oldest first (bounded: the first step is kept). */
  history: TaskStep[];
  /** The state the result backend last reported (PROGRESS, SUCCESS, …), when one is readable. */
  backendState: string | null;
  /** The meta of that state (`{ percent: 40 }`). */
  backendMeta: Json;
}

/** One worker: events (heartbeats) and remote-control replies merged. */
export interface WorkerView {
  /** The worker's name (`name@host`). */
  hostname: string;
  /** Heartbeats within twice their interval, or an answer to the last inspection. */
  online: boolean;
  /** `py-celery` (Celery) or `queue-ts` (ours). */
  swIdent: string | null;
  /** Its software's version. */
  swVer: string | null;
  /** Its operating system (`Linux`, …). */
  swSys: string | null;
  /** Its process id. */
  pid: number | null;
  /** Seconds between heartbeats. */
  freq: number | null;
  /** When its last heartbeat (or online event) arrived, by the dashboard's clock. */
  lastHeartbeat: number | null;
  /** When it last answered an inspection, by the dashboard's clock. */
  lastReply: number | null;
  /** Tasks running now (heartbeat). */
  active: number | null;
  /** Tasks it accepted since it started (heartbeat). */
  processed: number | null;
  /** The host's load average over 1, 5 and 15 minutes (heartbeat). */
  loadavg: number[] | null;
  /** The pool's kind (`prefork`, `solo`, `async`, `threads`, …). */
  pool: string | null;
  /** Tasks it runs at once (stats). */
  concurrency: number | null;
  /** Messages it may hold unacknowledged (stats). */
  prefetch: number | null;
  /** Seconds since it started (stats). */
  uptime: number | null;
  /** Tasks it ran, by name (stats `total`). */
  totals: Record<string, number>;
  /** The tasks it knows (`registered`: `name [attrs]`). */
  registered: string[];
  /** The queues it consumes (`active_queues`). */
  queues: string[];
}

/** One queue's numbers at one moment. */
export interface QueueSample {
  /** When it was read. */
  at: number;
  /** See {@link QueueView.messages}. */
  messages: number | null;
  /** See {@link QueueView.publishRate}. */
  publishRate: number | null;
  /** See {@link QueueView.deliverRate}. */
  deliverRate: number | null;
}

/** One queue: the latest numbers and a short history for the charts. */
export interface QueueView {
  /** The queue's name. */
  name: string;
  /** Messages ready (and, from the management API, unacknowledged) in the queue. */
  messages: number | null;
  /** Consumers, as the broker counts them. */
  consumers: number | null;
  /** Messages published per second (management API only). */
  publishRate: number | null;
  /** Messages delivered per second (management API only). */
  deliverRate: number | null;
  /** Earlier samples, oldest first, for the charts. */
  history: QueueSample[];
}

/** Succeeded and failed tasks per second, oldest first, ending at `end` (exclusive). */
export interface ThroughputSeries {
  /** The second after the last bucket. */
  end: number;
  /** Tasks that succeeded in each second. */
  succeeded: number[];
  /** Tasks that failed in each second. */
  failed: number[];
}

/** What the page needs to know about how the dashboard is set up. */
export interface DashboardInfo {
  /** The broker, password masked. */
  broker: string;
  /** The result backend's scheme (`redis`, `rpc`, …). */
  resultBackend: string;
  /** Progress bars are fed from the result backend (not possible with rpc://). */
  progress: boolean;
  /** Where queue numbers come from. */
  queueSource: 'management' | 'broker';
  /** The most tasks the list keeps (`maxTasks`). */
  maxTasks: number;
  /** Seconds of throughput history. */
  throughputWindow: number;
}

/** The first message of the event stream: everything at once. */
export interface Snapshot {
  /** How the dashboard is set up. */
  info: DashboardInfo;
  /** The tasks it knows, in the order it first heard of them. */
  tasks: TaskSummary[];
  /** The workers it knows. */
  workers: WorkerView[];
  /** The queues it follows. */
  queues: QueueView[];
  /** Recent throughput. */
  throughput: ThroughputSeries;
  /** The dashboard's clock, to show "3 s ago" right on a browser whose clock is off. */
  now: number;
}

/** Changes to the task list since the last message. */
export interface TaskChanges {
  /** Tasks new or changed. */
  updated: TaskSummary[];
  /** Dropped to keep the list within `maxTasks`. */
  removed: string[];
}

/** Seconds that just ended, for the throughput chart. */
export interface ThroughputTick {
  /** The first of these seconds. */
  at: number;
  /** Tasks that succeeded in each of these seconds. */
  succeeded: number[];
  /** Tasks that failed in each of these seconds. */
  failed: number[];
}

/** The messages of the event stream, by SSE event name. */
export interface StreamMessages {
  /** Everything, first (and after a reconnect). */
  snapshot: Snapshot;
  /** Tasks that changed. */
  tasks: TaskChanges;
  /** Every worker, when any changed. */
  workers: {
    /** The workers. */
    workers: WorkerView[];
    /** The dashboard's clock. */
    now: number;
  };
  /** Every queue, at each reading. */
  queues: {
    /** The queues, each with its newest sample. */
    queues: QueueView[];
    /** Where the numbers come from. */
    source: 'management' | 'broker';
  };
  /** Seconds of throughput that just ended. */
  throughput: ThroughputTick;
}

/** The answer to an action (revoke, shutdown, pool grow/shrink): what each worker replied. */
export interface ActionResult {
  /** At least one worker answered without an error (a shutdown, which gets no answer: it was sent). */
  ok: boolean;
  /** Replies by worker hostname, as Celery's remote control returns them. */
  replies: Record<string, Json>;
  /** A short sentence for the page. */
  message: string;
}

/** An error answer of the API. */
export interface ApiError {
  error: string;
  message: string;
}
