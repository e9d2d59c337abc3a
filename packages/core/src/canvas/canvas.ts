import type { JsonValue } from '../protocol/message';
import { requireHost, type TaskHost } from '../task/task-host';
import { toWireOptions, type SignatureDict, type SignatureOptions, type WireOptions } from './signature-dict';

/** Finds the App a workflow is sent through. */
export type HostRef = () => TaskHost;

/**
 * Anything that can be a step of a workflow: a task signature, a chain, a group or a chord. It is JSON in
 * Celery's own shape (`toJSON()`), so that a Python worker can apply what ours sends and the reverse.
 */
export abstract class Canvas<THandle = unknown> {
  protected constructor(
    /** Celery's `options`: call options and, once frozen, ids and workflow fields. */
    readonly options: WireOptions,
    private readonly hostRef: HostRef | undefined,
  ) {}

  /** Celery's signature dict of this step. */
  abstract toJSON(): SignatureDict;

  /** A deep copy, so that applying never changes this object (each application gets its own ids). */
  abstract clone(): Canvas<THandle>;

  /**
   * Assigns the ids this step will run under (Celery's `freeze`) and where their states go; returns the id
   * its outcome is read under (the last step of a chain, the group id, the chord's body). @internal
   */
  abstract freeze(replyTo: string): string;

  /** The handle on a frozen step's outcome. @internal */
  abstract handle(host: TaskHost): THandle;

  /**
   * Sends it, with `partial` args before its own (unless immutable) and `overrides` merged into its options
   * as Celery's workflows do. Works on a frozen clone. @internal
   */
  abstract applyWith(host: TaskHost, partial: JsonValue[], overrides: WireOptions): Promise<THandle>;

  /**
   * Sends it: `args` go first to its task (a chain's first step, every member of a group or chord header),
   * unless immutable; `options` (`countdown`, `queue`, …) apply to what is sent. Resolves with the handle on
   * its outcome: the task's (or a chain's last step's, a chord body's) `AsyncResult`, a group's `GroupResult`.
   */
  applyAsync(args: unknown[] = [], options: SignatureOptions = {}): Promise<THandle> {
    return this.applyWith(this.host(), args as JsonValue[], toWireOptions(options));
  }

  /**
   * The same step, followed by `callback` with its result first when it succeeds (Celery's `link`): on a
   * chain, after its last step; on a chord, after its body.
   */
  link(callback: Canvas): this {
    return this.withListed('link', callback);
  }

  /**
   * The same step, followed by `errback` with the failed task's id first when it fails (Celery's
   * `link_error`): on a chain or group, for every task; on a chord, for its body.
   */
  linkError(errback: Canvas): this {
    return this.withListed('link_error', errback);
  }

  private withListed(key: 'link' | 'link_error', step: Canvas): this {
    const copy = this.clone() as this;
    appendTo(copy.options, key, step.toJSON());
    return copy;
  }

  /** The App this workflow is sent through: the one its tasks came from, else the current App. */
  protected host(): TaskHost {
    return this.hostRef?.() ?? this.childHost() ?? requireHost('applying a workflow');
  }

  /** The App a composite's first task came from, if any. */
  protected childHost(): TaskHost | undefined {
    return undefined;
  }

  /** @internal */
  get hostResolver(): HostRef | undefined {
    return this.hostRef;
  }
}

/** Adds steps to an option that holds one signature or a list of them (`link`, `link_error`). */
export function appendTo(options: WireOptions, key: string, value: JsonValue): void {
  const existing = options[key];
  const current =
    existing === undefined || existing === null ? [] : Array.isArray(existing) ? existing : [existing];
  options[key] = [...current, ...(Array.isArray(value) ? value : [value])];
}
