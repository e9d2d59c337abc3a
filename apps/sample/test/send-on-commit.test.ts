import { AsyncResult, type ApplyOptions } from '@queue/core';
import { MemoryResultBackend } from '@queue/core/testing';
import { TransactionRolledBackError, type Database } from '../src/db/database';
import { PgDatabase } from '../src/db/pg-database';
import { PgliteDatabase } from '../src/db/pglite-database';
import { RecordStore, type TaskRecord } from '../src/db/record-store';
import { SendAfterCommitError, sendOnCommit, type SendableTask } from '../src/db/send-on-commit';

/** The local PostgreSQL the integration tests use (trust auth); each run works in a table of its own. */
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

class Boom extends Error {
  override name = 'Boom';
}

/** A stand-in for a task: records each send, and what the database showed at that moment. */
class RecordingTask implements SendableTask<[number], number> {
  readonly sent: ApplyOptions<[number]>[] = [];
  readonly rowAtSend: (TaskRecord | undefined)[] = [];
  failWith: Error | undefined;

  constructor(private readonly store: RecordStore) {}

  async applyAsync(options: ApplyOptions<[number]>): Promise<AsyncResult<number>> {
    this.sent.push(options);
    // Read outside the transaction: the row must already be committed when the task goes out.
    this.rowAtSend.push(await this.store.findByTaskId(options.taskId!));
    if (this.failWith) throw this.failWith;
    return new AsyncResult<number>(options.taskId!, new MemoryResultBackend());
  }
}

const backends: [string, () => Promise<Database>][] = [
  ['the embedded PGlite', () => PgliteDatabase.open()],
  ['PostgreSQL on 127.0.0.1:5432', async () => new PgDatabase({ connectionString: POSTGRES_URL, max: 3 })],
];

describe.each(backends)('sendOnCommit on %s', (_label, open) => {
  let db: Database;
  let store: RecordStore;
  let task: RecordingTask;

  beforeAll(async () => {
    db = await open();
    store = new RecordStore(db, `sample_soc_${process.pid}_${Date.now()}`);
    await store.ensureSchema();
  }, 30_000);

  afterAll(async () => {
    await store?.drop();
    await db?.close();
  });

  beforeEach(() => {
    task = new RecordingTask(store);
  });

  const exists = async (taskId: string) => (await store.findByTaskId(taskId)) !== undefined;

  it('stores the pre-generated task id and sends the task with it only after COMMIT', async () => {
    let idInTransaction = '';
    const { value: record, result } = await sendOnCommit(db, task, async (tx, taskId) => {
      idInTransaction = taskId;
      const record = await store.insert('first', taskId, tx);
      expect(task.sent).toHaveLength(0); // nothing goes out while the transaction is open
      if (db.kind === 'postgres') expect(await exists(taskId)).toBe(false); // not visible to others yet
      return { value: record, args: [record.id] };
    });

    expect(idInTransaction).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.taskId).toBe(idInTransaction);
    expect(task.sent).toEqual([{ args: [record.id], taskId: idInTransaction }]);
    expect(task.rowAtSend[0]).toMatchObject({ id: record.id, title: 'first', taskId: idInTransaction });
    expect(result.id).toBe(idInTransaction);
  });

  it('sends nothing when the transaction throws, and the row is rolled back', async () => {
    let taskId = '';
    await expect(
      sendOnCommit(db, task, async (tx, id) => {
        taskId = id;
        await store.insert('doomed', id, tx);
        throw new Boom('changed my mind');
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect(task.sent).toHaveLength(0);
    expect(await exists(taskId)).toBe(false);
  });

  it('sends nothing when COMMIT turns into a rollback (a failed statement was swallowed)', async () => {
    let taskId = '';
    await expect(
      sendOnCommit(db, task, async (tx, id) => {
        taskId = id;
        const record = await store.insert('aborted', id, tx);
        await tx.query('SELECT 1 / 0').catch(() => undefined); // aborts the transaction
        return { value: record, args: [record.id] };
      }),
    ).rejects.toBeInstanceOf(TransactionRolledBackError);
    expect(task.sent).toHaveLength(0);
    expect(await exists(taskId)).toBe(false);
  });

  it('reports a send that fails after COMMIT with the committed value', async () => {
    task.failWith = new Boom('broker down');
    const error = await sendOnCommit(db, task, async (tx, taskId) => {
      const record = await store.insert('orphan', taskId, tx);
      return { value: record, args: [record.id] };
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendAfterCommitError);
    const { value, taskId, cause } = error as SendAfterCommitError<TaskRecord>;
    expect(value.taskId).toBe(taskId);
    expect(cause).toBeInstanceOf(Boom);
    expect(await exists(taskId)).toBe(true); // committed: the caller can resend with the stored id
  });

  it('lists only the committed records, newest first', async () => {
    const records = await store.list();
    expect(records.map((r) => r.title)).toEqual(['orphan', 'first']);
  });
});
