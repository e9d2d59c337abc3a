import { EventEmitter } from 'node:events';
import type { App } from '../app/app';
import { ConfigurationError, TaskRevokedError } from '../errors';
import { getTaskLogger, type Logger } from '../logging/logger';
import { States, type TaskEnvelope } from '../protocol/message';
import { serializeError } from '../protocol/result-codec';
import { expandNodeName } from '../runtime/node-name';
import { holdProcess } from '../runtime/process-hold';
import type { BaseTask } from '../task/base-task';
import type { Consumer, Delivery } from '../transport/transport';

/** A queue whose consumer is being set up (its slot keeps `queues` in order). */
const PENDING_CONSUMER: Consumer = { cancel: async () => undefined };
import { inProcessRunner, type TaskRunner } from './pools/task-runner';
import type { ThreadAppModule } from './pools/thread-protocol';
import { Semaphore } from './semaphore';
import { WorkerMonitor } from './monitor';
import { answerControl, type ControlledWorker } from './control/remote-control';
import { EventDispatcher } from './events/event-dispatcher';
import { admit } from './run/admission';
import { executeTask, type ExecutionHost, type Outcome, type TimeLimits } from './run/execute';
import { RateLimiter, type RateLimit } from './run/rate-limit';
import { RunReport } from './run/run-report';
import { Termination } from './run/termination';
import { hasWorkflow, Workflow } from './run/workflow';
import type { DeliveryInfo } from '../task/request';

/**
 * Options of `app.worker({...})` / `new Worker(app, {...})` (the `queue worker` command sets them from its
 * flags).
 */
export interface WorkerOptions {
  /** Queues to consume. @default [app.defaultQueue] */
  queues?: string[];
  /** Runs at once. @default 10 */
  concurrency?: number;
  /** Prefetch = concurrency × this (messages reserved ahead of free slots). @default 4 */
  prefetchMultiplier?: number;
  /**
   * This worker's name (`name@host`), seen in `request.hostname` and STARTED meta; `%h`, `%n` and `%d` expand
   * as in Celery (host name, without its domain, the domain). @default `queue@%h`
   */
  hostname?: string;
  /** ETAs closer than this are waited for in memory; later ones go back to the broker's delay. @default 1000 */
  etaHoldMs?: number;
  /**
   * `async`: bodies run in this event loop (I/O-bound work). `threads`: each body runs in a worker thread
   * (one per unit of concurrency) that is terminated at the hard time limit, so CPU-bound code is stopped.
   * @default 'async'
   */
  pool?: 'async' | 'threads';
  /**
   * With `pool: 'threads'`: the module each thread loads to get this App's tasks. @default none (required by
   * `pool: 'threads'`)
   */
  threadApp?: ThreadAppModule;
  /** Send Celery's task events (`-E`). @default the App's `workerSendTaskEvents` */
  sendTaskEvents?: boolean;
  /**
   * Milliseconds between `worker-heartbeat` events; 0 sends no worker events (online, heartbeat, offline;
   * task events still follow `sendTaskEvents`). @default 2000
   */
  heartbeatIntervalMs?: number;
  /**
   * With `pool: 'threads'`: how long a task revoked with `terminate` may take to end after its signal fired,
   * before its thread is terminated. @default 1000
   */
  terminateGraceMs?: number;
  /**
   * At start, ask the running workers for the ids they hold revoked (Celery's mingle; costs about a second
   * of start-up). @default false (`queue worker` turns it on)
   */
  mingle?: boolean;
}

