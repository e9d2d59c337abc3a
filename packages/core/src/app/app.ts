import { randomUUID } from 'node:crypto';
import { Signature } from '../canvas/signature';
import { toWireOptions, type SignatureOptions } from '../canvas/signature-dict';
import { NotRegistered } from '../errors';
import { taskSentEvent } from '../protocol/celery-events';
import { getTaskLogger, type Logger } from '../logging/logger';
import type { JsonLimits } from '../protocol/json';
import type { TaskEnvelope } from '../protocol/message';
import { decodeTaskMessage, encodeTaskMessage, ORIGIN } from '../protocol/task-codec';
import { AsyncResult, type DeclaredStates, type NoStates } from '../result/async-result';
import type { ChordStore, ResultBackend } from '../result/result-backend';
import { MemoryResultBackend } from '../result/memory-result-backend';
import { validateApplyOptions, type ApplyOptions } from '../task/apply-options';
import { bindArguments } from '../task/arguments';
import type { BaseTask, TaskClass } from '../task/base-task';
import { bindingOf } from '../task/binding';
import { TaskCatalog } from '../task/catalog';
import { buildOutgoingTask, type CanvasFields } from '../task/envelope';
import {
  functionDefinition,
  taskFunction,
  type BoundTask,
  type BoundTaskOptions,
  type UnboundTaskOptions,
  type TaskFunction,
} from '../task/function-task';
import type { TaskOptions } from '../task/options';
import { validateArguments } from '../task/payload-validation';
import { directRequest, runContext, type RunContext } from '../task/request';
import { bindHost, pushHost, removeHost, setCurrentHost, type TaskHost } from '../task/task-host';
import { createTaskTracer, type TaskTracer } from '../tracing/task-tracer';
import { createResultBackend, createTransport } from '../transport/registry';
import '../transport/memory/register';
import type { Transport } from '../transport/transport';
import { inProcessRunner } from '../worker/pools/task-runner';
import { executeTask, type ExecutionHost, type Outcome } from '../worker/run/execute';
import { RunReport } from '../worker/run/run-report';
import { Workflow } from '../worker/run/workflow';
import { Worker, type WorkerOptions } from '../worker/worker';
import { LimitedSet } from '../runtime/limited-set';
import { compileAppOptions, type AppOptions, type CompiledAppOptions } from './app-options';
import { Control, type ControlReplies, type RevokeOptions } from './control';

const NEVER_ABORTED = new AbortController().signal;
/** Eager mode runs retries inline; this bounds a task that retries without end. */
const EAGER_MAX_ATTEMPTS = 1000;

/**
 * The application: configuration, the task registry, sending tasks, results and workers.
 *
 * @example
 * ```ts
 * const app = new App({ name: 'hello' });              // in-memory broker
 * const add = app.task({ name: 'add' }, (a: number, b: number) => a + b);
 * await app.worker().start();
 * const result = await add.delay(2, 3);
 * console.log(await result.get({ timeout: 5 }));      // 5
 * ```
 */
export class App implements TaskHost {
  /** The App's options, every default filled in. */
  readonly conf: CompiledAppOptions;
  /** What moves task messages, chosen by the broker URL's scheme. */
  readonly transport: Transport;
  /** Where task states go, chosen by the result backend URL's scheme (memory:// in eager mode). */
  readonly backend: ResultBackend;
  /** The limits task messages are decoded with (`maxMessageBytes`, 64 levels of nesting). */
  readonly jsonLimits: JsonLimits;
  /** Spans around sends and runs; undefined unless `tracing: true`. @internal */
  readonly tracer: TaskTracer | undefined;
  private readonly tasks: TaskCatalog;
  /** Celery's remote control of running workers (`inspect`, `revoke`, `shutdown`, …). */
  readonly control: Control;
  /** Ids of revoked tasks this process's workers discard (bounded as `workerRevokesMax`/`workerRevokeExpires`). */
  readonly revocations: LimitedSet;
  private readonly workers = new Set<Worker>();
  private readonly logger: Logger;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(options: AppOptions) {
    this.conf = compileAppOptions(options);
    this.jsonLimits = { maxBytes: this.conf.maxMessageBytes, maxDepth: 64 };
    this.tracer = createTaskTracer(this.conf.tracing, this.conf.broker);
    this.transport = createTransport(this.conf.broker, { options: this.conf.transportOptions });
    this.backend = this.conf.taskAlwaysEager
      ? new MemoryResultBackend()
      : createResultBackend(this.conf.resultBackend, {
          transport: this.transport,
          options: this.conf.transportOptions,
          resultExpires: this.conf.resultExpires,
        });
    this.logger = getTaskLogger('queue.app');
    this.tasks = new TaskCatalog(this, this.conf.taskDefaults);
    this.revocations = new LimitedSet(this.conf.workerRevokesMax, this.conf.workerRevokeExpires * 1000);
    this.control = new Control(this);
    if (this.conf.setAsCurrent) pushHost(this);
  }

