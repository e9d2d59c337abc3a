import type { JsonValue } from '../../protocol/message';
import type { TrackedTask } from '../monitor';

/**
 * Celery's `Request.info()` for one task (`inspect active`, `reserved`, `scheduled`, `query_task`), plus
 * our `state`. With `safe`, args and kwargs are the repr strings (`inspect active --safe`).
 */
export function taskInfo(tracked: TrackedTask, hostname: string, safe = false): Record<string, JsonValue> {
  const { envelope, delivery } = tracked;
  return {
    id: envelope.id,
    name: envelope.task,
    args: safe ? envelope.argsrepr : envelope.args,
    kwargs: safe ? envelope.kwargsrepr : envelope.kwargs,
    type: envelope.task,
    hostname,
    time_start: tracked.timeStart === null ? null : tracked.timeStart / 1000,
    acknowledged: tracked.acknowledged,
    delivery_info: {
      exchange: delivery.exchange,
      routing_key: delivery.routingKey,
      priority: delivery.priority,
      redelivered: delivery.redelivered,
    },
    worker_pid: process.pid,
    state: tracked.state,
  };
}

/** Where `query_task` says a task is: `active`, `reserved`, or `ready` (finished here). */
export function queryState(tracked: TrackedTask): 'active' | 'reserved' | 'ready' {
  if (tracked.state === 'STARTED') return 'active';
  if (tracked.state === 'RECEIVED' || tracked.state === 'SCHEDULED') return 'reserved';
  return 'ready';
}