/** Events a worker emits, for monitoring and tests. */
export interface WorkerEvents {
  /** A task message was accepted (decoded, known, not revoked), before it waits for a free slot. */
  'task-received': [envelope: TaskEnvelope];
  /** A run began. */
  'task-started': [envelope: TaskEnvelope];
  /** A run returned (SUCCESS); `result` is its value. */
  'task-succeeded': [envelope: TaskEnvelope, result: unknown];
  /** A run failed for good (FAILURE). */
  'task-failed': [envelope: TaskEnvelope, error: Error];
  /** A run failed and the task was sent again for later (state RETRY). */
  'task-retried': [envelope: TaskEnvelope, error: Error];
  /** Discarded (`revoked`, `expired`) or stopped while running (`terminated`, with the signal's number). */
  'task-revoked': [envelope: TaskEnvelope, reason: 'revoked' | 'expired' | 'terminated', signum?: number];
  /** The task rejected its message (`Reject`): requeued or dead-lettered. */
  'task-rejected': [envelope: TaskEnvelope, requeue: boolean];
  /** Remote control asked this worker to shut down (it stops warm by itself). */
  'shutdown-requested': [message: string | null];
  /** A message was dead-lettered (undecodable, unknown task, rejected by its task). */
  'message-rejected': [reason: string, detail: string];
}

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/** Celery's mingle waits this long for the peers' `hello` replies. */
const MINGLE_TIMEOUT_MS = 1000;

/**
 * Consumes task messages and runs each through one pipeline: admit (decode, revoked, ETA) → run (the body
 * in the pool, with its limits) → decide (success, retry, failure) → report (the result backend) → settle
 * (ack, requeue or dead-letter). Bodies run in the `async` pool (this event loop: I/O-bound work; CPU-bound
 * code blocks it and cannot be stopped at its hard time limit) or the `threads` pool (one worker thread per
 * unit of concurrency, terminated at the hard time limit). Answers Celery's remote control and sends its
 * events when the transport carries them.
 */
export class Worker extends EventEmitter<WorkerEvents> implements ControlledWorker {
  /** This worker's name (`name@host`), as remote control and events know it. */
  readonly hostname: string;
  private concurrencyLimit: number;
  private readonly prefetchMultiplier: number;
  private readonly etaHoldMs: number;
  private readonly slots: Semaphore;
  private readonly consumers = new Map<string, Consumer>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly held = new Map<NodeJS.Timeout, () => void>();
  /** How to stop each running task (revoke with `terminate`). */
  private readonly runs = new Map<string, Termination>();
  /** Time limits changed at run time (`time_limit`), by task name. */
  private readonly timeLimits = new Map<string, TimeLimits>();
  /** Per task name: a token bucket and the tasks waiting for it (Celery's rate limits). */
  private readonly rateLimits: RateLimiter;
  private readonly logger: Logger;
  private readonly host: ExecutionHost;
  private readonly runner: TaskRunner;
  private readonly options: WorkerOptions;
  private state: State = 'idle';
  private stopping: Promise<void> | undefined;
  /** Reserved, running and recently finished tasks (for remote control). */
  readonly monitor = new WorkerMonitor();
  private stopControl: (() => Promise<void>) | undefined;
  private events: EventDispatcher | undefined;
  private readonly startedAt = Date.now();
  /** A started worker keeps its process alive until `stop()`, even between two reconnect attempts. */
  private releaseProcess: (() => void) | undefined;

  constructor(
    /** The App whose tasks this worker runs. */
    readonly app: App,
    options: WorkerOptions = {},
  ) {
    super();
    this.options = options;
    this.hostname = expandNodeName(options.hostname ?? 'queue@%h');
    for (const queue of options.queues?.length ? options.queues : [app.defaultQueue])
      this.consumers.set(queue, PENDING_CONSUMER);
    this.concurrencyLimit = Math.max(1, Math.floor(options.concurrency ?? 10));
    this.prefetchMultiplier = Math.max(1, Math.floor(options.prefetchMultiplier ?? 4));
    this.etaHoldMs = options.etaHoldMs ?? 1000;
    this.slots = new Semaphore(this.concurrencyLimit);
    this.logger = getTaskLogger('queue.worker');
    this.rateLimits = new RateLimiter(
      {
        defaultRateOf: (name) => app.findTask(name)?.options.rateLimit ?? null,
        isRevoked: (id) => app.isRevoked(id),
      },
      app.conf.workerDisableRateLimits,
    );
    if (options.pool === 'threads') {
      if (!options.threadApp)
        throw new ConfigurationError("pool 'threads' needs threadApp: the module that exports this App");
      // Loaded only for this pool: piscina costs every other worker ~9 MB of RSS.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ThreadPoolRunner } = require('./pools/thread-pool') as typeof import('./pools/thread-pool');
      this.runner = new ThreadPoolRunner(
        options.threadApp,
        this.concurrencyLimit,
        options.terminateGraceMs ?? 1000,
      );
    } else {
      this.runner = inProcessRunner;
    }
    this.host = {
      runner: this.runner,
      tracer: app.tracer,
      backend: app.backend,
      hostname: this.hostname,
      logger: this.logger,
      timeLimitsOf: (name) => this.timeLimitsOf(name),
      scheduleRetry: (next, delayMs, queue) => app.publishTask(next, queue || app.defaultQueue, delayMs),
      workflow: new Workflow(app, app.backend, this.logger),
    };
  }