  get name(): string {
    return this.conf.name;
  }

  /** The queue of tasks that name none (`defaultQueue`). */
  get defaultQueue(): string {
    return this.conf.defaultQueue;
  }

  /** Makes this App the one that class tasks and shared tasks use. */
  setAsCurrent(): this {
    setCurrentHost(this);
    return this;
  }

  /**
   * Binds `@Task` classes to this App: `Cls.delay()` sends through it whichever App is current (by default a
   * class task uses the current App: the one made current last, else the newest).
   * @throws NotRegistered for a class that is not a `@Task`.
   */
  register(...classes: TaskClass[]): this {
    for (const cls of classes) {
      this.getTask(cls);
      bindHost(cls, this);
    }
    return this;
  }

  // ---- defining tasks ----

  /**
   * Defines a function task in this App. Call the result to run the body here; `delay`/`applyAsync` send it.
   * With `bind: true` the function receives the task object first (`self.request`, `self.retry`, ...).
   */
  task<TArgs extends unknown[], TReturn, TStates extends DeclaredStates = NoStates>(
    options: BoundTaskOptions,
    fn: (self: BoundTask<TArgs, Awaited<TReturn>, TStates>, ...args: TArgs) => TReturn,
  ): TaskFunction<TArgs, TReturn, TStates>;
  task<TArgs extends unknown[], TReturn>(
    options: UnboundTaskOptions,
    fn: (...args: TArgs) => TReturn,
  ): TaskFunction<TArgs, TReturn>;
  task<TArgs extends unknown[], TReturn>(fn: (...args: TArgs) => TReturn): TaskFunction<TArgs, TReturn>;
  task<TArgs extends unknown[], TReturn>(
    optionsOrFn: TaskOptions | ((...args: never[]) => unknown),
    maybeFn?: (...args: never[]) => unknown,
  ): TaskFunction<TArgs, TReturn> {
    const [options, fn] = typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn, maybeFn!];
    const definition = functionDefinition(options, fn);
    this.tasks.define(definition);
    return taskFunction<TArgs, TReturn>(definition, () => this);
  }

  /** Names of every task this App can run (its own and the shared ones). */
  get taskNames(): string[] {
    return this.tasks.names();
  }

  /** The instance of a registered task, or undefined. */
  findTask(name: string): BaseTask | undefined {
    return this.tasks.find(name);
  }

  /** The instance of a registered task (by name, or by its `@Task` class). @throws NotRegistered */
  getTask<T extends BaseTask>(ref: string | TaskClass<T>): T {
    return this.tasks.get(ref);
  }

  // ---- calling tasks ----

  /** Sends a task known only by name (it may live in another service, even a Python Celery worker). */
  sendTask<T = unknown>(
    name: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: Omit<ApplyOptions, 'args' | 'kwargs'> = {},
  ): Promise<AsyncResult<T>> {
    return this.applyTask<T>(name, { ...options, args, kwargs });
  }

  /** Sends a task of this App (by name or class) with the given call options (and workflow fields). */
  async applyTask<T>(
    ref: string | TaskClass,
    options: ApplyOptions,
    canvas?: CanvasFields,
  ): Promise<AsyncResult<T>> {
    const task = typeof ref === 'string' ? this.findTask(ref) : this.getTask(ref);
    const name = typeof ref === 'string' ? ref : task!.options.name;
    validateApplyOptions(name, options);
    if (task) await this.validatePayload(task, name, options);
    const { envelope, queue, delayMs } = buildOutgoingTask({
      name,
      id: options.taskId ?? randomUUID(),
      options,
      task: task?.options,
      defaultQueue: this.defaultQueue,
      parent: runContext.getStore()?.request,
      now: Date.now(),
      canvas,
    });
    if (this.conf.taskAlwaysEager) {
      if (!task) throw new NotRegistered(name);
      return this.runEagerly<T>(task, envelope);
    }
    await this.connect();
    envelope.replyTo = canvas?.replyTo ?? (await this.backend.replyTo());
    await this.publishTask(envelope, queue, delayMs);
    return this.asyncResult<T>(envelope.id);
  }

  /** Where the states of tasks sent from here go (frozen into workflow steps that workers send later). */
  async replyTo(): Promise<string> {
    if (this.conf.taskAlwaysEager) return '';
    await this.connect();
    return this.backend.replyTo();
  }

  /** The result backend's chord join; undefined where chords cannot work (rpc://, as in Celery). */
  get chords(): ChordStore | undefined {
    return this.backend.chords;
  }

  /** The result backend's scheme, for messages (`rpc`, `redis`, …). */
  get resultBackendName(): string {
    return this.conf.resultBackend.split(':')[0] || 'configured';
  }

  /**
   * Publishes a task message (a call, or a worker's retry), then its `task-sent` event when
   * `taskSendSentEvent` is on. @internal
   */
  publishTask(envelope: TaskEnvelope, queue: string, delayMs: number): Promise<void> {
    const message = encodeTaskMessage(envelope);
    const published = this.tracer
      ? this.tracer.publish(envelope, message, queue, () =>
          this.transport.publish(message, { queue, delayMs }),
        )
      : this.transport.publish(message, { queue, delayMs });
    const events = this.conf.taskSendSentEvent ? this.transport.events : undefined;
    if (!events) return published; // no extra step: a send costs what it did without events
    return published.then(() =>
      events.publish(taskSentEvent(envelope, queue)).catch((error: unknown) => {
        this.logger.warn(`could not send the task-sent event of ${envelope.id}: ${(error as Error).message}`);
      }),
    );
  }

  /** Arguments checked against the task's class-validator parameter types before anything is sent. */
  private async validatePayload(task: BaseTask, name: string, options: ApplyOptions): Promise<void> {
    const binding = bindingOf(task);
    if (!binding.parameterTypes.some(Boolean)) return;
    const positional = bindArguments(name, binding.parameterNames, options.args ?? [], options.kwargs ?? {});
    await validateArguments(name, binding.parameterTypes, positional);
  }

  /** Runs a task body in this process as a plain call (Celery's `task()`): no message, no stored state. */
  async runLocal(task: BaseTask, args: readonly unknown[]): Promise<unknown> {
    const context: RunContext = {
      request: directRequest(randomUUID(), task.options.name, args, ORIGIN),
      signal: NEVER_ABORTED,
    };
    return runContext.run(context, async () => task.run(...args));
  }

  /** Eager mode: the message is encoded and decoded as usual, then run here; retries run at once. */
  private async runEagerly<T>(task: BaseTask, envelope: TaskEnvelope): Promise<AsyncResult<T>> {
    const retries: TaskEnvelope[] = [];
    const host: ExecutionHost = {
      backend: this.backend,
      hostname: ORIGIN,
      logger: this.logger,
      runner: inProcessRunner,
      tracer: this.tracer,
      scheduleRetry: async (next) => {
        retries.push(next);
      },
      workflow: new Workflow(this, this.backend, this.logger),
    };
    let current: TaskEnvelope | undefined = decodeTaskMessage(encodeTaskMessage(envelope), this.jsonLimits);
    let outcome: Outcome | undefined;
    for (let attempt = 0; current && attempt < EAGER_MAX_ATTEMPTS; attempt++) {
      const ignored = task.options.ignoreResult || current.ignoreResult;
      const report = new RunReport(this.backend, current, ignored, this.conf.maxResultBytes);
      outcome = await executeTask({ task, envelope: current, delivery: null, report }, host);
      current = retries.shift();
    }
    if (this.conf.taskEagerPropagates && outcome?.kind === 'failure') throw outcome.error;
    return this.asyncResult<T>(envelope.id);
  }

  /**
   * A signature of a task known by name (it may live in another service, even a Python Celery worker), for
   * workflows: `chain(app.signature('py.add', [2, 2]), mul.s(4))`.
   */
  signature<TOut = unknown>(
    name: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: SignatureOptions = {},
  ): Signature<unknown[], TOut, false> {
    return new Signature<unknown[], TOut, false>(
      name,
      args,
      kwargs,
      toWireOptions(options),
      false,
      () => this,
    );
  }

  /** A handle on a task by id (its states arrive only if this App sent it, with `rpc://`). */
  asyncResult<T = unknown>(id: string): AsyncResult<T> {
    return new AsyncResult<T>(id, this.backend, this.control);
  }

  /**
   * Revokes tasks across the fleet (`app.control.revoke`): this process's workers know at once, running
   * workers (ours and Celery's) through the broker. A queued task is discarded (REVOKED) when received;
   * with `terminate`, a running one is stopped.
   */
  revoke(taskIds: string | readonly string[], options: RevokeOptions = {}): Promise<ControlReplies> {
    return this.control.revoke(taskIds, options);
  }

  /** Whether this process holds `taskId` revoked (its workers discard it). */
  isRevoked(taskId: string): boolean {
    return this.revocations.has(taskId);
  }

  // ---- workers and lifecycle ----

  /** A worker consuming this App's queues (call `start()`). */
  worker(options: WorkerOptions = {}): Worker {
    const worker = new Worker(this, options);
    this.workers.add(worker);
    return worker;
  }

  /** Connects the transport (sending connects on its own; useful to fail fast at start-up). */
  connect(): Promise<void> {
    this.connecting ??= this.transport.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** Stops this App's workers (warm, up to `timeoutMs`), then closes the result backend and the transport. */
  async close({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    removeHost(this);
    await Promise.all([...this.workers].map((worker) => worker.stop({ timeoutMs })));
    await this.backend.close();
    await this.transport.close();
  }
}
