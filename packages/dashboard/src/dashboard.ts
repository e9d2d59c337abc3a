import { EventEmitter } from 'node:events';
import { getTaskLogger, type App, type CeleryEvent, type ControlReplies, type Logger } from '@queue/core';
import type { ControlChannel, EventChannel } from '@queue/core/transport';
import { DashboardUnsupportedError } from './errors';
import { activeTasks, Inspector, type InspectionRound } from './feeds/inspector';
import { ManagementApi, vhostOf } from './feeds/management-api';
import { ProgressFollower, type BackendState } from './feeds/progress-follower';
import { QueueMonitor } from './feeds/queue-monitor';
import { compileDashboardOptions, type CompiledDashboardOptions, type DashboardOptions } from './options';
import { FINISHED_STATES } from './state/precedence';
import { QueueStore } from './state/queue-store';
import { TaskRecord } from './state/task-record';
import { isTaskId, TaskStore, type TaskUpdate } from './state/task-store';
import { Throughput } from './state/throughput';
import { WorkerStore } from './state/worker-store';
import type {
  ActionResult,
  DashboardInfo,
  Json,
  QueueView,
  Snapshot,
  TaskDetail,
  TaskSummary,
  ThroughputTick,
  WorkerView,
} from './wire';

/** What a Dashboard tells its listeners (the event stream of its web server). */
export interface DashboardEvents {
  /** A task changed (or appeared). */
  task: [TaskSummary];
  /** A task was dropped to stay within `maxTasks`. */
  taskRemoved: [string];
  /** Some worker changed: read `workers()`. */
  workers: [];
  /** A new round of queue numbers: read `queues(true)`. */
  queues: [];
  /** Seconds that ended, with their succeeded/failed counts. */
  throughput: [ThroughputTick];
}

/** Queues learnt from task-sent events, kept at most. */
const MAX_SENT_QUEUES = 50;
/** A state read from the result backend for a task page waits at most this long. */
const BACKEND_READ_TIMEOUT_MS = 1500;

const nowSeconds = () => Date.now() / 1000;

function replyError(reply: Json): string | undefined {
  return typeof reply === 'object' &&
    reply !== null &&
    !Array.isArray(reply) &&
    typeof reply.error === 'string'
    ? reply.error
    : undefined;
}

/** A one-line outcome of a control command, from the workers' replies. */
function describeReplies(replies: ControlReplies, what: string): ActionResult {
  const entries = Object.entries(replies);
  if (entries.length === 0) return { ok: false, replies, message: `${what}: no worker answered` };
  const errors = entries.filter(([, reply]) => replyError(reply) !== undefined);
  const text = entries
    .map(([hostname, reply]) => {
      const error = replyError(reply);
      const ok =
        typeof reply === 'object' && reply !== null && !Array.isArray(reply) && typeof reply.ok === 'string'
          ? reply.ok
          : JSON.stringify(reply);
      return `${hostname}: ${error ?? ok}`;
    })
    .join('; ');
  return { ok: errors.length < entries.length, replies, message: `${what}: ${text}` };
}

/**
 * The state of a fleet as Celery's events and remote control show it, kept up to date while started:
 * workers (heartbeats + `inspect`), tasks (events; PROGRESS from the result backend), queues (the
 * management API or the broker) and succeeded/failed throughput. It listens; it never polls the broker per
 * task. Memory is bounded by `maxTasks`, the history windows and the caps on workers and queues.
 *
 * @example
 * ```ts
 * const dashboard = new Dashboard(new App({ broker: 'amqp://127.0.0.1//' }), { maxTasks: 5000 });
 * await dashboard.start();
 * dashboard.on('task', (task) => console.log(task.id, task.state));
 * ```
 */
export class Dashboard extends EventEmitter<DashboardEvents> {
  /** The options in effect, defaults filled in. */
  readonly options: CompiledDashboardOptions;
  private readonly logger: Logger;
  private readonly tasks: TaskStore;
  private readonly workerStore: WorkerStore;
  private readonly queueStore: QueueStore;
  private readonly throughput: Throughput;
  private readonly sentQueues = new Set<string>();
  private readonly inspector: Inspector;
  private readonly queueMonitor: QueueMonitor;
  private readonly follower: ProgressFollower | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopListening: (() => Promise<void>) | undefined;
  private onlineKey = '';
  private started = false;
  private stopped = false;

