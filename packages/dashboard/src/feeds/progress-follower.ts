import { EXCEPTION_STATES, type App, type Logger, type StateChange } from '@queue/core';
import type { Json } from '../wire';

/** Longest meta kept as JSON text; beyond it the meta is shown cut, as a string. */
const MAX_META_CHARS = 2048;

/** A state the result backend reported for a task, ready for the task store. */
export interface BackendState {
  state: string;
  /** The meta (custom states) or value (SUCCESS) as JSON; null for errors. */
  meta: Json;
  /** 0–100 when the meta says how far the task is. */
  percent: number | null;
}

function asJson(value: unknown): Json {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return null; // a cycle or a BigInt: nothing to show
  }
  if (text === undefined) return null;
  return text.length > MAX_META_CHARS ? `${text.slice(0, MAX_META_CHARS - 1)}…` : (JSON.parse(text) as Json);
}

/**
 * How far a task is, from the meta of a custom state as tasks commonly report it: `{ percent }`,
 * `{ current, total }` (Celery's documentation example) or `{ done, total }`.
 */
export function percentOf(meta: Json): number | null {
  const clamp = (value: number) => Math.min(100, Math.max(0, value));
  if (typeof meta === 'number' && Number.isFinite(meta)) return clamp(meta);
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return null;
  if (typeof meta.percent === 'number' && Number.isFinite(meta.percent)) return clamp(meta.percent);
  const total = meta.total;
  const done = typeof meta.current === 'number' ? meta.current : meta.done;
  if (typeof total === 'number' && total > 0 && typeof done === 'number' && Number.isFinite(done))
    return clamp((done / total) * 100);
  return null;
}

export function backendState(change: StateChange): BackendState {
  const meta = EXCEPTION_STATES.has(change.state) ? null : asJson(change.info);
  const custom = !['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED'].includes(
    change.state,
  );
  return { state: change.state, meta, percent: custom ? percentOf(meta) : null };
}

/**
 * Follows running tasks' states in the result backend (Celery sends no event for PROGRESS: it only stores
 * it). One subscription per running task, at most `max` at once, dropped when the task finishes. Not for
 * rpc://, whose states go only to the process that sent the task.
 */
export class ProgressFollower {
  private readonly following = new Map<string, () => void>();

  constructor(
    private readonly app: App,
    private readonly max: number,
    private readonly onState: (taskId: string, state: BackendState) => void,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.following.size;
  }

  follow(taskId: string): void {
    if (this.following.has(taskId) || this.following.size >= this.max) return;
    const result = this.app.asyncResult(taskId);
    const stop = result.onState((change) => this.onState(taskId, backendState(change)));
    this.following.set(taskId, stop);
    // A state stored before the subscription took effect (a fast task's first PROGRESS).
    void this.read(taskId);
  }

  unfollow(taskId: string): void {
    const stop = this.following.get(taskId);
    if (!stop) return;
    this.following.delete(taskId);
    stop();
  }

  /** Reads the task's stored state once (its page was opened); undefined when nothing is stored or readable. */
  async read(taskId: string): Promise<BackendState | undefined> {
    try {
      const change = await this.app.asyncResult(taskId).refresh();
      if (change.state === 'PENDING') return undefined;
      const state = backendState(change);
      this.onState(taskId, state);
      return state;
    } catch (error) {
      this.logger.debug(`dashboard: could not read the state of ${taskId}: ${(error as Error).message}`);
      return undefined;
    }
  }

  close(): void {
    for (const stop of this.following.values()) stop();
    this.following.clear();
  }
}
