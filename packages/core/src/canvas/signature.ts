import type { JsonValue } from '../protocol/message';
import type { AsyncResult } from '../result/async-result';
import type { TaskHost } from '../task/task-host';
import { Canvas, type HostRef } from './canvas';
import {
  frozenId,
  mergeOptions,
  toCall,
  toWireOptions,
  type SignatureDict,
  type SignatureOptions,
  type WireOptions,
} from './signature-dict';

/** A task's parameters after the first: what `.s()` is given when a workflow passes the first. */
export type TailOf<T extends unknown[]> = T extends [unknown, ...infer Rest]
  ? Rest
  : T extends [unknown?, ...infer Rest]
    ? Rest
    : [];

/** A task's first parameter, as a one-element tuple: what a workflow passes to a partial signature. */
export type HeadOf<T extends unknown[]> = T extends [infer First, ...unknown[]]
  ? [First]
  : T extends [(infer First)?, ...unknown[]]
    ? [First?]
    : [];

/**
 * A signature given every argument: it takes nothing more from a workflow, unless the task takes any number
 * of arguments (`...args`), which a workflow may add to.
 */
export type FullSignature<TArgs extends unknown[], TOut> = number extends TArgs['length']
  ? Signature<TArgs, TOut, false>
  : Signature<[], TOut, false>;

/** How a task offers its signatures: `.s(...)` (all arguments, or all but the first) and `.si(...)`. */
export interface Signs<TArgs extends unknown[], TOut> {
  /** A signature with every argument (Celery's `add.s(2, 2)`). */
  s(...args: TArgs): FullSignature<TArgs, TOut>;
  /** A signature with every argument but the first, which a workflow passes (`mul.s(4)` in a chain). */
  s(...args: TailOf<TArgs>): Signature<HeadOf<TArgs>, TOut, false>;
  /** An immutable signature: it ignores what a workflow passes (Celery's `.si()`). */
  si(...args: TArgs): Signature<[], TOut, true>;
}

/**
 * One task call, made now and sent later (Celery's `add.s(2, 2)`): the task's name, the arguments given so
 * far and call options. `TIn` is what a workflow still passes first (the previous step's result), `TOut`
 * what the task returns; an immutable signature (`.si()`) ignores what it is passed.
 */
export class Signature<
  TIn extends unknown[] = unknown[],
  TOut = unknown,
  TImmutable extends boolean = boolean,
> extends Canvas<AsyncResult<TOut>> {
  /**
   * Type-level only (never set): makes a signature that takes fewer arguments first unusable where more are
   * passed, so that a chain step that cannot take the previous result does not compile.
   */
  declare readonly takesFirst?: (passed: TIn) => void;

  constructor(
    /** The registered task name (it may live only in another service). */
    readonly name: string,
    /** The arguments given so far (a workflow's value goes before them unless immutable). */
    readonly args: readonly unknown[] = [],
    /** The keyword arguments given. */
    readonly kwargs: Readonly<Record<string, unknown>> = {},
    options: WireOptions = {},
    /** Ignores what a workflow passes (`.si()`). */
    readonly immutable: TImmutable = false as TImmutable,
    host?: HostRef,
  ) {
    super(options, host);
  }

  /** The same call with more call options (`countdown`, `queue`, `priority`, …). */
  set(options: SignatureOptions): Signature<TIn, TOut, TImmutable> {
    return this.with(mergeOptions(this.options, toWireOptions(options)));
  }

  /** Sends the task: `args` go before the signature's own (ignored when immutable). */
  override applyAsync(args?: TIn, options: SignatureOptions = {}): Promise<AsyncResult<TOut>> {
    return this.applyWith(this.host(), (args ?? []) as JsonValue[], toWireOptions(options));
  }

  /** Sends the task with `args` before the signature's own. */
  delay(...args: TIn): Promise<AsyncResult<TOut>> {
    return this.applyAsync(args);
  }

  toJSON(): SignatureDict {
    return {
      task: this.name,
      args: this.args as JsonValue[],
      kwargs: this.kwargs as Record<string, JsonValue>,
      options: this.options,
      subtask_type: null,
      immutable: this.immutable,
    };
  }

  clone(): Signature<TIn, TOut, TImmutable> {
    return this.with(structuredClone(this.options));
  }

  freeze(replyTo: string): string {
    this.options.reply_to ??= replyTo;
    return frozenId(this.options);
  }

  handle(host: TaskHost): AsyncResult<TOut> {
    return host.asyncResult<TOut>(frozenId(this.options));
  }

  applyWith(host: TaskHost, partial: JsonValue[], overrides: WireOptions): Promise<AsyncResult<TOut>> {
    const args = this.immutable ? [...this.args] : [...partial, ...this.args];
    const call = toCall(
      { args: args as JsonValue[], kwargs: this.kwargs as Record<string, JsonValue> },
      mergeOptions(this.options, overrides),
    );
    return host.applyTask<TOut>(this.name, call.options, call.canvas);
  }

  private with(options: WireOptions): Signature<TIn, TOut, TImmutable> {
    return new Signature(
      this.name,
      [...this.args],
      { ...this.kwargs },
      options,
      this.immutable,
      this.hostResolver,
    );
  }
}