  constructor(
    /** The App whose broker (and result backend) is watched; the dashboard never closes it. */
    readonly app: App,
    options: DashboardOptions = {},
  ) {
    super();
    this.options = compileDashboardOptions(options);
    this.logger = getTaskLogger('queue.dashboard');
    const control = this.controlChannel();
    // Inspect answers keep a heartbeat-less worker online for a bit over two rounds.
    this.workerStore = new WorkerStore(
      (this.options.inspectIntervalMs * 2.5 + this.options.controlTimeoutMs) / 1000,
    );
    this.tasks = new TaskStore(this.options.maxTasks, (record) => this.evicted(record));
    const historyLength = Math.ceil(
      (this.options.throughputWindowSeconds * 1000) / this.options.queueIntervalMs,
    );
    this.queueStore = new QueueStore(Math.min(historyLength, 1000));
    this.throughput = new Throughput(this.options.throughputWindowSeconds, nowSeconds());
    this.inspector = new Inspector(
      app.control,
      { timeoutMs: this.options.controlTimeoutMs, enableEvents: this.options.enableEvents },
      this.logger,
    );
    const management = this.options.managementUrl
      ? new ManagementApi(this.options.managementUrl, vhostOf(app.transport.displayUrl))
      : undefined;
    this.queueMonitor = new QueueMonitor(
      control,
      management,
      {
        watched: () => this.watchedQueues(),
        consumers: () => this.workerStore.consumersByQueue(nowSeconds()),
      },
      this.logger,
    );
    this.follower =
      this.options.progress && this.backendReadable
        ? new ProgressFollower(
            app,
            this.options.maxFollowed,
            (id, state) => this.backendStateOf(id, state),
            this.logger,
          )
        : undefined;
  }

  /** Whether another process's task states can be read from the result backend (not with rpc://). */
  get backendReadable(): boolean {
    return this.app.resultBackendName.toLowerCase() !== 'rpc';
  }

  /** Connects, starts listening to events and asks the workers about themselves; then keeps it all fresh. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const events = this.eventChannel();
    await this.app.connect();
    this.stopListening = await events.listen((event) => this.ingest(event));
    this.every(this.options.inspectIntervalMs, () => this.inspect());
    this.every(this.options.queueIntervalMs, () => this.readQueues());
    this.every(1000, () => this.tick());
    void this.inspect();
    void this.readQueues();
  }

  /** Stops listening and following; the App stays open (it is the caller's). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.follower?.close();
    await this.stopListening?.().catch(() => undefined);
  }

  /** Applies one Celery event, as if it came from the broker (the event stream feeds it; so can a test). */
  ingest(event: CeleryEvent): void {
    if (this.stopped || typeof event.type !== 'string') return;
    const now = nowSeconds();
    if (event.type.startsWith('worker-')) {
      if (this.workerStore.applyEvent(event, now)) this.emit('workers');
      return;
    }
    if (!event.type.startsWith('task-')) return;
    const update = this.tasks.apply(event, now);
    if (!update) return;
    if (event.type === 'task-sent' && typeof event.queue === 'string') this.noteSentQueue(event.queue);
    this.afterTaskUpdate(update, now);
  }

  /** How the dashboard is set up (broker, result backend, where queue numbers come from). */
  info(): DashboardInfo {
    return {
      broker: this.app.transport.displayUrl,
      resultBackend: this.app.resultBackendName,
      progress: this.follower !== undefined,
      queueSource: this.queueMonitor.source,
      maxTasks: this.options.maxTasks,
      throughputWindow: this.options.throughputWindowSeconds,
    };
  }

  /** Everything it knows now: what the event stream sends first. */
  snapshot(): Snapshot {
    const now = nowSeconds();
    return {
      info: this.info(),
      tasks: this.tasks.all().map((record) => record.summary()),
      workers: this.workers(),
      queues: this.queues(),
      throughput: this.throughput.series(now),
      now,
    };
  }

  /** Every worker it knows, by hostname. */
  workers(): WorkerView[] {
    return this.workerStore.views(nowSeconds());
  }

  /** With `latestOnly`, each queue's history holds only its newest sample. */
  queues(latestOnly = false): QueueView[] {
    return this.queueStore.views(latestOnly);
  }

  /** Whether it knows a worker of that hostname (from its events or its replies). */
  hasWorker(hostname: string): boolean {
    return this.workerStore.has(hostname);
  }

  /**
   * Everything known about a task: the events, and its stored state when the result backend can be read
   * (so a task that finished before the dashboard started is found by id too). Undefined when unknown.
   */
  async taskDetail(id: string): Promise<TaskDetail | undefined> {
    if (!isTaskId(id)) return undefined;
    const stored = this.follower ? await this.readBackend(id) : undefined;
    const record = this.tasks.get(id);
    if (record) return record.detail();
    if (!stored) return undefined;
    // Known only to the result backend: a detail made from the stored state alone.
    const detail = new TaskRecord(id, nowSeconds());
    detail.state = stored.state;
    detail.backendState = stored.state;
    detail.backendMeta = stored.meta;
    detail.progress = stored.percent;
    if (stored.state === 'SUCCESS') detail.result = JSON.stringify(stored.meta);
    return detail.detail();
  }

  /** Revokes a task on every worker; with `terminate`, a running one is stopped (SIGTERM). */
  async revoke(id: string, terminate: boolean): Promise<ActionResult> {
    const replies = await this.app.control.revoke(id, {
      terminate,
      signal: 'SIGTERM',
      reply: true,
      timeout: this.options.controlTimeoutMs / 1000,
    });
    this.inspectSoon();
    return describeReplies(replies, terminate ? 'terminate' : 'revoke');
  }

  /** Warm shutdown of one worker (Celery's workers never answer it). */
  async shutdownWorker(hostname: string): Promise<ActionResult> {
    await this.app.control.shutdown({ destination: [hostname] });
    this.inspectSoon();
    return { ok: true, replies: {}, message: `shutdown sent to ${hostname}` };
  }

