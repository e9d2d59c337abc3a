import {
  App,
  CorruptResultError,
  RemoteTaskError,
  States,
  type AppOptions,
  type StateChange,
  type Worker,
} from '@queue/core';
import { PostgresResultBackend } from '../src';
import {
  Db,
  distinct,
  gate,
  pgApp,
  sleep,
  uniqueBroker,
  uniqueTables,
  waitFor,
  type TestTables,
} from './helpers';

jest.setTimeout(30_000);

/**
 * Worker and callers are separate Apps, each with a backend (pool and LISTEN connection) of its own, as
 * separate processes would be; they share a memory:// broker so that only the result store is under test.
 */
describe('postgresql:// result backend with a worker', () => {
  let db: Db;
  let tables: TestTables;
  let broker: string;
  let apps: App[];
  let release: ReturnType<typeof gate>;
  let worker: Worker;

  beforeAll(async () => (db = await Db.open()));
  afterAll(async () => db.close());

  beforeEach(() => {
    tables = uniqueTables();
    broker = uniqueBroker();
    apps = [];
    release = gate();
  });

  afterEach(async () => {
    release.open();
    for (const app of apps) await app.close({ timeoutMs: 2_000 });
    await db.drop(tables);
  });

  /** A caller App (another "process") on the same tables and broker. */
  function caller(options: Partial<AppOptions> = {}, scheme?: 'postgresql' | 'postgres' | 'db+postgresql') {
    const app = pgApp(tables, broker, options, scheme);
    apps.push(app);
    return app;
  }

  async function startWorker(
    options: Partial<AppOptions> = {},
    scheme?: 'postgresql' | 'postgres' | 'db+postgresql',
  ): Promise<App> {
    const app = caller(options, scheme);
    app.task({ name: 'it.progress', bind: true }, async (self, n: number) => {
      await self.updateState('PROGRESS', { step: n });
      await release.opened;
      return n * 2;
    });
    app.task({ name: 'it.echo' }, (value: unknown) => value);
    app.task({ name: 'it.fail' }, (message: string) => {
      throw new RangeError(message);
    });
    app.task({ name: 'it.quiet', ignoreResult: true }, () => 'nothing');
    app.task({ name: 'it.big' }, (size: number) => 'x'.repeat(size));
    worker = app.worker({ concurrency: 4 });
    await worker.start();
    return app;
  }

  test('another App reads PROGRESS then SUCCESS: refresh(), get() and state iteration through LISTEN/NOTIFY', async () => {
    await startWorker();
    const client = caller();
    const result = await client.sendTask<number>('it.progress', [21]);
    const seen: StateChange[] = [];
    const iterating = (async () => {
      for await (const change of result) seen.push(change);
    })();
    await waitFor(() => seen.some((change) => change.state === 'PROGRESS'), 5_000, 'PROGRESS');
    expect(seen[0]).toEqual({ state: 'PROGRESS', info: { step: 21 } });
    await expect(result.refresh()).resolves.toEqual({ state: 'PROGRESS', info: { step: 21 } });
    expect(result.state).toBe('PROGRESS');

    release.open();
    await expect(result.get({ timeout: 10 })).resolves.toBe(42);
    await iterating;
    expect(distinct(seen.map((change) => change.state))).toEqual(['PROGRESS', States.SUCCESS]);

    // A third App that never saw the task, as a dashboard would.
    const reader = caller();
    const again = reader.asyncResult<number>(result.id);
    expect(again.state).toBe(States.PENDING);
    await expect(again.refresh()).resolves.toEqual({ state: States.SUCCESS, info: 42 });
    expect(again.state).toBe(States.SUCCESS);
    await expect(again.get({ timeout: 1 })).resolves.toBe(42);
  });

  test('the row is Celery’s key-value state document; date_done and the expiry are set', async () => {
    await startWorker();
    const result = await caller().sendTask('it.echo', [{ a: [1, 'two', null], text: 'nul \u0000 byte' }]);
    await expect(result.get({ timeout: 10 })).resolves.toEqual({
      a: [1, 'two', null],
      text: 'nul \u0000 byte',
    });
    const row = (await db.row(tables, result.id))!;
    expect(row.status).toBe(States.SUCCESS);
    const document = JSON.parse(row.document as string) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual([
      'status',
      'result',
      'traceback',
      'children',
      'date_done',
      'task_id',
    ]);
    expect(document).toMatchObject({ status: 'SUCCESS', traceback: null, children: [], task_id: result.id });
    expect(new Date(document.date_done as string).getTime()).toBe((row.date_done as Date).getTime());
    const expiresIn = (row.expires_at as Date).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(86_390_000);
    expect(expiresIn).toBeLessThanOrEqual(86_400_000);
  });

  test('a result outlives the App that sent the task: a new App reads it after a restart', async () => {
    await startWorker();
    const first = caller();
    const result = await first.sendTask<string>('it.echo', ['kept']);
    await expect(result.get({ timeout: 10 })).resolves.toBe('kept');
    await first.close();

    const restarted = caller();
    const again = restarted.asyncResult<string>(result.id);
    await expect(again.get({ timeout: 5 })).resolves.toBe('kept');
    await expect(again.refresh()).resolves.toEqual({ state: States.SUCCESS, info: 'kept' });
  });

  test('FAILURE carries the error type, message and traceback (RemoteTaskError), for any reader', async () => {
    await startWorker();
    const result = await caller().sendTask('it.fail', ['out of range: 7']);
    const error = (await result.get({ timeout: 10 }).catch((thrown: unknown) => thrown)) as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('RangeError');
    expect(error.excMessage).toBe('out of range: 7');

    const { state, info } = await caller().asyncResult(result.id).refresh();
    expect(state).toBe(States.FAILURE);
    expect(info).toBeInstanceOf(RemoteTaskError);
    expect((info as RemoteTaskError).excType).toBe('RangeError');
    expect((info as RemoteTaskError).traceback).toMatch(/RangeError: out of range: 7/);
    const document = JSON.parse((await db.row(tables, result.id))!.document as string) as Record<
      string,
      unknown
    >;
    expect(document.result).toEqual({
      exc_type: 'RangeError',
      exc_message: ['out of range: 7'],
      exc_module: 'nodejs',
    });
  });

  test('forget() deletes the row: refresh() is PENDING again, here and in other Apps', async () => {
    await startWorker();
    const client = caller();
    const result = await client.sendTask('it.echo', [1]);
    await result.get({ timeout: 10 });
    await result.forget();
    expect(await db.row(tables, result.id)).toBeUndefined();
    await expect(result.refresh()).resolves.toEqual({ state: States.PENDING, info: null });
    expect(result.state).toBe(States.PENDING);
    await expect(caller().asyncResult(result.id).refresh()).resolves.toEqual({
      state: States.PENDING,
      info: null,
    });
  });

  test('resultExpires: 1 s later the result is gone for readers, and the sweep deletes the row', async () => {
    const app = await startWorker({ resultExpires: 1 });
    const result = await caller().sendTask('it.echo', ['short-lived']);
    await expect(result.get({ timeout: 10 })).resolves.toBe('short-lived');
    await sleep(1_200);
    await expect(caller().asyncResult(result.id).refresh()).resolves.toEqual({
      state: States.PENDING,
      info: null,
    });
    expect(await db.row(tables, result.id)).toBeDefined(); // expired, not yet deleted
    await expect((app.backend as PostgresResultBackend).sweepExpired()).resolves.toBeGreaterThanOrEqual(1);
    expect(await db.row(tables, result.id)).toBeUndefined();
  });

  test('resultExpires: null stores rows without expiry', async () => {
    await startWorker({ resultExpires: null });
    const result = await caller().sendTask('it.echo', ['forever']);
    await result.get({ timeout: 10 });
    expect((await db.row(tables, result.id))!.expires_at).toBeNull();
  });

  test('ignoreResult writes no row at all', async () => {
    await startWorker();
    const client = caller();
    await (await client.sendTask('it.echo', ['creates the tables'])).get({ timeout: 10 });
    const finished = new Promise<string>((resolve) =>
      worker.once('task-succeeded', (envelope) => resolve(envelope.id)),
    );
    const result = await client.sendTask('it.quiet');
    await expect(finished).resolves.toBe(result.id);
    expect(await db.row(tables, result.id)).toBeUndefined();
    await expect(caller().asyncResult(result.id).refresh()).resolves.toEqual({
      state: States.PENDING,
      info: null,
    });
  });

  test('a foreign row gives CorruptResultError for that task only; the worker beside it goes on', async () => {
    await startWorker();
    const client = caller();
    await (await client.sendTask('it.echo', ['creates the tables'])).get({ timeout: 10 });
    const planted = {
      'foreign-no-status': '{"result": 1}',
      'foreign-array': '[1, 2, 3]',
      'foreign-other-task': '{"status": "SUCCESS", "result": 1, "task_id": "someone-else"}',
    };
    for (const [taskId, document] of Object.entries(planted)) {
      await db.rows(
        `INSERT INTO "${tables.results}" (task_id, status, document) VALUES ($1, 'SUCCESS', $2)`,
        [taskId, document],
      );
    }
    for (const taskId of Object.keys(planted)) {
      const result = client.asyncResult(taskId);
      await expect(result.refresh()).rejects.toBeInstanceOf(CorruptResultError);
      await expect(result.get({ timeout: 5 })).rejects.toThrow(
        new RegExp(`stored result of task ${taskId} is not a task state document`),
      );
    }
    // A follower of a task whose row turns foreign is not notified (a warning is logged), nothing crashes.
    const followed = await client.sendTask<number>('it.progress', [5]);
    const changes: string[] = [];
    const stop = followed.onState((change) => changes.push(change.state));
    await waitFor(() => changes.includes('PROGRESS'), 5_000, 'PROGRESS');
    await db.rows(`UPDATE "${tables.results}" SET document = '"garbage"' WHERE task_id = $1`, [followed.id]);
    await db.rows(`SELECT pg_notify($1, $2)`, [tables.results, followed.id]);
    await sleep(200);
    await expect(followed.refresh()).rejects.toBeInstanceOf(CorruptResultError);
    const other = await client.sendTask('it.echo', ['still working']);
    await expect(other.get({ timeout: 10 })).resolves.toBe('still working');
    release.open(); // the worker's SUCCESS replaces the foreign document, and its follower sees it
    await waitFor(() => changes.includes(States.SUCCESS), 5_000, 'SUCCESS');
    await expect(followed.get({ timeout: 10 })).resolves.toBe(10);
    stop();
    expect(distinct(changes)).toEqual(['PROGRESS', States.SUCCESS]);
  });

  test('a result over maxResultBytes is not stored: the task ends in FAILURE (ResultTooLargeError)', async () => {
    await startWorker({ maxResultBytes: 1_000 });
    const result = await caller().sendTask('it.big', [5_000]);
    const error = (await result.get({ timeout: 10 }).catch((thrown: unknown) => thrown)) as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('ResultTooLargeError');
    expect(error.excMessage).toMatch(/over the limit of 1000 \(maxResultBytes\)/);
    const row = (await db.row(tables, result.id))!;
    expect(row.status).toBe(States.FAILURE);
    expect((row.document as string).length).toBeLessThan(5_000);
  });

  test('db+postgresql:// (worker) and postgres:// (caller) URLs reach the same tables', async () => {
    await startWorker({}, 'db+postgresql');
    const client = caller({}, 'postgres');
    const result = await client.sendTask<number>('it.echo', [7]);
    await expect(result.get({ timeout: 10 })).resolves.toBe(7);
    expect(client.backend).toBeInstanceOf(PostgresResultBackend);
  });

  test('many results pending at once each reach their own AsyncResult', async () => {
    await startWorker();
    const client = caller();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => client.sendTask('it.echo', [i])));
    await expect(Promise.all(results.map((result) => result.get({ timeout: 15 })))).resolves.toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });
});
