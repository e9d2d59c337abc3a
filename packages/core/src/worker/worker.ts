import { EventEmitter } from 'node:events';
import { hostname as osHostname } from 'node:os';
import type { App } from '../app/app';
import { ConfigurationError } from '../errors';
import { getTaskLogger, type Logger } from '../logging/logger';
import { States, type TaskEnvelope } from '../protocol/message';
import { encodeTaskMessage } from '../protocol/task-codec';
import { holdProcess } from '../runtime/process-hold';
import type { BaseTask } from '../task/base-task';
import type { Consumer, Delivery } from '../transport/transport';
import { inProcessRunner, type TaskRunner } from './pools/task-runner';
import type { ThreadAppModule } from './pools/thread-protocol';
import { Semaphore } from './semaphore';
import { WorkerMonitor } from './monitor';
import { answerControl } from './remote-control';
import { admit } from './run/admission';
import { executeTask, type ExecutionHost, type Outcome } from './run/execute';
import { RunReport } from './run/run-report';

export interface WorkerOptions {
  /** Queues to consume. @default [app.defaultQueue] */
  queues?: string[];
  /** Runs at once. @default 10 */
  concurrency?: number;
  /** Prefetch = concurrency × this (messages reserved ahead of free slots). @default 4 */
  prefetchMultiplier?: number;
  /** This worker's name (`name@host`), seen in `request.hostname` and STARTED meta. @default `queue@<hostname>` */
  hostname?: string;
  /** ETAs closer than this are waited for in memory; later ones go back to the broker's delay. @default 1000 */
  etaHoldMs?: number;
  /**
   * `async`: bodies run in this event loop (I/O-bound work). `threads`: each body runs in a worker thread
   * (one per unit of concurrency) that is terminated at the hard time limit, so CPU-bound code is stopped.
   * @default 'async'
   */
  pool?: 'async' | 'threads';
  /** With `pool: 'threads'`: the module each thread loads to get this App's tasks. */
  threadApp?: ThreadAppModule;
}