  /** Grows (delta > 0) or shrinks one worker's pool by |delta| processes or slots. */
  async resizePool(hostname: string, delta: number): Promise<ActionResult> {
    const target = { destination: [hostname], reply: true, timeout: this.options.controlTimeoutMs / 1000 };
    const replies =
      delta > 0
        ? await this.app.control.poolGrow(delta, target)
        : await this.app.control.poolShrink(-delta, target);
    this.inspectSoon();
    return describeReplies(replies, delta > 0 ? 'pool grow' : 'pool shrink');
  }

  private afterTaskUpdate({ record, previous }: TaskUpdate, now: number): void {
    if (record.state !== previous) {
      if (record.state === 'SUCCESS') this.throughput.add('succeeded', now);
      if (record.state === 'FAILURE') this.throughput.add('failed', now);
    }
    if (FINISHED_STATES.has(record.state)) {
      this.follower?.unfollow(record.id);
      if (record.state === 'SUCCESS' && record.progress !== null) record.progress = 100;
    } else if (record.state === 'STARTED') {
      this.follower?.follow(record.id);
    }
    this.emit('task', record.summary());
  }

  private backendStateOf(id: string, state: BackendState): void {
    const record = this.tasks.get(id);
    if (!record) return;
    record.backendState = state.state;
    record.backendMeta = state.meta;
    if (state.percent !== null) record.progress = state.percent;
    if (state.state === 'SUCCESS' && record.progress !== null) record.progress = 100;
    if (state.state === 'SUCCESS' && record.result === null) record.result = JSON.stringify(state.meta);
    if (FINISHED_STATES.has(state.state)) this.follower?.unfollow(id);
    this.tasks.refresh(record);
    this.emit('task', record.summary());
  }

  private async readBackend(id: string): Promise<BackendState | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), BACKEND_READ_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.follower!.read(id), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private evicted(record: TaskRecord): void {
    this.follower?.unfollow(record.id);
    this.emit('taskRemoved', record.id);
  }

  private async inspect(): Promise<void> {
    const round = await this.inspector.round();
    if (!round || this.stopped) return;
    this.applyRound(round);
  }

  private applyRound(round: InspectionRound): void {
    const { asked } = round;
    for (const [hostname, reply] of Object.entries(round.stats))
      this.workerStore.applyStats(hostname, reply, asked);
    for (const [hostname, reply] of Object.entries(round.activeQueues))
      this.workerStore.applyActiveQueues(hostname, reply, asked);
    for (const [hostname, reply] of Object.entries(round.registered))
      this.workerStore.applyRegistered(hostname, reply, asked);
    const now = nowSeconds();
    for (const [hostname, reply] of Object.entries(round.active)) {
      this.workerStore.applyReply(hostname, asked);
      for (const info of activeTasks(reply)) {
        const update = this.tasks.applyActive(info, now);
        if (update) this.afterTaskUpdate(update, now);
      }
    }
    this.emit('workers');
  }

  private inspectSoon(): void {
    const timer = setTimeout(() => void this.inspect(), 300);
    timer.unref();
  }

  private async readQueues(): Promise<void> {
    const readings = await this.queueMonitor.read();
    if (this.stopped) return;
    this.queueStore.record(readings, nowSeconds());
    this.emit('queues');
  }

  private tick(): void {
    const now = nowSeconds();
    const tick = this.throughput.takeTick(now);
    if (tick) this.emit('throughput', tick);
    // Heartbeats that stop arriving turn a worker offline with time alone.
    const key = this.workerStore.onlineKey(now);
    if (key !== this.onlineKey) {
      this.onlineKey = key;
      this.emit('workers');
    }
  }

  /** Queues to read without the management API: the configured ones, the default, the workers', the sent-to. */
  private watchedQueues(): string[] {
    const names = new Set([...this.options.queues, this.app.defaultQueue]);
    for (const worker of this.workerStore.views(nowSeconds()))
      if (worker.online) for (const q of worker.queues) names.add(q);
    for (const queue of this.sentQueues) names.add(queue);
    return [...names];
  }

  private noteSentQueue(queue: string): void {
    if (queue === '' || queue.length > 255) return;
    this.sentQueues.delete(queue);
    this.sentQueues.add(queue);
    if (this.sentQueues.size > MAX_SENT_QUEUES)
      this.sentQueues.delete(this.sentQueues.values().next().value!);
  }

  private every(ms: number, run: () => unknown): void {
    const timer = setInterval(() => {
      Promise.resolve()
        .then(run)
        .catch((error: unknown) => this.logger.warn(`dashboard: ${(error as Error).message}`));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private eventChannel(): EventChannel {
    const events = this.app.transport.events;
    if (!events)
      throw new DashboardUnsupportedError(
        `the broker ${this.app.transport.displayUrl} carries no Celery events`,
      );
    return events;
  }

  private controlChannel(): ControlChannel {
    const control = this.app.transport.control;
    if (!control)
      throw new DashboardUnsupportedError(
        `the broker ${this.app.transport.displayUrl} has no remote control`,
      );
    return control;
  }
}
