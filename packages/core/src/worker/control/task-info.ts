import type { JsonValue } from '../../protocol/message';
import type { FinishedTask, TrackedTask } from '../monitor';

/**
 * Celery's `Request.info()` for one task (`inspect active`, `reserved`, `scheduled`, `query_task`), plus
 * our `state`. With `safe`, args and kwargs are the repr strings (`inspect active --safe`).
 */
export function taskInfo(
  tracked: TrackedTask | FinishedTask,
  hostname: string,
  safe = false,
): Record<string, JsonValue> {
  if (!('routingKey' in tracked)) return finishedInfo(tracked, hostname);
  return {
    id: tracked.id,
    name: tracked.name,
    args: safe ? tracked.argsrepr : tracked.args,
    kwargs: safe ? tracked.kwargsrepr : tracked.kwargs,
    type: tracked.name,
    hostname,
    time_start: tracked.timeStart === null ? null : tracked.timeStart / 1000,
    acknowledged: tracked.acknowledged,
    delivery_info: {
      exchange: tracked.exchange,
      routing_key: tracked.routingKey,
      priority: tracked.priority,
      redelivered: tracked.redelivered,
    },
    worker_pid: process.pid,
    state: tracked.state,
  };
}

/** A task that ended here: only what is remembered of it (its arguments as repr strings). */
function finishedInfo(finished: FinishedTask, hostname: string): Record<string, JsonValue> {
  return {
    id: finished.id,
    name: finished.name,
    args: finished.argsrepr,
    kwargs: finished.kwargsrepr,
    type: finished.name,
    hostname,
    time_start: null,
    acknowledged: true,
    delivery_info: null,
    worker_pid: process.pid,
    state: finished.state,
  };
}

/** Where `query_task` says a task is: `active`, `reserved`, or `ready` (finished here). */
export function queryState(tracked: TrackedTask | FinishedTask): 'active' | 'reserved' | 'ready' {
  if (tracked.state === 'STARTED') return 'active';
  if (tracked.state === 'RECEIVED' || tracked.state === 'SCHEDULED') return 'reserved';
  return 'ready';
}
