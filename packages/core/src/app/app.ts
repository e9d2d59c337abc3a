import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { DuplicateTaskError, NotRegistered } from '../errors';
import { getTaskLogger } from '../logging/logger';
import type { JsonLimits } from '../protocol/json';
import type { JsonValue, TaskEnvelope } from '../protocol/message';
import { decodeTaskMessage, EMPTY_EMBED, encodeTaskMessage, ORIGIN, reprOf } from '../protocol/task-codec';
import { AsyncResult } from '../result/async-result';
import type { ResultBackend } from '../result/result-backend';
import { MemoryResultBackend } from '../result/memory-result-backend';
import { bindArguments, parameterNames } from '../task/arguments';
import type { BaseTask, TaskClass } from '../task/base-task';
import { bindTask, bindingOf } from '../task/binding';
import { sharedTasks, TaskRegistry, type TaskDefinition } from '../task/definition';
import {
  functionDefinition,
  taskFunction,
  type BoundTask,
  type BoundTaskOptions,
  type TaskFunction,
} from '../task/function-task';
import { compileTaskOptions, optionFieldsOf, TASK_OPTION_KEYS, type TaskOptions } from '../task/options';
import { validateArguments, validatedParameterTypes } from '../task/payload-validation';
import { directRequest, runContext, type RunContext } from '../task/request';
import type { Transport } from '../transport/transport';
import { executeTask, type ExecutionHost, type Outcome } from '../worker/execution';
import { inProcessRunner } from '../worker/pools/task-runner';
import { Worker, type WorkerOptions } from '../worker/worker';
import { validateApplyOptions, type ApplyOptions } from './apply-options';
import { compileAppOptions, type AppOptions, type CompiledAppOptions } from './app-options';
import { pushApp, removeApp, setCurrentApp } from './current-app';
import { createResultBackend, createTransport } from './plugins';
import './memory-plugins';

const NEVER_ABORTED = new AbortController().signal;
/** Eager mode runs retries inline; this bounds a task that retries without end. */
const EAGER_MAX_ATTEMPTS = 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

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
export class App {
  readonly conf: CompiledAppOptions;
  readonly transport: Transport;
  readonly backend: ResultBackend;
  readonly jsonLimits: JsonLimits;
  private readonly ownTasks = new TaskRegistry();
  private readonly instances = new Map<TaskDefinition, BaseTask>();
  private readonly revoked = new Set<string>();
  private readonly workers = new Set<Worker>();
  private readonly logger: Logger;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(options: AppOptions) {
    this.conf = compileAppOptions(options);
    this.jsonLimits = { maxBytes: this.conf.maxMessageBytes, maxDepth: 64 };
    this.transport = createTransport(this.conf.broker, { options: this.conf.transportOptions });
    this.backend = this.conf.taskAlwaysEager
      ? new MemoryResultBackend()
      : createResultBackend(this.conf.resultBackend, {
          transport: this.transport,
          options: this.conf.transportOptions,
        });
    this.logger = getTaskLogger('queue.app');
    if (this.conf.setAsCurrent) pushApp(this);
  }

  get name(): string {
    return this.conf.name;
  }

  get defaultQueue(): string {
    return this.conf.defaultQueue;
  }

  /** Makes this App the one that class tasks and shared tasks use. */
  setAsCurrent(): this {
    setCurrentApp(this);
    return this;
  }

  // ---- defining tasks ----

