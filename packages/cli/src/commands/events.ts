import type { App } from '@queue/core';
import type { CeleryEvent, EventChannel, JsonValue } from '@queue/core/transport';
import { CliUsageError } from '../cli-error';
import { clientApp, type ClientAppOptions } from '../client-app';

export interface EventsCommandOptions extends ClientAppOptions {
  /** One JSON object per line instead of the readable dump. */
  json?: boolean;
  /** Seconds to listen; without it, until SIGINT/SIGTERM. */
  duration?: number;
  /** Stop after this many events. */
  limit?: number;
}

/** Fields every event carries; the dump shows the first three in front and leaves the rest out. */
const COMMON_FIELDS = new Set([
  'type',
  'hostname',
  'timestamp',
  'utcoffset',
  'pid',
  'clock',
  'local_received',
]);

/** What matters per type (PROTOCOL-2 §3.4); unknown types show all their own fields. */
const SHOWN_FIELDS: Record<string, readonly string[]> = {
  'worker-online': ['freq', 'active', 'processed', 'sw_ident', 'sw_ver'],
  'worker-heartbeat': ['freq', 'active', 'processed'],
  'worker-offline': ['freq', 'active', 'processed'],
  'task-sent': ['uuid', 'name', 'args', 'kwargs', 'retries', 'eta', 'queue'],
  'task-received': ['uuid', 'name', 'args', 'kwargs', 'retries', 'eta'],
  'task-started': ['uuid', 'name'],
  'task-succeeded': ['uuid', 'name', 'result', 'runtime'],
  // The traceback is left out: it spans lines, and `--json` shows it whole.
  'task-failed': ['uuid', 'name', 'exception'],
  'task-retried': ['uuid', 'name', 'exception'],
  'task-revoked': ['uuid', 'name', 'terminated', 'signum', 'expired'],
  'task-rejected': ['uuid', 'name', 'requeue'],
  'task-cancelled': ['uuid', 'name'],
};

/** A field's value kept short and on one line (reprs of big arguments can be kilobytes). */
const MAX_VALUE_CHARS = 200;

/**
 * The App's event stream, or a usage error (as `controlOf`) for transports without one, and for memory://,
 * whose events stay inside the process that publishes them: a fresh CLI process would wait for nothing.
 */
export function eventsOf(app: App): EventChannel {
  const events = app.transport.events;
  if (!events || /^memory:/i.test(app.transport.displayUrl)) {
    throw new CliUsageError(
      `the broker ${app.transport.displayUrl} has no event stream (in-process memory:// workers cannot be watched from another process); use an amqp:// broker`,
    );
  }
  return events;
}

function formatValue(value: JsonValue): string {
  const text =
    typeof value === 'string' && value !== '' && !/[\s"\\]/.test(value) ? value : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** `2026-11-30T11:00:00.123Z task-succeeded w1@host uuid=… result=5 runtime=0.01`: one line per event. */
export function formatEvent(event: CeleryEvent): string {
  const seconds = typeof event.timestamp === 'number' ? event.timestamp : Date.now() / 1000;
  const at = new Date(Math.round(seconds * 1000));
  const when = Number.isNaN(at.getTime()) ? String(event.timestamp) : at.toISOString();
  const hostname = typeof event.hostname === 'string' ? event.hostname : '?';
  const fields = SHOWN_FIELDS[event.type] ?? Object.keys(event).filter((field) => !COMMON_FIELDS.has(field));
  const shown = fields
    .filter((field) => event[field] !== undefined)
    .map((field) => `${field}=${formatValue(event[field]!)}`);
  // A type is the sender's string: escaped like any value, so it cannot break the line either.
  return [when, formatValue(event.type), formatValue(hostname), ...shown].join(' ');
}

/**
 * `queue events` (as `celery events --dump`): every worker and task event on the broker, one line each,
 * as it arrives. Ends with exit 0 after `--limit` events, after `--duration` seconds, or on SIGINT/SIGTERM,
 * closing the connection first (its private queue goes with it).
 */
export async function runEvents(options: EventsCommandOptions): Promise<number> {
  const app = await clientApp('events', options);
  const stopHandlers: Array<() => void> = [];
  try {
    const events = eventsOf(app);
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    // Installed before connecting, so that no signal kills the process with its connection half open.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, finish);
      stopHandlers.push(() => process.off(signal, finish));
    }
    let seen = 0;
    const limit = options.limit;
    // A signal while the broker is slow to answer ends the run at once (the close below aborts the connect).
    const connected = app.connect().then(() => true);
    if (!(await Promise.race([connected, finished.then(() => false)]))) return 0;
    const stopListening = await events.listen((event) => {
      if (limit !== undefined && seen >= limit) return;
      seen += 1;
      process.stdout.write(`${options.json ? JSON.stringify(event) : formatEvent(event)}\n`);
      if (limit !== undefined && seen >= limit) finish();
    });
    process.stderr.write(`queue events: listening on ${app.transport.displayUrl}\n`);
    if (options.duration !== undefined) {
      const timer = setTimeout(finish, options.duration * 1000);
      stopHandlers.push(() => clearTimeout(timer));
    }
    await finished;
    await stopListening();
    return 0;
  } finally {
    for (const stop of stopHandlers) stop();
    await app.close({ timeoutMs: 0 });
  }
}
