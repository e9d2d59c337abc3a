import type { TaskEnvelope } from '../protocol/message';
import type { DeliveryInfo } from '../task/request';

/** Where a task is in this worker: held for its ETA, reserved (waiting for a slot), running, or its outcome. */
export type TrackedState = 'SCHEDULED' | 'RECEIVED' | 'STARTED' | (string & {});

/** What a worker knows about one task, for remote control (`active`, `reserved`, `query_task`, …). */
export interface TrackedTask {
  readonly envelope: TaskEnvelope;
  readonly delivery: DeliveryInfo;
  state: TrackedState;
  /** Epoch ms of the latest change. */
  at: number;
  /** Epoch ms the body started, or null. */
  timeStart: number | null;
  /** Whether the message was acked already (early acks: when it started). */
  acknowledged: boolean;
}

/**
 * Tracks the tasks a worker holds (scheduled, reserved and running) and remembers the latest outcomes
 * (bounded), so that remote control can answer "what are you doing" and "what became of task X".
 */
export class WorkerMonitor {
  private readonly current = new Map<string, TrackedTask>();
  private readonly finished = new Map<string, TrackedTask>();
  /** Tasks that ended here, by name (Celery's `stats.total`). */
  readonly counts: Record<string, number> = {};
  /** Tasks accepted (started) since the worker started (the heartbeat's `processed`). */
  processed = 0;

  constructor(private readonly remember = 1000) {}

  received(envelope: TaskEnvelope, delivery: DeliveryInfo): void {
    this.current.set(envelope.id, {
      envelope,
      delivery,
      state: 'RECEIVED',
      at: Date.now(),
      timeStart: null,
      acknowledged: false,
    });
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
    const now = Date.now();
    this.update(id, { state: 'STARTED', timeStart: now, acknowledged });
  }

  /** The task left this worker with `state` (SUCCESS, FAILURE, RETRY, REVOKED, REQUEUED, …). */
  finishedWith(envelope: TaskEnvelope, state: string, delivery: DeliveryInfo): void {
    const snapshot: TrackedTask = this.current.get(envelope.id) ?? {
      envelope,
      delivery,
      state,
      at: Date.now(),
      timeStart: null,
      acknowledged: true,
    };
    this.current.delete(envelope.id);
    Object.assign(snapshot, { state, at: Date.now() });
    this.finished.delete(envelope.id);
    this.finished.set(envelope.id, snapshot);
    if (this.finished.size > this.remember) this.finished.delete(this.finished.keys().next().value!);
    this.counts[envelope.task] = (this.counts[envelope.task] ?? 0) + 1;
  }

  inState(state: TrackedState): TrackedTask[] {
    return [...this.current.values()].filter((tracked) => tracked.state === state);
  }

  /** A task held here now (any state but finished). */
  holding(id: string): TrackedTask | undefined {
    return this.current.get(id);
  }

  find(id: string): TrackedTask | undefined {
    return this.current.get(id) ?? this.finished.get(id);
  }

  private update(id: string, change: Partial<TrackedTask>): void {
    const tracked = this.current.get(id);
    if (tracked) Object.assign(tracked, change, { at: Date.now() });
  }
}
