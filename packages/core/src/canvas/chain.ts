import { ConfigurationError } from '../errors';
import type { JsonValue } from '../protocol/message';
import type { AsyncResult } from '../result/async-result';
import type { TaskHost } from '../task/task-host';
import { appendTo, Canvas, type HostRef } from './canvas';
import { Chord } from './chord';
import { Group } from './group';
import { type SignatureDict, type WireOptions } from './signature-dict';

/** Fields that make a step part of an outer group or chord: only a chain's last step carries them. */
const MEMBERSHIP = ['group_id', 'group_index', 'chord'] as const;

/**
 * Tasks run one after the other, each receiving the previous one's result first (Celery's `chain`). Only
 * the first message is sent now; the rest travel in its `chain` field, and each worker sends the next step
 * when its step succeeds. A failing step stops the chain: the remaining steps are marked FAILURE with the
 * same error and its errbacks are called.
 */
export class Chain<TOut = unknown> extends Canvas<AsyncResult<TOut>> {
  /** The steps, in the order they run. */
  readonly tasks: readonly Canvas[];

  constructor(tasks: readonly Canvas[], options: WireOptions = {}, host?: HostRef) {
    super(options, host);
    if (tasks.length === 0) throw new ConfigurationError('a chain needs at least one task');
    this.tasks = upgradeGroups(tasks.flatMap((task) => (task instanceof Chain ? task.tasks : [task])));
    if (this.tasks[this.tasks.length - 1] instanceof Group) {
      throw new ConfigurationError(
        'a chain cannot end with a group: follow it with a task (a chord) or send the group itself',
      );
    }
  }

  /** Sends the first step with `args` first: `applyAsync(args)`. */
  delay(...args: unknown[]): Promise<AsyncResult<TOut>> {
    return this.applyAsync(args);
  }

  toJSON(): SignatureDict {
    return {
      task: 'celery.chain',
      args: [],
      kwargs: { tasks: this.tasks.map((task) => task.toJSON()) },
      options: this.options,
      subtask_type: 'chain',
      immutable: false,
    };
  }

  clone(): Chain<TOut> {
    return new Chain(
      this.tasks.map((task) => task.clone()),
      structuredClone(this.options),
      this.hostResolver,
    );
  }

  freeze(replyTo: string): string {
    let last = '';
    for (const task of this.tasks) last = task.freeze(replyTo);
    return last;
  }

  handle(host: TaskHost): AsyncResult<TOut> {
    return this.tasks[this.tasks.length - 1]!.handle(host) as AsyncResult<TOut>;
  }

  async applyWith(host: TaskHost, partial: JsonValue[], overrides: WireOptions): Promise<AsyncResult<TOut>> {
    const chain = this.clone();
    const steps = chain.tasks;
    const last = steps[steps.length - 1]!;
    // Celery's `prepare_steps`: the chain's errbacks go on every step, its callbacks on the last one.
    const { link, link_error: linkError } = chain.options;
    if (linkError !== undefined) for (const step of steps) appendTo(step.options, 'link_error', linkError);
    if (link !== undefined) appendTo(last.options, 'link', link);
    const first: WireOptions = { ...overrides };
    for (const field of MEMBERSHIP) {
      if (overrides[field] === undefined) continue;
      last.options[field] = overrides[field];
      delete first[field];
    }
    chain.freeze(await host.replyTo());
    // The rest of the chain travels with the first message, next step last (Celery's order).
    const rest = steps.slice(1).map((step) => step.toJSON());
    const outerRest = Array.isArray(overrides.chain) ? overrides.chain : [];
    await steps[0]!.applyWith(host, partial, { ...first, chain: [...outerRest, ...rest.reverse()] });
    return chain.handle(host);
  }

  protected override childHost(): TaskHost | undefined {
    return this.tasks[0]?.hostResolver?.();
  }
}

/** `group | task` inside a chain is a chord: the group's results go to the task (as in Celery). */
function upgradeGroups(tasks: Canvas[]): Canvas[] {
  const steps: Canvas[] = [];
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index]!;
    const next = tasks[index + 1];
    if (task instanceof Group && next) {
      steps.push(new Chord(task, next, task.options, task.hostResolver));
      index++;
    } else steps.push(task);
  }
  return steps;
}
