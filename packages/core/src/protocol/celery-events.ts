import { loadavg, type as osType } from 'node:os';
import type { JsonValue, TaskEnvelope } from './message';
import { tracebackOf } from './result-codec';
import { ORIGIN, reprOf } from './task-codec';
import { clock } from '../runtime/lamport-clock';
import { SW_IDENT, VERSION } from '../runtime/version';

/**
 * Celery's event documents (PROTOCOL-2 §3.3–3.4), built here so that a worker, a client (`task-sent`) and
 * tests agree on the field layout.
 */

/**
 * One Celery event (`task-received`, `worker-heartbeat`, …) with Celery's fields: `type`, `hostname`,
 * `utcoffset`, `pid`, `clock`, `timestamp`, and for task events `uuid` and the type's own fields.
 */
export type CeleryEvent = {
  /** The event type: `task-received`, `task-succeeded`, `worker-heartbeat`, …. */
  type: string;
} & Record<string, JsonValue>;

/** Hours west of UTC, floored (Python's `time.timezone // 3600`). */
function utcOffset(): number {
  return Math.floor(new Date().getTimezoneOffset() / 60);
}

/** The fields every event carries; `clock` moves this process's Lamport clock forward. */
export function celeryEvent(type: string, hostname: string, fields: Record<string, JsonValue>): CeleryEvent {
  return {
    hostname,
    utcoffset: utcOffset(),
    pid: process.pid,
    clock: clock.forward(),
    ...fields,
    timestamp: Date.now() / 1000,
    type,
  };
}

/** Python's `repr` of an exception, as Celery's events show it: `ValueError('bad input')`. */
export function exceptionRepr(error: Error): string {
  return `${error.name}('${error.message.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}')`;
}

/** `worker-online`, `worker-heartbeat` and `worker-offline` fields. */
export function workerFields(
  freqSeconds: number,
  active: number,
  processed: number,
): Record<string, JsonValue> {
  return {
    freq: freqSeconds,
    active,
    processed,
    loadavg: loadavg().map((load) => Math.round(load * 100) / 100),
    sw_ident: SW_IDENT,
    sw_ver: VERSION,
    sw_sys: osType(),
  };
}

/** `task-received` fields. */
export function receivedFields(envelope: TaskEnvelope): Record<string, JsonValue> {
  return {
    uuid: envelope.id,
    name: envelope.task,
    args: envelope.argsrepr,
    kwargs: envelope.kwargsrepr,
    root_id: envelope.rootId,
    parent_id: envelope.parentId,
    retries: envelope.retries,
    eta: envelope.eta,
    expires: envelope.expires,
  };
}

/** `task-failed` and `task-retried` fields. */
export function errorFields(envelope: TaskEnvelope, error: Error): Record<string, JsonValue> {
  return { uuid: envelope.id, exception: exceptionRepr(error), traceback: tracebackOf(error) ?? '' };
}

/** `task-succeeded` fields: the result as a short repr string, the runtime in seconds. */
export function succeededFields(
  envelope: TaskEnvelope,
  result: unknown,
  runtimeSeconds: number,
): Record<string, JsonValue> {
  return { uuid: envelope.id, result: reprOf(result ?? null), runtime: runtimeSeconds };
}

/** The `task-sent` event a client publishes with `taskSendSentEvent` (also for a worker's retry). */
export function taskSentEvent(envelope: TaskEnvelope, queue: string): CeleryEvent {
  return celeryEvent('task-sent', ORIGIN, {
    uuid: envelope.id,
    root_id: envelope.rootId,
    parent_id: envelope.parentId,
    name: envelope.task,
    args: envelope.argsrepr,
    kwargs: envelope.kwargsrepr,
    retries: envelope.retries,
    eta: envelope.eta,
    expires: envelope.expires,
    queue,
    exchange: '',
    routing_key: queue,
  });
}