  /** The pool kind task bodies run in. */
  get pool(): 'async' | 'threads' {
    return this.runner.kind;
  }

  /** Runs at once (changed by `pool_grow`/`pool_shrink`). */
  get concurrency(): number {
    return this.concurrencyLimit;
  }

  /** Messages reserved ahead per queue: concurrency × prefetch multiplier. */
  get prefetch(): number {
    return this.concurrencyLimit * this.prefetchMultiplier;
  }

  /** The queues consumed (changed by `add_consumer`/`cancel_consumer`). */
  get queues(): readonly string[] {
    return [...this.consumers.keys()];
  }

  /** Started and not stopping. */
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
    const { control, events } = this.app.transport;
    if (control && this.options.mingle) await this.mingle();
    this.stopControl = await control?.serve(this.hostname, (command) => answerControl(this, command));
    if (events) {
      this.events = new EventDispatcher(this, this.hostname, this.monitor, events, this.logger, {
        taskEvents: this.options.sendTaskEvents ?? this.app.conf.workerSendTaskEvents,
        heartbeatMs: this.options.heartbeatIntervalMs ?? 2000,
      });
      await this.events.start();
    }
    for (const queue of this.queues) await this.consumeQueue(queue);
  }

  private async consumeQueue(queue: string): Promise<void> {
    const consumer = await this.app.transport.consume(
      queue,
      (delivery) => this.track(this.handleSafely(delivery)),
      { prefetch: this.prefetch },
    );
    this.consumers.set(queue, consumer);
  }

  /** Celery's mingle: learn the revoked ids the running workers hold. */
  private async mingle(): Promise<void> {
    const replies = await this.app.control
      .broadcast(
        'hello',
        { from_node: this.hostname, revoked: {} },
        { reply: true, timeout: MINGLE_TIMEOUT_MS / 1000 },
      )
      .catch((error: unknown) => {
        this.logger.warn(`mingle: no answer from the other workers: ${(error as Error).message}`);
        return {};
      });
    let learned = 0;
    for (const reply of Object.values(replies)) {
      const revoked = reply && typeof reply === 'object' && !Array.isArray(reply) ? reply.revoked : undefined;
      if (!revoked || typeof revoked !== 'object' || Array.isArray(revoked)) continue;
      for (const id of Object.keys(revoked)) {
        if (!this.app.revocations.has(id)) learned++;
        this.app.revocations.add(id);
      }
    }
    if (Object.keys(replies).length > 0)
      this.logger.info(
        `mingle: synced with ${Object.keys(replies).join(', ')} (${learned} revoked ids learned)`,
      );
  }

  /**
   * Warm stop: no new messages, runs in progress finish (up to `timeoutMs`); messages not yet started go
   * back to the queue when the transport closes. Calling it again waits for the same stop.
   */
  stop({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.stopping ??= this.stopWarm(timeoutMs);
    return this.stopping;
  }

  private async stopWarm(timeoutMs: number): Promise<void> {
    this.state = 'stopping';
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.all(consumers.map((consumer) => consumer.cancel()));
    await this.stopControl?.().catch(() => undefined);
    for (const [timer, resolve] of this.held) {
      clearTimeout(timer);
      resolve(); // the held message is left unsettled, so it returns to its queue
    }
    this.held.clear();
    this.rateLimits.close(); // tasks waiting for their rate limit are left unsettled too
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.events?.stop();
    await this.runner.close();
    this.state = 'stopped';
    this.releaseProcess?.();
  }

  // ---- what remote control does (ControlledWorker) ----

  terminate(ids: readonly string[], signum: number): string[] {
    const found: string[] = [];
    for (const id of new Set(ids)) {
      const termination = this.runs.get(id);
      if (termination) termination.terminate(signum);
      if (termination || this.monitor.holding(id)) found.push(id);
    }
    return found;
  }

  /** Tasks still waiting for their rate limit leave at once when revoked (Celery drops them at their turn). */
  discardWaiting(ids: readonly string[]): void {
    this.rateLimits.revoke(ids);
  }

  setRateLimit(taskName: string, rate: RateLimit): void {
    this.rateLimits.setRate(taskName, rate);
  }

  rateLimitOf(taskName: string): RateLimit {
    return this.rateLimits.rateOf(taskName);
  }

  /** Changes a task's time limits on this worker, for runs that start from now on (`time_limit`). */
  setTimeLimits(taskName: string, limits: TimeLimits): void {
    this.timeLimits.set(taskName, limits);
  }

  /**
   * Starts consuming `queue` (`add_consumer`); false when it is consumed already or the worker is not
   * running.
   */
  async addQueue(queue: string): Promise<boolean> {
    if (this.consumers.has(queue) || this.state !== 'running') return false;
    this.consumers.set(queue, PENDING_CONSUMER);
    try {
      await this.consumeQueue(queue);
    } catch (error) {
      this.consumers.delete(queue);
      throw error;
    }
    this.logger.info(`${this.hostname} now consuming ${queue}`);
    return true;
  }

  /** Stops consuming `queue` (`cancel_consumer`); false when it was not consumed. */
  async cancelQueue(queue: string): Promise<boolean> {
    const consumer = this.consumers.get(queue);
    if (!consumer) return false;
    this.consumers.delete(queue);
    await consumer.cancel();
    this.logger.info(`${this.hostname} no longer consuming ${queue}`);
    return true;
  }

  async resizePool(delta: number): Promise<boolean> {
    if (this.pool !== 'async') return false; // a thread pool's size is fixed when it is created
    const next = Math.max(1, this.concurrencyLimit + delta);
    this.slots.resize(next);
    this.concurrencyLimit = next;
    // Prefetch follows (concurrency × multiplier, as Celery): acks-late runs hold their deliveries.
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.setPrefetch?.(this.prefetch)));
    return true;
  }

  timeLimitsOf(taskName: string): TimeLimits | undefined {
    return this.timeLimits.get(taskName);
  }

  /** Whether this worker sends task events now. */
  get taskEvents(): boolean {
    return this.events?.taskEvents ?? false;
  }

  /** Turns task events on or off (`enable_events`, `disable_events`). */
  setTaskEvents(enabled: boolean): void {
    this.events?.setTaskEvents(enabled);
  }

  /** Sends a `worker-heartbeat` event now (`heartbeat`). */
  sendHeartbeat(): void {
    this.events?.heartbeat();
  }

  requestShutdown(message: string | null): void {
    this.logger.warn(`${this.hostname}: remote shutdown${message ? `: ${message}` : ''}`);
    this.emit('shutdown-requested', message);
    void this.stop();
  }

  // ---- the pipeline ----

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
    const { task } = admission;
    const ignored = task.options.ignoreResult || envelope.ignoreResult;
    const report = new RunReport(this.app.backend, envelope, ignored, this.app.conf.maxResultBytes);
    const delivered: DeliveryInfo = {
      exchange: delivery.exchange,
      routingKey: delivery.routingKey,
      queue: delivery.queue,
      redelivered: delivery.redelivered,
      priority: envelope.priority,
    };
    if (admission.kind === 'revoked') {
      await this.discardRevoked(delivery, envelope, report, admission.reason);
      return;
    }
    if (admission.kind === 'defer') {
      await this.deferToBroker(delivery, envelope, admission.waitMs);
      return;
    }
    this.monitor.received(envelope, delivered);
    this.emit('task-received', envelope);
    if (admission.holdMs > 0) {
      this.monitor.scheduled(envelope.id);
      await this.hold(admission.holdMs);
      this.monitor.reserved(envelope.id);
    }
    if (this.state !== 'running') return; // stopping: the unsettled message returns to its queue
    if (task.options.trackReceived) await this.quietly(report.received(), envelope);
    // Over its rate limit, it waits here, reserved, before a pool slot: other task names go on meanwhile.
    const ready = this.rateLimits.turn(envelope.task, envelope.id);
    const turn = typeof ready === 'string' ? ready : await ready;
    if (turn === 'stopped') return; // warm stop: left unsettled, it returns to its queue
    if (turn === 'revoked') {
      await this.discardRevoked(delivery, envelope, report, 'revoked');
      return;
    }
    await this.slots.acquire();
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (slotHeld) this.slots.release();
      slotHeld = false;
    };
    try {
      if (this.state !== 'running') return; // warm stop: not started, so it stays unsettled and returns to its queue
      // Revoked while it waited (its ETA, a free slot): discarded as Celery does before it starts.
      if (this.app.isRevoked(envelope.id)) {
        await this.discardRevoked(delivery, envelope, report, 'revoked');
        return;
      }
      if (!task.options.acksLate) delivery.ack();
      const termination = new Termination();
      this.runs.set(envelope.id, termination);
      this.monitor.started(envelope.id, !task.options.acksLate);
      this.emit('task-started', envelope);
      const run = { task, envelope, delivery: delivered, report, bodyEnded: releaseSlot, termination };
      const outcome = await executeTask(run, this.host)
        .catch((error: unknown): Outcome => ({ kind: 'requeue', error: error as Error }))
        .finally(() => this.runs.delete(envelope.id));
      this.settle(delivery, task, envelope, outcome);
    } finally {
      releaseSlot();
    }
  }

  /** Revoked or expired: REVOKED is reported, the message acked, and the task never runs. */
  private async discardRevoked(
    delivery: Delivery,
    envelope: TaskEnvelope,
    report: RunReport,
    reason: 'revoked' | 'expired',
  ): Promise<void> {
    await this.quietly(report.revoked(reason), envelope);
    if (hasWorkflow(envelope)) {
      const error = serializeError(new TaskRevokedError(reason));
      await this.host.workflow!.partEnded(envelope, States.REVOKED, error);
    }
    this.logger.info(`discarding ${envelope.task}[${envelope.id}]: ${reason}`);
    delivery.ack();
    this.monitor.finishedWith(envelope, States.REVOKED);
    this.emit('task-revoked', envelope, reason);
  }

  private settle(delivery: Delivery, task: BaseTask, envelope: TaskEnvelope, outcome: Outcome): void {
    const finished = (state: string): void => this.monitor.finishedWith(envelope, state);
    switch (outcome.kind) {
      case 'success':
        delivery.ack();
        finished(States.SUCCESS);
        this.emit('task-succeeded', envelope, outcome.value);
        return;
      case 'failure':
        this.logger.error(
          `${envelope.task}[${envelope.id}] failed: ${outcome.error.name}: ${outcome.error.message}`,
        );
        delivery.ack();
        finished(States.FAILURE);
        this.emit('task-failed', envelope, outcome.error);
        return;
      case 'retry':
        delivery.ack();
        finished(States.RETRY);
        this.emit('task-retried', envelope, outcome.error);
        return;
      case 'terminated':
        this.logger.warn(`${envelope.task}[${envelope.id}] terminated (revoked, signal ${outcome.signum})`);
        delivery.ack();
        finished(States.REVOKED);
        this.emit('task-revoked', envelope, 'terminated', outcome.signum);
        return;
      case 'ignored':
        delivery.ack();
        finished('IGNORED');
        return;
      case 'rejected': {
        finished('REJECTED');
        const requeue = outcome.requeue && task.options.acksLate;
        if (requeue) delivery.requeue();
        else this.deadLetter(delivery, 'rejected-by-task', outcome.reason);
        this.emit('task-rejected', envelope, requeue);
        return;
      }
      case 'requeue':
        this.logger.error(
          `${envelope.task}[${envelope.id}]: outcome not recorded (${outcome.error.message}); requeued`,
        );
        delivery.requeue();
        finished('REQUEUED');
        return;
    }
  }

  /** Seconds since this worker was created. */
  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
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
