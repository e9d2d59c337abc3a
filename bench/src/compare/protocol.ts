/**
 * What the harness and the processes it starts (workers and clients, in Node or in Python) tell each other.
 * Child → harness: one JSON object per stdout line, after `@@bench ` (other lines are the child's own logs).
 * Harness → child: one JSON command per stdin line; the end of stdin means "the harness is gone: stop".
 * bench/python/celery_bench*.py speak the same protocol.
 */

export const EVENT_PREFIX = '@@bench ';

/** The systems that run as Node role processes (Celery's run in Python). */
export const NODE_SYSTEMS = [
  'raw',
  'raw-same-work',
  'ours-async',
  'ours-redis',
  'ours-postgres',
  'ours-threads',
  'bullmq',
] as const;
export type NodeSystemId = (typeof NODE_SYSTEMS)[number];

/**
 * `worker`: consumes until told to stop, reporting each window of runs it was told to expect.
 * `enqueue`: sends `n` tasks, `inFlight` awaiting their confirm at once. `roundtrip`: `n` send + result,
 * `inFlight` awaiting at once. `latency`: `n` send + result, one after the other.
 */
export const ROLES = ['worker', 'enqueue', 'roundtrip', 'latency'] as const;
export type Role = (typeof ROLES)[number];

/** argv of a role process, as JSON (Node: argv[4]; Python: argv[2]). */
export interface RoleParams {
  broker: string;
  redis: string;
  /** The task queue (for BullMQ: the key prefix of its queue). */
  queue: string;
  /** Clients: tasks to send. Workers: the first window of runs to report (0: none). */
  n: number;
  /** Clients: first task index (fan-in clients send disjoint ranges). */
  offset: number;
  /** Clients: calls in flight at once (Celery's client: threads, at most `threads`). */
  inFlight: number;
  /** Celery's client: most publishing threads. */
  threads: number;
  /** Workers: concurrency (ours: 16; BullMQ: 50; Celery: its -c). */
  concurrency: number;
  /** Give up past this (epoch ms). */
  deadline: number;
}

export type ClientResult =
  /** `enqueue`: every send confirmed; times are epoch ms. `replyQueues`: queues to delete afterwards. */
  | { kind: 'sent'; n: number; firstSendAt: number; lastConfirmAt: number; replyQueues: string[] }
  | { kind: 'roundtrips'; n: number; startedAt: number; endedAt: number; replyQueues: string[] }
  | { kind: 'latency'; samplesMs: number[]; replyQueues: string[] };

/** Runs `firstStartAt` (start of the first run) … `lastDoneAt` (end of the `n`-th), epoch ms. */
export interface RunWindow {
  n: number;
  firstStartAt: number;
  lastDoneAt: number;
}

export type ChildEvent =
  | { event: 'ready' }
  | { event: 'expecting'; n: number }
  | { event: 'window'; window: RunWindow }
  | { event: 'result'; result: ClientResult }
  | { event: 'error'; message: string };

export type ChildCommand =
  /** Clients: start now (every client of a step is ready first). */
  | { cmd: 'go' }
  /** Workers: report the next `n` runs as one window (answered by `expecting`). */
  | { cmd: 'expect'; n: number }
  /** Workers: warm stop, then exit. Clients: close, then exit. */
  | { cmd: 'stop' };

export type ChildEventName = ChildEvent['event'];
export type EventOf<K extends ChildEventName> = Extract<ChildEvent, { event: K }>;

const EVENT_NAMES: ReadonlySet<string> = new Set<ChildEventName>([
  'ready',
  'expecting',
  'window',
  'result',
  'error',
]);

/** The event on a stdout line, or undefined for a line of the child's own output. */
export function parseEventLine(line: string): ChildEvent | undefined {
  if (!line.startsWith(EVENT_PREFIX)) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(EVENT_PREFIX.length));
    if (
      typeof value === 'object' &&
      value !== null &&
      'event' in value &&
      EVENT_NAMES.has(String(value.event))
    )
      return value as ChildEvent;
  } catch {
    // not ours after all
  }
  return undefined;
}

export function isChildCommand(value: unknown): value is ChildCommand {
  if (typeof value !== 'object' || value === null || !('cmd' in value)) return false;
  if (value.cmd === 'expect') return 'n' in value && typeof value.n === 'number';
  return value.cmd === 'go' || value.cmd === 'stop';
}

/** Wall-clock ms with sub-ms precision, comparable between processes of this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
