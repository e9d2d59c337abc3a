import { ChordNotSupportedError, ConfigurationError } from '../errors';
import type { JsonValue } from '../protocol/message';
import type { AsyncResult } from '../result/async-result';
import type { TaskHost } from '../task/task-host';
import { appendTo, Canvas, type HostRef } from './canvas';
import { Group } from './group';
import { frozenId, type SignatureDict, type WireOptions } from './signature-dict';

/**
 * A group (the header) whose results, in order, are passed to one more task (the body) once every header
 * task has ended (Celery's `chord`). Needs a result backend that joins chords: redis://, postgresql://,
 * memory://; `rpc://` refuses before anything is sent, as in Celery.
 */
export class Chord<TOut = unknown> extends Canvas<AsyncResult<TOut>> {
  /** The tasks that run in parallel first (a group's members). */
  readonly header: readonly Canvas[];

  constructor(
    header: readonly Canvas[] | Group,
    /** What runs once every header task has succeeded, given their results in order. */
    readonly body: Canvas,
    options: WireOptions = {},
    host?: HostRef,
  ) {
    super(options, host);
    this.header = header instanceof Group ? header.tasks : header;
    const nested = this.header.find((task) => task instanceof Group);
    if (nested)
      throw new ConfigurationError('a group in a chord header is not supported: list its tasks instead');
  }

  /** Sends the header: `applyAsync()` with no arguments. */
  delay(): Promise<AsyncResult<TOut>> {
    return this.applyAsync();
  }

  toJSON(): SignatureDict {
    return {
      task: 'celery.chord',
      args: [],
      kwargs: {
        kwargs: {},
        header: this.header.map((task) => task.toJSON()),
        body: this.body.toJSON(),
      },
      options: this.options,
      subtask_type: 'chord',
      immutable: false,
    };
  }

  clone(): Chord<TOut> {
    return new Chord(
      this.header.map((task) => task.clone()),
      this.body.clone(),
      structuredClone(this.options),
      this.hostResolver,
    );
  }

  freeze(replyTo: string): string {
    frozenId(this.options);
    for (const task of this.header) task.freeze(replyTo);
    return this.body.freeze(replyTo);
  }

  handle(host: TaskHost): AsyncResult<TOut> {
    return this.body.handle(host) as AsyncResult<TOut>;
  }

  async applyWith(host: TaskHost, partial: JsonValue[], overrides: WireOptions): Promise<AsyncResult<TOut>> {
    const store = host.chords;
    if (!store) throw new ChordNotSupportedError(host.resultBackendName);
    const chord = this.clone();
    // Options given to the chord (`queue`, …) apply to the header and the body, as in Celery; a chain the
    // chord is a step of goes on after the body.
    const { chain, group_id, group_index, chord: outer, ...shared } = overrides;
    // The chord's own callbacks and errbacks are its body's.
    for (const key of ['link', 'link_error'] as const) {
      const steps = chord.options[key];
      if (steps !== undefined && steps !== null) appendTo(chord.body.options, key, steps);
    }
    Object.assign(chord.body.options, shared, chain === undefined ? {} : { chain });
    if (outer !== undefined) Object.assign(chord.body.options, { group_id, group_index, chord: outer });
    const replyTo = await host.replyTo();
    chord.freeze(replyTo);
    if (chord.header.length === 0) {
      await chord.body.applyWith(host, [[]], {});
      return chord.handle(host);
    }
    const groupId = frozenId(chord.options);
    const headerIds = chord.header.map((task) => task.freeze(replyTo));
    await store.prepare(groupId, headerIds);
    const body = chord.body.toJSON();
    for (const [index, task] of chord.header.entries()) {
      await task.applyWith(host, partial, { ...shared, group_id: groupId, group_index: index, chord: body });
    }
    return chord.handle(host);
  }

  protected override childHost(): TaskHost | undefined {
    return this.header[0]?.hostResolver?.() ?? this.body.hostResolver?.();
  }
}
