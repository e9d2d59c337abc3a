import type { JsonValue, TaskEnvelope } from '../protocol/message';

/** What a worker knows about one task, for `queue status` and `queue inspect`. */
export interface TrackedTask {
  id: string;
  name: string;
  /** RECEIVED (reserved, waiting for a slot), STARTED, or the outcome once finished. */
  state: string;
  args: string;
  kwargs: string;
  /** Epoch ms of the latest change. */
  at: number;
  [key: string]: JsonValue;
}

/**
 * Tracks the tasks a worker holds (reserved and running) and remembers the latest outcomes (bounded), so
 * that remote control can answer "what are you doing" and "what became of task X".
 */
export class WorkerMonitor {
  private readonly current = new Map<string, TrackedTask>();
  private readonly finished = new Map<string, TrackedTask>();
  readonly counts: Record<string, number> = {};

  constructor(private readonly remember = 1000) {}

  received(envelope: TaskEnvelope): void {
    this.current.set(envelope.id, {
      id: envelope.id,
      name: envelope.task,
      state: 'RECEIVED',
      args: envelope.argsrepr,
      kwargs: envelope.kwargsrepr,
      at: Date.now(),
    });
  }

  started(envelope: TaskEnvelope): void {
    const snapshot = this.current.get(envelope.id);
    if (snapshot) Object.assign(snapshot, { state: 'STARTED', at: Date.now() });
  }

  /** The task left this worker with `state` (SUCCESS, FAILURE, RETRY, REVOKED, or REQUEUED). */
  finishedWith(envelope: TaskEnvelope, state: string): void {
    const snapshot = this.current.get(envelope.id) ?? {
      id: envelope.id,
      name: envelope.task,
      state,
      args: envelope.argsrepr,
      kwargs: envelope.kwargsrepr,
      at: Date.now(),
    };
    this.current.delete(envelope.id);
    Object.assign(snapshot, { state, at: Date.now() });
    this.finished.delete(envelope.id);
    this.finished.set(envelope.id, snapshot);
    if (this.finished.size > this.remember) this.finished.delete(this.finished.keys().next().value!);
    this.counts[envelope.task] = (this.counts[envelope.task] ?? 0) + 1;
  }

  inState(state: string): TrackedTask[] {
    return [...this.current.values()].filter((snapshot) => snapshot.state === state);
  }

  find(id: string): TrackedTask | undefined {
    return this.current.get(id) ?? this.finished.get(id);
  }
}
