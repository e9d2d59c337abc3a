import type { EventEmitter } from 'node:events';
import type { Logger } from '../../logging/logger';
import {
  celeryEvent,
  errorFields,
  receivedFields,
  succeededFields,
  workerFields,
  type CeleryEvent,
} from '../../protocol/celery-events';
import type { JsonValue, TaskEnvelope } from '../../protocol/message';
import type { EventChannel } from '../../transport/events';
import type { WorkerMonitor } from '../monitor';
import type { WorkerEvents } from '../worker';

/** Broker trouble is logged at most this often: events are best-effort and must not flood the log. */
const WARN_EVERY_MS = 30_000;
/** Celery sends `worker-offline` without retrying; we give it this long. */
const OFFLINE_WAIT_MS = 1000;

export interface EventDispatcherOptions {
  /** Send task events (`-E`); worker events are always sent. */
  taskEvents: boolean;
  /** Milliseconds between heartbeats (Celery: 2 s); 0: no worker events. */
  heartbeatMs: number;
}

/**
 * Sends a worker's Celery events (PROTOCOL-2 §3): `worker-online` at start, a `worker-heartbeat` every
 * `heartbeatMs`, `worker-offline` at stop, and, while task events are on, one event per step of each task,
 * translated from the worker's own events. Publishing never throws into the worker.
 */
export class EventDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastWarning = 0;
  private taskEventsOn: boolean;
  private readonly detach: Array<() => void> = [];
  /** Start times of running tasks, kept only while task events are on. */
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly source: EventEmitter<WorkerEvents>,
    private readonly hostname: string,
    private readonly monitor: WorkerMonitor,
    private readonly channel: EventChannel,
    private readonly logger: Logger,
    private readonly options: EventDispatcherOptions,
  ) {
    this.taskEventsOn = options.taskEvents;
  }

  get taskEvents(): boolean {
    return this.taskEventsOn;
  }

  /** Turns task events on or off (`enable_events` / `disable_events`). */
  setTaskEvents(enabled: boolean): void {
    this.taskEventsOn = enabled;
  }

  async start(): Promise<void> {
    this.listen();
    if (this.options.heartbeatMs <= 0) return; // --without-heartbeat: no worker events at all
    await this.sendWorker('worker-online');
    this.timer = setInterval(() => void this.sendWorker('worker-heartbeat'), this.options.heartbeatMs);
    this.timer.unref(); // the worker holds the process; heartbeats alone must not
  }

  /** A heartbeat now (the `heartbeat` command). */
  heartbeat(): void {
    if (this.options.heartbeatMs > 0) void this.sendWorker('worker-heartbeat');
  }

  /** Sends `worker-offline`, waiting for it at most `OFFLINE_WAIT_MS`: a broker that is away must not hold up a stop. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const off of this.detach.splice(0)) off();
    if (this.options.heartbeatMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.sendWorker('worker-offline'),
      new Promise((resolve) => (timer = setTimeout(resolve, OFFLINE_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private sendWorker(type: string): Promise<void> {
    const active = this.monitor.inState('STARTED').length;
    return this.send(
      celeryEvent(
        type,
        this.hostname,
        workerFields(this.options.heartbeatMs / 1000, active, this.monitor.processed),
      ),
    );
  }

  /** Task events are built only while they are on: a worker without `-E` pays nothing per task. */
  private sendTask(type: string, fields: () => Record<string, JsonValue>): void {
    if (this.taskEventsOn) void this.send(celeryEvent(type, this.hostname, fields()));
  }

  private async send(event: CeleryEvent): Promise<void> {
    try {
      await this.channel.publish(event);
    } catch (error) {
      if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
      this.lastWarning = Date.now();
      this.logger.warn(`${this.hostname}: could not send event ${event.type}: ${(error as Error).message}`);
    }
  }

  private on<K extends keyof WorkerEvents>(name: K, listener: (...args: WorkerEvents[K]) => void): void {
    const wrapped = listener as (...args: unknown[]) => void;
    (this.source as EventEmitter).on(name, wrapped);
    this.detach.push(() => (this.source as EventEmitter).off(name, wrapped));
  }

  /** Seconds since the task started (for `task-succeeded`), from the start times kept while events are on. */
  private runtimeOf(envelope: TaskEnvelope): number {
    const started = this.startedAt.get(envelope.id);
    this.startedAt.delete(envelope.id);
    return started === undefined ? 0 : (Date.now() - started) / 1000;
  }

  private listen(): void {
    this.on('task-received', (envelope) => this.sendTask('task-received', () => receivedFields(envelope)));
    this.on('task-started', (envelope) => {
      if (this.taskEventsOn) this.startedAt.set(envelope.id, Date.now());
      this.sendTask('task-started', () => ({ uuid: envelope.id, pid: process.pid }));
    });
    this.on('task-succeeded', (envelope, result) =>
      this.sendTask('task-succeeded', () => succeededFields(envelope, result, this.runtimeOf(envelope))),
    );
    // Runs that end otherwise drop their start time too.
    for (const ended of ['task-failed', 'task-retried', 'task-revoked', 'task-rejected'] as const)
      this.on(ended, (...[envelope]: WorkerEvents[typeof ended]) => void this.startedAt.delete(envelope.id));
    this.on('task-failed', (envelope, error) =>
      this.sendTask('task-failed', () => errorFields(envelope, error)),
    );
    this.on('task-retried', (envelope, error) =>
      this.sendTask('task-retried', () => errorFields(envelope, error)),
    );
    this.on('task-revoked', (envelope, reason, signum) =>
      this.sendTask('task-revoked', () => ({
        uuid: envelope.id,
        terminated: reason === 'terminated',
        signum: signum ?? null,
        expired: reason === 'expired',
      })),
    );
    this.on('task-rejected', (envelope, requeue) =>
      this.sendTask('task-rejected', () => ({ uuid: envelope.id, requeue })),
    );
  }
}