  /**
   * Defines a function task in this App. Call the result to run the body here; `delay`/`applyAsync` send it.
   * With `bind: true` the function receives the task object first (`self.request`, `self.retry`, ...).
   */
  task<TArgs extends unknown[], TReturn>(
    options: BoundTaskOptions,
    fn: (self: BoundTask, ...args: TArgs) => TReturn,
  ): TaskFunction<TArgs, TReturn>;
  task<TArgs extends unknown[], TReturn>(
    options: TaskOptions,
    fn: (...args: TArgs) => TReturn,
  ): TaskFunction<TArgs, TReturn>;
  task<TArgs extends unknown[], TReturn>(fn: (...args: TArgs) => TReturn): TaskFunction<TArgs, TReturn>;
  task<TArgs extends unknown[], TReturn>(
    optionsOrFn: TaskOptions | ((...args: never[]) => unknown),
    maybeFn?: (...args: never[]) => unknown,
  ): TaskFunction<TArgs, TReturn> {
    const [options, fn] = typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn, maybeFn!];
    const definition = functionDefinition(options, fn);
    const shared = sharedTasks.get(definition.name);
    if (shared && shared.source !== fn) throw new DuplicateTaskError(definition.name);
    this.ownTasks.add(definition);
    this.instanceOf(definition); // validate options with this App's defaults now, not at first use
    return taskFunction<TArgs, TReturn>(definition, () => this);
  }

  private definitionOf(name: string): TaskDefinition | undefined {
    return this.ownTasks.get(name) ?? sharedTasks.get(name);
  }

  /** Names of every task this App can run (its own and the shared ones). */
  get taskNames(): string[] {
    return [...new Set([...this.ownTasks.names(), ...sharedTasks.names()])].sort();
  }

  /** The instance of a registered task, or undefined. */
  findTask(name: string): BaseTask | undefined {
    const definition = this.definitionOf(name);
    return definition && this.instanceOf(definition);
  }

  /** The instance of a registered task (by name, or by its `@Task` class). @throws NotRegistered */
  getTask<T extends BaseTask>(ref: string | TaskClass<T>): T {
    const definition =
      typeof ref === 'string'
        ? this.definitionOf(ref)
        : (sharedTasks.findBySource(ref) ?? this.ownTasks.findBySource(ref));
    if (!definition)
      throw new NotRegistered(typeof ref === 'string' ? ref : `${ref.name} (decorate the class with @Task)`);
    return this.instanceOf(definition) as T;
  }

  /** One instance per task per App, with options compiled against this App's defaults. */
  private instanceOf(definition: TaskDefinition): BaseTask {
    const existing = this.instances.get(definition);
    if (existing) return existing;
    const instance = definition.create();
    const options = compileTaskOptions(
      definition.owner,
      definition.explicitOptions,
      optionFieldsOf(instance),
      this.conf.taskDefaults,
      definition.name,
    );
    for (const key of TASK_OPTION_KEYS) (instance as unknown as Record<string, unknown>)[key] = options[key];
    const names = parameterNames(definition.body);
    bindTask(instance, {
      app: this,
      options,
      parameterNames: definition.skipsFirstParameter ? names.slice(1) : names,
      parameterTypes: definition.prototypeForValidation
        ? validatedParameterTypes(definition.prototypeForValidation)
        : [],
    });
    this.instances.set(definition, instance);
    return instance;
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

  /** Sends a task of this App (by name or class) with the given call options. */
  async applyTask<T>(ref: string | TaskClass, options: ApplyOptions): Promise<AsyncResult<T>> {
    const task = typeof ref === 'string' ? this.findTask(ref) : this.getTask(ref);
    const name = typeof ref === 'string' ? ref : task!.options.name;
    validateApplyOptions(name, options);
    const args = (options.args ?? []) as JsonValue[];
    const kwargs = (options.kwargs ?? {}) as Record<string, JsonValue>;
    if (task) {
      const binding = bindingOf(task);
      if (binding.parameterTypes.some(Boolean)) {
        await validateArguments(
          name,
          binding.parameterTypes,
          bindArguments(name, binding.parameterNames, args, kwargs),
        );
      }
    }
    const id = options.taskId ?? randomUUID();
    const now = Date.now();
    const eta = options.eta
      ? options.eta.toISOString()
      : options.countdown
        ? iso(now + options.countdown * 1000)
        : null;
    const expires =
      typeof options.expires === 'number'
        ? iso(now + options.expires * 1000)
        : (options.expires?.toISOString() ?? null);
    const parent = runContext.getStore();
    const fromRun = parent && !parent.request.calledDirectly ? parent.request : undefined;
    const envelope: TaskEnvelope = {
      id,
      task: name,
      args,
      kwargs,
      embed: EMPTY_EMBED,
      retries: 0,
      eta,
      expires,
      timelimit: [null, null],
      rootId: fromRun?.rootId ?? id,
      parentId: fromRun?.id ?? null,
      group: null,
      groupIndex: null,
      shadow: null,
      argsrepr: reprOf(args),
      kwargsrepr: reprOf(kwargs),
      origin: ORIGIN,
      ignoreResult: task?.options.ignoreResult ?? false,
      lang: 'py',
      replyTo: '',
      correlationId: id,
      priority: options.priority ?? task?.options.priority ?? 0,
      extraHeaders: options.headers ?? {},
    };
    if (this.conf.taskAlwaysEager) {
      if (!task) throw new NotRegistered(name);
      return this.runEagerly<T>(task, envelope);
    }
    await this.connect();
    envelope.replyTo = await this.backend.replyTo();
    const queue = options.queue ?? task?.options.queue ?? this.defaultQueue;
    await this.transport.publish(encodeTaskMessage(envelope), {
      queue,
      delayMs: eta ? Math.max(0, Date.parse(eta) - now) : 0,
    });
    return new AsyncResult<T>(id, this.backend);
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
      scheduleRetry: async (next) => {
        retries.push(next);
      },
    };
    let current: TaskEnvelope | undefined = decodeTaskMessage(encodeTaskMessage(envelope), this.jsonLimits);
    let outcome: Outcome | undefined;
    for (let attempt = 0; current && attempt < EAGER_MAX_ATTEMPTS; attempt++) {
      outcome = await executeTask(task, current, null, host);
      current = retries.shift();
    }
    if (this.conf.taskEagerPropagates && outcome?.kind === 'failure') throw outcome.error;
    return new AsyncResult<T>(envelope.id, this.backend);
  }

  /** A handle on a task by id (its states arrive only if this App sent it, with `rpc://`). */
  asyncResult<T = unknown>(id: string): AsyncResult<T> {
    return new AsyncResult<T>(id, this.backend);
  }

  /** Marks a task as revoked: workers of this App discard it (REVOKED) instead of running it. */
  revoke(taskId: string): void {
    this.revoked.add(taskId);
  }

  isRevoked(taskId: string): boolean {
    return this.revoked.has(taskId);
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
    removeApp(this);
    await Promise.all([...this.workers].map((worker) => worker.stop({ timeoutMs })));
    await this.backend.close();
    await this.transport.close();
  }
}
