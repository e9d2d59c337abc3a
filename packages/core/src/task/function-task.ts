import { Signature, type Signs } from '../canvas/signature';
import { InvalidTaskOptionsError } from '../errors';
import type { AsyncResult, DeclaredStates, NoStates } from '../result/async-result';
import type { ApplyOptions } from './apply-options';
import { BaseTask } from './base-task';
import { definitionSite } from './defined-at';
import { sharedTasks, type TaskDefinition } from './definition';
import { validateTaskOptions, type TaskOptions } from './options';
import { requireHost, type TaskHost } from './task-host';

/** The task object a bound function task receives first (Celery's `self`): `self.request`, `self.retry()`… */
export type BoundTask<
  TArgs extends unknown[] = unknown[],
  TReturn = unknown,
  TStates extends DeclaredStates = NoStates,
> = BaseTask<TArgs, TReturn, TStates>;

/**
 * A function task: call it to run the body here (`ping()`), or send it to a worker with `delay`/`applyAsync`.
 */
export interface TaskFunction<
  TArgs extends unknown[],
  TReturn,
  TStates extends DeclaredStates = NoStates,
> extends Signs<TArgs, Awaited<TReturn>> {
  (...args: TArgs): Promise<Awaited<TReturn>>;
  /** The registered task name. */
  readonly taskName: string;
  /** Sends the task with positional arguments; resolves once the broker has the message. */
  delay(...args: TArgs): Promise<AsyncResult<Awaited<TReturn>, TStates>>;
  /** Sends the task with full control (kwargs, id, countdown/eta, expires, queue, priority, headers). */
  applyAsync(options?: ApplyOptions<TArgs>): Promise<AsyncResult<Awaited<TReturn>, TStates>>;
}

type Body = (...args: never[]) => unknown;

/** The task class behind every function task: `run` calls the function (with itself first when bound). */
class FunctionTask extends BaseTask<unknown[], unknown> {
  constructor(private readonly fn: Body) {
    super();
  }

  run(...args: unknown[]): unknown {
    const call = this.fn as (...a: unknown[]) => unknown;
    return this.options.bind ? call(this, ...args) : call(...args);
  }
}

export function functionDefinition(options: TaskOptions, fn: Body): TaskDefinition {
  const owner = options.name ?? (fn.name || '(anonymous function)');
  if (typeof fn !== 'function') {
    throw new InvalidTaskOptionsError(owner, [
      { property: '(body)', constraints: { isFunction: 'the task body must be a function' } },
    ]);
  }
  validateTaskOptions(owner, options);
  const name = options.name ?? fn.name;
  if (!name) {
    throw new InvalidTaskOptionsError(owner, [
      { property: 'name', constraints: { isNotEmpty: 'an anonymous function needs an explicit name' } },
    ]);
  }
  return {
    name,
    source: fn,
    explicitOptions: options,
    owner,
    label: fn.name ? `function ${fn.name}` : 'an anonymous function',
    definedAt: definitionSite(),
    create: () => new FunctionTask(fn),
    body: fn,
    skipsFirstParameter: options.bind === true,
  };
}

/** Wraps a definition into the callable returned by `app.task` / `sharedTask`. */
export function taskFunction<TArgs extends unknown[], TReturn>(
  definition: TaskDefinition,
  resolveHost: () => TaskHost,
): TaskFunction<TArgs, TReturn> {
  const call = (...args: TArgs) => {
    const host = resolveHost();
    return host.runLocal(host.getTask(definition.name), args) as Promise<Awaited<TReturn>>;
  };
  // One implementation serves both `s` overloads: the types only say how many arguments a workflow adds.
  const signs = {
    s: (...args: unknown[]) => new Signature(definition.name, args, {}, {}, false, resolveHost),
    si: (...args: unknown[]) => new Signature(definition.name, args, {}, {}, true, resolveHost),
  } as unknown as Signs<TArgs, Awaited<TReturn>>;
  return Object.assign(call, signs, {
    taskName: definition.name,
    delay: (...args: TArgs) => resolveHost().applyTask<Awaited<TReturn>>(definition.name, { args }),
    applyAsync: (options: ApplyOptions<TArgs> = {}) =>
      resolveHost().applyTask<Awaited<TReturn>>(definition.name, options),
  });
}

/** Options of a bound function task (its body receives the task first). */
export type BoundTaskOptions = TaskOptions & {
  /** Always `true`: the body receives the task object first. */
  bind: true;
};

/** Options of a function task that is not bound (its body receives only the task's arguments). */
export type UnboundTaskOptions = TaskOptions & {
  /** Absent or `false`: the body receives only the task's arguments. @default false */
  bind?: false;
};

/**
 * A function task registered in every App (Celery's `shared_task`); `delay` uses the current App.
 */
export function sharedTask<TArgs extends unknown[], TReturn, TStates extends DeclaredStates = NoStates>(
  options: BoundTaskOptions,
  fn: (self: BoundTask<TArgs, Awaited<TReturn>, TStates>, ...args: TArgs) => TReturn,
): TaskFunction<TArgs, TReturn, TStates>;
export function sharedTask<TArgs extends unknown[], TReturn>(
  options: UnboundTaskOptions,
  fn: (...args: TArgs) => TReturn,
): TaskFunction<TArgs, TReturn>;
export function sharedTask<TArgs extends unknown[], TReturn>(
  options: TaskOptions,
  fn: Body,
): TaskFunction<TArgs, TReturn> {
  const definition = functionDefinition(options, fn);
  sharedTasks.add(definition);
  return taskFunction<TArgs, TReturn>(definition, () => requireHost(`using task ${definition.name}`));
}
