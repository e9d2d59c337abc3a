import { QueueError } from '../errors';
import { getTaskLogger } from '../logging/logger';
import type { AsyncResult } from '../result/async-result';
import type { ChordStore } from '../result/result-backend';
import type { ApplyOptions } from './apply-options';
import type { BaseTask, TaskClass } from './base-task';
import type { CanvasFields } from './envelope';

/**
 * What a task needs from the App it is registered in: find tasks, send them, run them here. `App`
 * implements it; tasks know only this, so that they sit below the App and not beside it.
 */
export interface TaskHost {
  /** The App's name. */
  readonly name: string;
  /** The instance of a registered task (by name, or by its `@Task` class). @throws NotRegistered */
  getTask<T extends BaseTask>(ref: string | TaskClass<T>): T;
  /** Sends a task of this App (by name or class) with the given call options (and workflow fields). */
  applyTask<T>(
    ref: string | TaskClass,
    options: ApplyOptions,
    canvas?: CanvasFields,
  ): Promise<AsyncResult<T>>;
  /** A handle on a task by id. */
  asyncResult<T = unknown>(id: string): AsyncResult<T>;
  /** Where the states of tasks sent from here go (frozen into workflow steps sent later by workers). */
  replyTo(): Promise<string>;
  /** The result backend's chord join; undefined where chords cannot work (rpc://). */
  readonly chords: ChordStore | undefined;
  /** The result backend's name for messages (e.g. `"rpc"`). */
  readonly resultBackendName: string;
  /** Sends a task known only by name (it may live in another service, even a Python Celery worker). */
  sendTask<T = unknown>(
    name: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
    options?: Omit<ApplyOptions, 'args' | 'kwargs'>,
  ): Promise<AsyncResult<T>>;
  /** Runs a task body in this process as a plain call (Celery's `task()`): no message, no stored state. */
  runLocal(task: BaseTask, args: readonly unknown[]): Promise<unknown>;
}

const logger = getTaskLogger('queue.app');

/** Hosts that are open, newest last: the newest is the current one (as Celery's `current_app`). */
const openHosts: TaskHost[] = [];

export function pushHost(host: TaskHost): void {
  openHosts.push(host);
}

export function removeHost(host: TaskHost): void {
  const index = openHosts.lastIndexOf(host);
  if (index !== -1) openHosts.splice(index, 1);
  if (chosen === host) chosen = undefined;
}

/** Whether the current host was chosen (`app.setAsCurrent()`), not just created last. */
let chosen: TaskHost | undefined;

/** Makes `host` the one that class tasks and shared tasks send through. */
export function setCurrentHost(host: TaskHost): void {
  removeHost(host);
  openHosts.push(host);
  chosen = host;
}

/** Class tasks bound to one App (`app.register(Cls)`): they send through it whatever App is current. */
const boundHosts = new WeakMap<object, TaskHost>();
const warnedClasses = new WeakSet<object>();

export function bindHost(cls: object, host: TaskHost): void {
  boundHosts.set(cls, host);
}

/**
 * The App a class task sends through: the one it was registered with, else the current one. With several
 * Apps open and none chosen, that is merely the newest: said once per class, since a second App (a test
 * helper, a second broker) would otherwise redirect its tasks silently.
 */
export function hostForClass(cls: { name: string }, what: string): TaskHost {
  const bound = boundHosts.get(cls);
  if (bound) return bound;
  const host = requireHost(what);
  if (openHosts.length > 1 && chosen !== host && !warnedClasses.has(cls)) {
    warnedClasses.add(cls);
    logger.warn(
      `${cls.name} sends through App '${host.name}', the newest of ${openHosts.length} open Apps; bind it with app.register(${cls.name}) or choose with app.setAsCurrent()`,
    );
  }
  return host;
}

/** The host used by `Cls.delay()`/`sharedTask` calls: the most recently opened (or made current) one. */
export function currentHost(): TaskHost | undefined {
  return openHosts[openHosts.length - 1];
}

/** The current host, or an error saying how to get one. */
export function requireHost(what: string): TaskHost {
  const host = currentHost();
  if (!host) throw new QueueError(`No App: create one with \`new App({ name })\` before ${what}`);
  return host;
}