/** Events a worker emits, for monitoring and tests. */
export interface WorkerEvents {
  'task-received': [envelope: TaskEnvelope];
  'task-started': [envelope: TaskEnvelope];
  'task-succeeded': [envelope: TaskEnvelope, result: unknown];
  'task-failed': [envelope: TaskEnvelope, error: Error];
  'task-retried': [envelope: TaskEnvelope];
  'task-revoked': [envelope: TaskEnvelope, reason: string];
  /** A message was dead-lettered (undecodable, unknown task, rejected by its task). */
  'message-rejected': [reason: string, detail: string];
}

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Consumes task messages and runs each through one pipeline: admit (decode, revoked, ETA) → run (the body
 * in the pool, with its limits) → decide (success, retry, failure) → report (the result backend) → settle
 * (ack, requeue or dead-letter). Bodies run in the `async` pool (this event loop: I/O-bound work; CPU-bound
 * code blocks it and cannot be stopped at its hard time limit) or the `threads` pool (one worker thread per
 * unit of concurrency, terminated at the hard time limit).
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly hostname: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly prefetch: number;
  private readonly etaHoldMs: number;
  private readonly slots: Semaphore;
  private readonly consumers: Consumer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly held = new Map<NodeJS.Timeout, () => void>();
  private readonly logger: Logger;
  private readonly host: ExecutionHost;
  private readonly runner: TaskRunner;
  private state: State = 'idle';
  /** Reserved, running and recently finished tasks (for remote control). */
  readonly monitor = new WorkerMonitor();
  private stopControl: (() => Promise<void>) | undefined;
  private readonly startedAt = Date.now();
  /** A started worker keeps its process alive until `stop()`, even between two reconnect attempts. */
  private releaseProcess: (() => void) | undefined;

  constructor(
    readonly app: App,
    options: WorkerOptions = {},
  ) {
    super();
    this.hostname = options.hostname ?? `queue@${osHostname()}`;
    this.queues = options.queues?.length ? [...options.queues] : [app.defaultQueue];
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 10));
    this.prefetch = this.concurrency * Math.max(1, Math.floor(options.prefetchMultiplier ?? 4));
    this.etaHoldMs = options.etaHoldMs ?? 1000;
    this.slots = new Semaphore(this.concurrency);
    this.logger = getTaskLogger('queue.worker');
    if (options.pool === 'threads') {
      if (!options.threadApp)
        throw new ConfigurationError("pool 'threads' needs threadApp: the module that exports this App");
      // Loaded only for this pool: piscina costs every other worker ~9 MB of RSS.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ThreadPoolRunner } = require('./pools/thread-pool') as typeof import('./pools/thread-pool');
      this.runner = new ThreadPoolRunner(options.threadApp, this.concurrency);
    } else {
      this.runner = inProcessRunner;
    }
    this.host = {
      runner: this.runner,
      backend: app.backend,
      hostname: this.hostname,
      logger: this.logger,
      scheduleRetry: (next, delayMs, queue) =>
        app.transport.publish(encodeTaskMessage(next), { queue: queue || app.defaultQueue, delayMs }),
    };
  }

  /** The pool kind task bodies run in. */
  get pool(): 'async' | 'threads' {
    return this.runner.kind;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Connects and starts consuming every queue. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker ${this.hostname} was already started`);
    // Tasks are initialised once, when the worker starts (options checked against the App's defaults now).
    for (const name of this.app.taskNames) this.app.getTask(name);
    this.state = 'running';
    this.releaseProcess = holdProcess();
    try {
      await this.connectAndConsume();
    } catch (error) {
      await this.stop({ timeoutMs: 0 }).catch(() => undefined);
      throw error;
    }
    this.logger.info(
      `worker ${this.hostname} consuming ${this.queues.join(', ')} (concurrency ${this.concurrency})`,
    );
  }

  private async connectAndConsume(): Promise<void> {
    await this.app.connect();
    this.trackOutcomes();
    this.stopControl = await this.app.transport.control?.serve(this.hostname, (command) =>
      answerControl(this, command),
    );
    for (const queue of this.queues) {
      this.consumers.push(
        await this.app.transport.consume(queue, (delivery) => this.track(this.handleSafely(delivery)), {
          prefetch: this.prefetch,
        }),
      );
    }
  }

  /**
   * Warm stop: no new messages, runs in progress finish (up to `timeoutMs`); messages not yet started go
   * back to the queue when the transport closes.
   */
  async stop({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    await Promise.all(this.consumers.splice(0).map((consumer) => consumer.cancel()));
    await this.stopControl?.().catch(() => undefined);
    for (const [timer, resolve] of this.held) {
      clearTimeout(timer);
      resolve(); // the held message is left unsettled, so it returns to its queue
    }
    this.held.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.runner.close();
    this.state = 'stopped';
    this.releaseProcess?.();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private deadLetter(delivery: Delivery, reason: string, detail: string): void {
    this.logger.warn(`rejected a message from ${delivery.queue}: ${reason}: ${detail}`);
    delivery.deadLetter(reason, detail);
    this.emit('message-rejected', reason, detail);
  }

  /** Nothing a message does may escape as an unhandled rejection: an unexpected error dead-letters it. */
  private async handleSafely(delivery: Delivery): Promise<void> {
    try {
      await this.handle(delivery);
    } catch (error) {
      this.deadLetter(delivery, 'internal-error', `worker error: ${(error as Error).message}`);
    }
  }

  private async handle(delivery: Delivery): Promise<void> {
    const admission = admit(delivery.message, this.app, this.etaHoldMs, Date.now());
    if (admission.kind === 'undecodable') {
      this.deadLetter(delivery, admission.reason, admission.detail);
      return;
    }
    const { envelope } = admission;
    if (admission.kind === 'unknown-task') {
      await this.quietly(new RunReport(this.app.backend, envelope, false).unknownTask(), envelope);
      this.deadLetter(
        delivery,
        'unknown-task',
        `task ${JSON.stringify(envelope.task)} is not registered on ${this.hostname}`,
      );
      return;
    }
    this.emit('task-received', envelope);
    const { task } = admission;
    const ignored = task.options.ignoreResult || envelope.ignoreResult;
    const report = new RunReport(this.app.backend, envelope, ignored, this.app.conf.maxResultBytes);
    if (admission.kind === 'revoked') {
      await this.quietly(report.revoked(admission.reason), envelope);
      this.logger.info(`discarding ${envelope.task}[${envelope.id}]: ${admission.reason}`);
      delivery.ack();
      this.emit('task-revoked', envelope, admission.reason);
      return;
    }
    if (admission.kind === 'defer') {
      await this.deferToBroker(delivery, envelope, admission.waitMs);
      return;
    }
    if (admission.holdMs > 0) await this.hold(admission.holdMs);
    if (this.state !== 'running') return; // stopping: the unsettled message returns to the queue
    if (task.options.trackReceived) await this.quietly(report.received(), envelope);
    await this.slots.acquire();
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (slotHeld) this.slots.release();
      slotHeld = false;
    };
    try {
      if (this.state !== 'running') return; // warm stop: not started, so it stays unsettled and returns to its queue
      if (!task.options.acksLate) delivery.ack();
      this.emit('task-started', envelope);
      const delivered = {
        exchange: delivery.exchange,
        routingKey: delivery.routingKey,
        queue: delivery.queue,
        redelivered: delivery.redelivered,
        priority: envelope.priority,
      };
      const run = { task, envelope, delivery: delivered, report, bodyEnded: releaseSlot };
      const outcome = await executeTask(run, this.host).catch((error: unknown): Outcome => ({
        kind: 'requeue',
        error: error as Error,
      }));
      this.settle(delivery, task, envelope, outcome);
    } finally {
      releaseSlot();
    }
  }

  private settle(delivery: Delivery, task: BaseTask, envelope: TaskEnvelope, outcome: Outcome): void {
    switch (outcome.kind) {
      case 'success':
        delivery.ack();
        this.emit('task-succeeded', envelope, outcome.value);
        return;
      case 'failure':
        this.logger.error(
          `${envelope.task}[${envelope.id}] failed: ${outcome.error.name}: ${outcome.error.message}`,
        );
        delivery.ack();
        this.emit('task-failed', envelope, outcome.error);
        return;
      case 'retry':
        delivery.ack();
        this.emit('task-retried', envelope);
        return;
      case 'ignored':
        delivery.ack();
        this.monitor.finishedWith(envelope, 'IGNORED');
        return;
      case 'rejected':
        this.monitor.finishedWith(envelope, 'REJECTED');
        if (outcome.requeue && task.options.acksLate) delivery.requeue();
        else this.deadLetter(delivery, 'rejected-by-task', outcome.reason);
        return;
      case 'requeue':
        this.logger.error(
          `${envelope.task}[${envelope.id}]: outcome not recorded (${outcome.error.message}); requeued`,
        );
        delivery.requeue();
        this.monitor.finishedWith(envelope, 'REQUEUED');
        return;
    }
  }

  /** Seconds since this worker was created. */
  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  /** Feeds the monitor from this worker's own events. */
  private trackOutcomes(): void {
    this.on('task-received', (envelope) => this.monitor.received(envelope));
    this.on('task-started', (envelope) => this.monitor.started(envelope));
    this.on('task-succeeded', (envelope) => this.monitor.finishedWith(envelope, States.SUCCESS));
    this.on('task-failed', (envelope) => this.monitor.finishedWith(envelope, States.FAILURE));
    this.on('task-retried', (envelope) => this.monitor.finishedWith(envelope, States.RETRY));
    this.on('task-revoked', (envelope) => this.monitor.finishedWith(envelope, States.REVOKED));
  }

  /** Sends the message back to the broker's delay (ETA far off) instead of holding it unacked in memory. */
  private async deferToBroker(delivery: Delivery, envelope: TaskEnvelope, waitMs: number): Promise<void> {
    try {
      await this.app.transport.publish(delivery.message, {
        queue: delivery.routingKey || delivery.queue,
        delayMs: waitMs,
      });
      delivery.ack();
      this.monitor.finishedWith(envelope, 'DEFERRED');
    } catch (error) {
      this.logger.error(
        `could not defer ${envelope.task}[${envelope.id}] until its ETA: ${(error as Error).message}`,
      );
      delivery.requeue();
    }
  }

  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.held.delete(timer);
        resolve();
      }, ms);
      this.held.set(timer, resolve);
    });
  }

  /** A report before or beside the run (RECEIVED, REVOKED, unknown task): its failure is logged, not fatal. */
  private async quietly(report: Promise<void>, envelope: TaskEnvelope): Promise<void> {
    try {
      await report;
    } catch (error) {
      this.logger.error(
        `could not report a state of ${envelope.task}[${envelope.id}] (${envelope.argsrepr}): ${(error as Error).message}`,
      );
    }
  }
}
