import {
  EXCEPTION_STATES,
  RemoteTaskError,
  States,
  type App,
  type JsonValue,
  type StateChange,
  type TaskState,
} from '@queue/core';

/** A task's latest state as the page shows it. */
export interface TaskSnapshot {
  id: string;
  state: TaskState;
  /**
   * 0–100: from the PROGRESS meta `{ percent }`, 100 on SUCCESS; for a task that failed (or is retrying, or
   * was revoked) the last progress this process saw; 0 otherwise.
   */
  percent: number;
  /** The PROGRESS meta, the SUCCESS value, or `{ excType, excMessage }` of a failure. */
  info: JsonValue;
}

function jsonInfo(info: unknown): JsonValue {
  if (info instanceof RemoteTaskError) return { excType: info.excType, excMessage: info.excMessage };
  if (info instanceof Error) return { excType: info.name, excMessage: info.message };
  return (info ?? null) as JsonValue;
}

/**
 * The last progress seen per task: a failure's state carries only the error, and the page should still
 * say how far the task got. Bounded (oldest forgotten first), as the process sees any number of tasks.
 */
const lastProgress = new Map<string, number>();
const LAST_PROGRESS_LIMIT = 10_000;

function remember(taskId: string, percent: number): void {
  lastProgress.delete(taskId); // re-inserted: the newest entry is the last to be forgotten
  lastProgress.set(taskId, percent);
  if (lastProgress.size > LAST_PROGRESS_LIMIT) lastProgress.delete(lastProgress.keys().next().value!);
}

function percentOf(taskId: string, change: StateChange): number {
  if (change.state === States.SUCCESS) return 100;
  if (EXCEPTION_STATES.has(change.state)) return lastProgress.get(taskId) ?? 0;
  const percent = (change.info as { percent?: unknown } | null)?.percent;
  if (typeof percent !== 'number' || !Number.isFinite(percent)) return 0;
  const clamped = Math.min(100, Math.max(0, percent));
  remember(taskId, clamped);
  return clamped;
}

/**
 * The latest state of a task, as the App's result backend keeps it: read from the store (PostgreSQL,
 * Redis) unless this process already saw it finish. With `rpc://` only the App that sent a task receives
 * its states, so tasks sent by an earlier process (before a restart) read as PENDING there.
 */
export async function taskSnapshot(app: App, taskId: string): Promise<TaskSnapshot> {
  const result = app.asyncResult(taskId);
  const change: StateChange = result.ready()
    ? { state: result.state, info: result.info }
    : await result.refresh().catch((error: unknown) => ({ state: result.state, info: error }));
  return { id: taskId, state: change.state, percent: percentOf(taskId, change), info: jsonInfo(change.info) };
}
