import type { CeleryEvent, JsonValue, TaskInfo } from '@queue/core';
import { FINISHED_STATES, replacesState, stateOfEvent } from './precedence';
import { clip, TaskRecord, TEXT_LIMITS } from './task-record';

/** What one applied event changed. */
export interface TaskUpdate {
  record: TaskRecord;
  /** The state before the event (undefined: a task new to the store). */
  previous: string | undefined;
}

/** A task id worth keeping: not empty, not huge, no control characters. */
export function isTaskId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return false;
  for (let index = 0; index < value.length; index += 1) if (value.charCodeAt(index) < 0x20) return false;
  return true;
}

function text(value: JsonValue | undefined, limit: number): string | null {
  if (value === undefined || value === null) return null;
  return clip(typeof value === 'string' ? value : JSON.stringify(value), limit);
}

function seconds(value: JsonValue | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Whose event it is: task-sent comes from a client, not a worker. */
function workerOf(event: CeleryEvent): string | null {
  return event.type !== 'task-sent' && typeof event.hostname === 'string' ? event.hostname : null;
}

/**
 * The tasks the dashboard knows, bounded: at most `capacity`, the least recently updated dropped first
 * (a running task keeps being updated, so it stays; a long-finished one goes).
 */
export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();

  constructor(
    private readonly capacity: number,
    private readonly onEvict: (record: TaskRecord) => void,
  ) {}

  get size(): number {
    return this.tasks.size;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  /** Every task, first seen first. */
  all(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => a.seen - b.seen);
  }

  /** Applies one `task-*` event; undefined when it names no usable task id. */
  apply(event: CeleryEvent, now: number): TaskUpdate | undefined {
    if (!isTaskId(event.uuid)) return undefined;
    const { record, previous } = this.touch(event.uuid, now);
    const state = stateOfEvent(event.type);
    const at = seconds(event.timestamp) ?? now;
    this.fill(record, event);
    record.addStep({ state, at, hostname: typeof event.hostname === 'string' ? event.hostname : null });
    this.stamp(record, event, at);
    if (previous === undefined || replacesState(record.state, state)) record.state = state;
    return { record, previous };
  }

  /** A task a worker reported running (`inspect active`) that no event told us about. */
  applyActive(info: TaskInfo, now: number): TaskUpdate | undefined {
    if (!isTaskId(info.id)) return undefined;
    const known = this.tasks.get(info.id);
    if (known && known.state !== 'PENDING' && known.state !== 'RECEIVED') return undefined;
    const { record, previous } = this.touch(info.id, now);
    record.name ??= typeof info.name === 'string' ? info.name : null;
    record.worker ??= typeof info.hostname === 'string' ? info.hostname : null;
    record.args ??= text(info.args, TEXT_LIMITS.args);
    record.kwargs ??= text(info.kwargs, TEXT_LIMITS.args);
    record.started ??= seconds(info.time_start);
    record.state = 'STARTED';
    return { record, previous };
  }

  /** Marks a record changed from outside events (progress): it moves to the back of the eviction line. */
  refresh(record: TaskRecord): void {
    if (this.tasks.get(record.id) !== record) return;
    this.tasks.delete(record.id);
    this.tasks.set(record.id, record);
  }

  private touch(id: string, now: number): { record: TaskRecord; previous: string | undefined } {
    const existing = this.tasks.get(id);
    if (existing) {
      this.refresh(existing);
      return { record: existing, previous: existing.state };
    }
    const record = new TaskRecord(id, now);
    this.tasks.set(id, record);
    while (this.tasks.size > this.capacity) {
      const oldest = this.tasks.values().next().value!;
      this.tasks.delete(oldest.id);
      this.onEvict(oldest);
    }
    return { record, previous: undefined };
  }

  /** Fields any event may carry; the first value seen wins for the ones that never change. */
  private fill(record: TaskRecord, event: CeleryEvent): void {
    if (typeof event.name === 'string') record.name ??= event.name;
    const worker = workerOf(event);
    if (worker) record.worker = worker;
    if (event.args !== undefined) record.args ??= text(event.args, TEXT_LIMITS.args);
    if (event.kwargs !== undefined) record.kwargs ??= text(event.kwargs, TEXT_LIMITS.args);
    if (typeof event.retries === 'number') record.retries = Math.max(record.retries, event.retries);
    if (typeof event.eta === 'string') record.eta = event.eta;
    if (typeof event.expires === 'string') record.expires = event.expires;
    if (typeof event.root_id === 'string') record.rootId ??= event.root_id;
    if (typeof event.parent_id === 'string') record.parentId ??= event.parent_id;
    if (typeof event.queue === 'string') record.queue ??= event.queue;
    if (event.result !== undefined) record.result = text(event.result, TEXT_LIMITS.result);
    if (event.exception !== undefined) record.exception = text(event.exception, TEXT_LIMITS.exception);
    if (typeof event.traceback === 'string' && event.traceback !== '')
      record.traceback = clip(event.traceback, TEXT_LIMITS.traceback);
    if (typeof event.runtime === 'number') record.runtime = event.runtime;
    if (event.terminated === true) record.terminated = true;
  }

  private stamp(record: TaskRecord, event: CeleryEvent, at: number): void {
    switch (event.type) {
      case 'task-sent':
        record.sent ??= at;
        break;
      case 'task-received':
        record.received = at;
        break;
      case 'task-started':
        record.started = at;
        break;
      default:
        if (FINISHED_STATES.has(stateOfEvent(event.type))) record.finished = at;
    }
  }
}
