import { TimeoutError } from '../errors';
import { States } from '../protocol/message';
import type { AsyncResult, GetOptions, StateChange, TaskError } from './async-result';

/** One state of one member of a group, as it arrives. */
export interface GroupStateChange extends StateChange {
  /** The member's task id. */
  readonly taskId: string;
  /** The member's place in the group. */
  readonly index: number;
}

/** The results of a group's tasks, in the group's order (Celery's `GroupResult`). */
export class GroupResult<T extends unknown[] = unknown[]> {
  constructor(
    /** The group id (each member's message carries it as `group`). */
    readonly id: string,
    /** One result per member, in the group's order. */
    readonly results: readonly AsyncResult[],
  ) {}

  /**
   * Waits for every member and resolves with their values in order; rejects with the first error met in
   * order (`propagate: false`: the errors take their members' places). `timeout` bounds the whole wait.
   */
  get(options?: GetOptions & { propagate?: true }): Promise<T>;
  /** With `propagate: false`, failed members' errors take their places. */
  get(options: GetOptions & { propagate: false }): Promise<Array<T[number] | TaskError>>;
  get(options: GetOptions): Promise<Array<T[number] | TaskError>>;
  async get({ timeout, propagate = true }: GetOptions = {}): Promise<T | Array<T[number] | TaskError>> {
    const deadline = timeout === undefined ? undefined : Date.now() + timeout * 1000;
    const values: unknown[] = [];
    for (const result of this.results) {
      const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now()) / 1000;
      try {
        values.push(await result.get({ timeout: left, propagate }));
      } catch (error) {
        if (error instanceof TimeoutError) throw new TimeoutError(this.id, timeout ?? 0);
        throw error;
      }
    }
    return values as T;
  }

  /** How many members have succeeded (Celery's `completed_count()`). */
  completedCount(): number {
    return this.results.filter((result) => result.state === States.SUCCESS).length;
  }

  /** Every member has a ready state. */
  ready(): boolean {
    return this.results.every((result) => result.ready());
  }

  /** Every member succeeded. */
  successful(): boolean {
    return this.results.every((result) => result.successful());
  }

  /** Some member failed. */
  failed(): boolean {
    return this.results.some((result) => result.failed());
  }

  /** Revokes every member (see `AsyncResult.revoke`). */
  async revoke(options: { terminate?: boolean; signal?: string | number } = {}): Promise<void> {
    await Promise.all(this.results.map((result) => result.revoke(options)));
  }

  /** Every member's states as they arrive (members interleaved), ending when all are ready. */
  async *[Symbol.asyncIterator](): AsyncIterator<GroupStateChange> {
    const iterators = this.results.map((result) => result[Symbol.asyncIterator]());
    const next = (index: number) => iterators[index]!.next().then((step) => ({ index, step }));
    const pending = new Map(iterators.map((_, index) => [index, next(index)]));
    try {
      while (pending.size > 0) {
        const { index, step } = await Promise.race(pending.values());
        if (step.done) {
          pending.delete(index);
          continue;
        }
        pending.set(index, next(index));
        yield { ...step.value, taskId: this.results[index]!.id, index };
      }
    } finally {
      // Not awaited: a member still waiting for its next state ends its iteration once that state arrives.
      for (const iterator of iterators) void iterator.return?.();
    }
  }
}
