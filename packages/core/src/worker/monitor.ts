import type { JsonValue, TaskEnvelope } from '../protocol/message';
import type { DeliveryInfo } from '../task/request';

/** Where a task is in this worker: held for its ETA, reserved (waiting for a slot), running, or its outcome. */
export type TrackedState = 'SCHEDULED' | 'RECEIVED' | 'STARTED' | (string & {});

/** What a worker knows about a task it holds, for remote control (`active`, `reserved`, `query_task`, …). */
export interface TrackedTask {
  readonly id: string;
  readonly name: string;
  readonly args: JsonValue[];
  readonly kwargs: Record<string, JsonValue>;
  readonly argsrepr: string;
  readonly kwargsrepr: string;
  readonly eta: string | null;
  readonly exchange: string;
  readonly routingKey: string;
  readonly priority: number;
  readonly redelivered: boolean;
  state: TrackedState;
  /** Epoch ms of the latest change. */
  at: number;
  /** Epoch ms the body started, or null. */
  timeStart: number | null;
  /** Whether the message was acked already (early acks: when it started). */
  acknowledged: boolean;
}

/**
 * What a worker remembers of a task that ended here: little, since the last 1000 are kept and whatever they
 * hold lives long enough to reach V8's old generation (keeping the whole record, or the envelope, added
 * 30 MB to the peak RSS of a 40k-task drain).
 */
export interface FinishedTask {
  readonly id: string;
  readonly name: string;
  readonly argsrepr: string;
  readonly kwargsrepr: string;
  readonly state: string;
  /** Epoch ms it ended. */
  readonly at: number;
}

/**
 * Tracks the tasks a worker holds (scheduled, reserved and running) and remembers the latest outcomes
 * (bounded), so that remote control can answer "what are you doing" and "what became of task X".
 */
export class WorkerMonitor {
  private readonly current = new Map<string, TrackedTask>();
  private readonly finished = new Map<string, FinishedTask>();
  /** Tasks that ended here, by name (Celery's `stats.total`). */
  readonly counts: Record<string, number> = {};
  /** Tasks accepted (started) since the worker started (the heartbeat's `processed`). */
  processed = 0;

  constructor(private readonly remember = 1000) {}

  received(envelope: TaskEnvelope, delivery: DeliveryInfo): void {
    this.current.set(envelope.id, track(envelope, delivery, 'RECEIVED'));
  }

  /** Held in memory until its ETA. */
  scheduled(id: string): void {
    this.update(id, { state: 'SCHEDULED' });
  }

  /** Waiting for a slot again after its ETA. */
  reserved(id: string): void {
    this.update(id, { state: 'RECEIVED' });
  }

  started(id: string, acknowledged: boolean): void {
    this.processed++;
    this.update(id, { state: 'STARTED', timeStart: Date.now(), acknowledged });
  }

  /** The task left this worker with `state` (SUCCESS, FAILURE, RETRY, REVOKED, REQUEUED, …). */
  finishedWith(envelope: TaskEnvelope, state: string): void {
    this.current.delete(envelope.id);
    const { id, task: name, argsrepr, kwargsrepr } = envelope;
    this.finished.delete(id);
    this.finished.set(id, { id, name, argsrepr, kwargsrepr, state, at: Date.now() });
    if (this.finished.size > this.remember) this.finished.delete(this.finished.keys().next().value!);
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  /** How many tasks are held here now (scheduled, reserved or running). */
  get holdingCount(): number {
    return this.current.size;
  }

  /** How many held tasks are in `state`, and how many of those are not acked yet (no array is built). */
  count(state?: TrackedState): { total: number; unacknowledged: number } {
    let total = 0;
    let unacknowledged = 0;
    for (const tracked of this.current.values()) {
      if (state !== undefined && tracked.state !== state) continue;
      total++;
      if (!tracked.acknowledged) unacknowledged++;
    }
    return { total, unacknowledged };
  }

  inState(state: TrackedState): TrackedTask[] {
    return [...this.current.values()].filter((tracked) => tracked.state === state);
  }

  /** A task held here now (any state but finished). */
  holding(id: string): TrackedTask | undefined {
    return this.current.get(id);
  }

  find(id: string): TrackedTask | FinishedTask | undefined {
    return this.current.get(id) ?? this.finished.get(id);
  }

  private update(id: string, change: Partial<TrackedTask>): void {
    const tracked = this.current.get(id);
    if (tracked) Object.assign(tracked, change, { at: Date.now() });
  }
}

function track(envelope: TaskEnvelope, delivery: DeliveryInfo, state: TrackedState): TrackedTask {
  return {
    id: envelope.id,
    name: envelope.task,
    args: envelope.args,
    kwargs: envelope.kwargs,
    argsrepr: envelope.argsrepr,
    kwargsrepr: envelope.kwargsrepr,
    eta: envelope.eta,
    exchange: delivery.exchange,
    routingKey: delivery.routingKey,
    priority: delivery.priority,
    redelivered: delivery.redelivered,
    state,
    at: Date.now(),
    timeStart: null,
    acknowledged: false,
  };
}
