import { randomUUID } from 'node:crypto';
import type { ApplyOptions, AsyncResult } from '@queue/core';
import type { Database, Queryable } from './database';

/** Anything that can be sent with a chosen task id: a `@Task` class or an `app.task` function. */
export interface SendableTask<TArgs extends unknown[], R> {
  applyAsync(options: ApplyOptions<TArgs>): Promise<AsyncResult<R>>;
}

/** What the transaction returns: its own value, and the arguments to send the task with. */
export interface CommitOutcome<TValue, TArgs extends unknown[]> {
  value: TValue;
  args: TArgs;
}

/**
 * The transaction committed but sending the task failed (broker down): the row exists and names a task
 * that was never sent. `value` is what the transaction produced, so the caller can retry the send or
 * repair the row.
 */
export class SendAfterCommitError<TValue = unknown> extends Error {
  override name = 'SendAfterCommitError';
  constructor(
    readonly taskId: string,
    readonly value: TValue,
    cause: unknown,
  ) {
    super(`committed, but sending task ${taskId} failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

/**
 * Django's `transaction.on_commit(lambda: task.apply_async(..., task_id=...))`: runs `work` in a transaction
 * with a task id generated up front (so the row can store it), and sends `task` with that id only once
 * COMMIT has succeeded. Sending earlier could let a worker look for a row that is not there yet, or that a
 * rollback then removes; a throw or rollback therefore sends nothing.
 *
 * @throws whatever `work` or COMMIT threw (nothing sent), or `SendAfterCommitError` (committed, not sent).
 */
export async function sendOnCommit<TValue, TArgs extends unknown[], R>(
  db: Database,
  task: SendableTask<TArgs, R>,
  work: (tx: Queryable, taskId: string) => Promise<CommitOutcome<TValue, TArgs>>,
): Promise<{ value: TValue; result: AsyncResult<R> }> {
  const taskId = randomUUID();
  const { value, args } = await db.transaction((tx) => work(tx, taskId));
  try {
    const result = await task.applyAsync({ args, taskId });
    return { value, result };
  } catch (error) {
    throw new SendAfterCommitError(taskId, value, error);
  }
}
