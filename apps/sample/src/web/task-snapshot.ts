import {
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
  /** 0–100: from the PROGRESS meta `{ percent }`, 100 on SUCCESS, 0 otherwise. */
  percent: number;
  /** The PROGRESS meta, the SUCCESS value, or `{ excType, excMessage }` of a failure. */
  info: JsonValue;
}

function jsonInfo(info: unknown): JsonValue {
  if (info instanceof RemoteTaskError) return { excType: info.excType, excMessage: info.excMessage };
  if (info instanceof Error) return { excType: info.name, excMessage: info.message };
  return (info ?? null) as JsonValue;
}

function percentOf(change: StateChange): number {
  if (change.state === States.SUCCESS) return 100;
  const percent = (change.info as { percent?: unknown } | null)?.percent;
  return typeof percent === 'number' && Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
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
  return { id: taskId, state: change.state, percent: percentOf(change), info: jsonInfo(change.info) };
}
