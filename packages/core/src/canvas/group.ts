import type { JsonValue } from '../protocol/message';
import { GroupResult } from '../result/group-result';
import type { TaskHost } from '../task/task-host';
import { ConfigurationError } from '../errors';
import { appendTo, Canvas, type HostRef } from './canvas';
import { frozenId, type SignatureDict, type WireOptions } from './signature-dict';

/** Tasks sent together to run in parallel, each message carrying the same group id (Celery's `group`). */
export class Group<TOut extends unknown[] = unknown[]> extends Canvas<GroupResult<TOut>> {
  /** The members, nested groups flattened into their tasks. */
  readonly tasks: readonly Canvas[];

  constructor(tasks: readonly Canvas[], options: WireOptions = {}, host?: HostRef) {
    super(options, host);
    // A group inside a group adds its members (Celery flattens them too).
    this.tasks = tasks.flatMap((task) => (task instanceof Group ? task.tasks : [task]));
  }

  /** Sends every member: `applyAsync()` with no arguments. */
  delay(): Promise<GroupResult<TOut>> {
    return this.applyAsync();
  }

  toJSON(): SignatureDict {
    return {
      task: 'celery.group',
      args: [],
      kwargs: { tasks: this.tasks.map((task) => task.toJSON()) },
      options: this.options,
      subtask_type: 'group',
      immutable: false,
    };
  }

  clone(): Group<TOut> {
    return new Group(
      this.tasks.map((task) => task.clone()),
      structuredClone(this.options),
      this.hostResolver,
    );
  }

  freeze(replyTo: string): string {
    const id = frozenId(this.options);
    for (const task of this.tasks) task.freeze(replyTo);
    return id;
  }

  handle(host: TaskHost): GroupResult<TOut> {
    return new GroupResult<TOut>(
      frozenId(this.options),
      // Members are tasks, chains and chords (groups were flattened): each has one AsyncResult.
      this.tasks.map((task) => task.handle(host) as GroupResult['results'][number]),
    );
  }

  async applyWith(host: TaskHost, partial: JsonValue[], overrides: WireOptions): Promise<GroupResult<TOut>> {
    const group = this.clone();
    const { link, link_error: linkError } = group.options;
    if (link !== undefined && link !== null) {
      throw new ConfigurationError(
        'link a group with a chord (its results go to one task) or link its tasks',
      );
    }
    // Celery: a group's errbacks go on every member.
    if (linkError !== undefined)
      for (const task of group.tasks) appendTo(task.options, 'link_error', linkError);
    const { group_id: given, ...rest } = overrides;
    if (typeof given === 'string') group.options.task_id = given;
    group.freeze(await host.replyTo());
    const groupId = frozenId(group.options);
    // Celery 5.2 sends a plain group's members with `group_index` null (only chord headers number them).
    for (const task of group.tasks) await task.applyWith(host, partial, { ...rest, group_id: groupId });
    return group.handle(host);
  }

  protected override childHost(): TaskHost | undefined {
    return this.tasks[0]?.hostResolver?.();
  }
}
