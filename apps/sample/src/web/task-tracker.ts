import {
  READY_STATES,
  RemoteTaskError,
  States,
  type App,
  type AsyncResult,
  type JsonValue,
  type StateChange,
  type TaskState,
} from '@queue/core';

/** A task's latest state as the page shows it. */
export interface TaskSnapshot {
  id: string;
  state: TaskState;
  /** 0–100: from the PROGRESS meta `{ percent }`, 100 on SUCCESS, the last value otherwise. */
  percent: number;
  /** The PROGRESS meta, the SUCCESS value, or `{ excType, excMessage }` of a failure. */
  info: JsonValue;
}

interface Tracked {
  state: TaskState;
  percent: number;
  info: JsonValue;
  stop?: () => void;
}

function jsonInfo(info: unknown): JsonValue {
  if (info instanceof RemoteTaskError) return { excType: info.excType, excMessage: info.excMessage };
  if (info instanceof Error) return { excType: info.name, excMessage: info.message };
  return (info ?? null) as JsonValue;
}

function percentOf(change: StateChange, previous: number): number {
  if (change.state === States.SUCCESS) return 100;
  const percent = (change.info as { percent?: unknown } | null)?.percent;
  return typeof percent === 'number' && Number.isFinite(percent)
    ? Math.min(100, Math.max(0, percent))
    : previous;
}

/**
 * Keeps the latest state of the tasks this process sent, fed by each AsyncResult's `onState`. Tracking at
 * the sender matters: with `rpc://` only the App that sent a task receives its states, so asking the
 * backend later from elsewhere would say PENDING forever.
 */
export class TaskTracker {
  private readonly tasks = new Map<string, Tracked>();

  constructor(
    private readonly app: App,
    /** Finished tasks beyond this many are forgotten, oldest first, so memory stays bounded. */
    private readonly limit = 1000,
  ) {}

  /** Starts following a task just sent. */
  track(result: AsyncResult): void {
    const entry: Tracked = { state: States.PENDING, percent: 0, info: null };
    this.tasks.get(result.id)?.stop?.();
    this.tasks.set(result.id, entry);
    // States reported before this call are covered by `state`/`info` (the latest); later ones by onState.
    this.apply(entry, { state: result.state, info: result.info });
    if (!READY_STATES.has(entry.state)) {
      entry.stop = result.onState((change) => {
        this.apply(entry, change);
        if (READY_STATES.has(change.state)) this.stopFollowing(entry);
      });
    }
    this.forgetOldest();
  }

  /** The task's latest state; tasks this process did not send are looked up in the result backend. */
  snapshot(taskId: string): TaskSnapshot {
    const entry = this.tasks.get(taskId);
    if (entry) return { id: taskId, state: entry.state, percent: entry.percent, info: entry.info };
    // E.g. records from before a restart: with memory:// the backend knows only this process's tasks, with
    // rpc:// none, so this says PENDING for them.
    const result = this.app.asyncResult(taskId);
    const change = { state: result.state, info: result.info };
    return { id: taskId, state: change.state, percent: percentOf(change, 0), info: jsonInfo(change.info) };
  }

  /** Stops following every task. */
  close(): void {
    for (const entry of this.tasks.values()) this.stopFollowing(entry);
    this.tasks.clear();
  }

  private apply(entry: Tracked, change: StateChange): void {
    entry.state = change.state;
    entry.percent = percentOf(change, entry.percent);
    entry.info = jsonInfo(change.info);
  }

  private stopFollowing(entry: Tracked): void {
    entry.stop?.();
    entry.stop = undefined;
  }

  private forgetOldest(): void {
    for (const [id, entry] of this.tasks) {
      if (this.tasks.size <= this.limit) return;
      if (READY_STATES.has(entry.state)) this.tasks.delete(id);
    }
  }
}
