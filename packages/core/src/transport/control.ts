import type { JsonValue } from '../protocol/message';

/**
 * A remote-control command, as Celery's pidbox carries it (`celery inspect …`, `celery control …`,
 * `queue inspect …`, Flower): the handler's name and keyword arguments, and which workers it is for.
 */
export interface ControlCommand {
  /** `ping`, `stats`, `active`, `revoke`, `shutdown`, … (Celery's names). */
  method: string;
  /** The handler's keyword arguments (`{ task_id: [...], terminate: true }` for `revoke`). */
  arguments: Record<string, JsonValue>;
  /** Worker hostnames that should run it; null or empty: every worker (unless `pattern` is set). */
  destination: string[] | null;
  /** With `matcher` (`glob` or `pcre`): run on the workers whose hostname matches. */
  pattern?: string | null;
  /** How `pattern` is read: `glob` (fnmatch) or `pcre` (a regular expression); null: `pattern` is ignored. */
  matcher?: 'glob' | 'pcre' | null;
}

/** One worker's answer: Celery's `{hostname: reply}`, e.g. `{ok: 'pong'}` or `{error: "KeyError('x')"}`. */
export interface ControlReply {
  /** The worker that answered (`name@host`). */
  hostname: string;
  /** Its answer. */
  reply: JsonValue;
}

/** How a broadcast waits for answers. */
export interface BroadcastOptions {
  /** Wait for replies at all (`inspect`, `control … --reply`); false sends and returns (a cast). */
  reply: boolean;
  /** Milliseconds to wait for the next reply; the wait restarts with each (Celery's `timeout`). */
  timeoutMs: number;
  /** Stop after this many replies (e.g. the number of destinations). */
  limit?: number;
}

/**
 * An optional transport capability: Celery's remote control (pidbox) between clients and running workers.
 * Over RabbitMQ: the fanout exchange `celery.pidbox`, one queue per worker, replies on
 * `reply.celery.pidbox`, exactly as kombu's Mailbox does, so Celery's tools and ours see each other's
 * workers. Transports without it (`memory://`) have no remote control.
 */
export interface ControlChannel {
  /**
   * Worker side: runs `handler` for each command addressed to `hostname` until the returned function is
   * called; what it resolves to is the reply (`undefined`: no reply, as for `shutdown`).
   */
  serve(
    hostname: string,
    handler: (command: ControlCommand) => Promise<JsonValue | undefined>,
  ): Promise<() => Promise<void>>;
  /** Client side: sends `command` and collects the replies. */
  broadcast(command: ControlCommand, options: BroadcastOptions): Promise<ControlReply[]>;
  /** Messages ready in `queue`, or undefined when the queue does not exist. */
  queueDepth(queue: string): Promise<number | undefined>;
  /** Messages ready in `queue` and how many consumers it has, or undefined when the queue does not exist. */
  queueStats(queue: string): Promise<QueueStats | undefined>;
}

/** What the broker says of one queue. */
export interface QueueStats {
  /** Messages ready in the queue (not those delivered and unacknowledged). */
  readonly messages: number;
  /** Consumers subscribed to it. */
  readonly consumers: number;
}
