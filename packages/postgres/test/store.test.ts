import { randomUUID } from 'node:crypto';
import { TransportError, type StateMessage } from '@queue/core/transport';
import {
  migrate,
  PostgresResultBackend,
  schemaStatements,
  tableNames,
  type PostgresBackendOptions,
} from '../src';
import { Db, sleep, uniqueTables, waitFor, type TestTables } from './helpers';

jest.setTimeout(30_000);

function state(taskId: string, name: string, result: StateMessage['result'] = null): StateMessage {
  return { taskId, state: name, result, traceback: null, children: null };
}

const TARGET = { taskId: '', replyTo: '', correlationId: '' };

describe('PostgresResultBackend on its own', () => {
  let db: Db;
  let tables: TestTables;
  let backends: PostgresResultBackend[];

  beforeAll(async () => (db = await Db.open()));
  afterAll(async () => db.close());
  beforeEach(() => {
    tables = uniqueTables();
    backends = [];
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    await db.drop(tables);
  });

  function backend(options: PostgresBackendOptions = {}, url = tables.url()): PostgresResultBackend {
    const created = new PostgresResultBackend(url, options);
    backends.push(created);
    return created;
  }

  test('a late non-ready state never replaces a ready one; a later ready state does', async () => {
    const store = backend();
    await store.report(TARGET, state('t1', 'STARTED'));
    await store.report(TARGET, state('t1', 'SUCCESS', 1));
    await store.report(TARGET, state('t1', 'STARTED')); // a redelivered duplicate run
    await store.report(TARGET, state('t1', 'PROGRESS', { late: true }));
    await expect(store.fetch('t1')).resolves.toMatchObject({ state: 'SUCCESS', result: 1 });
    await store.report(
      TARGET,
      state('t1', 'FAILURE', { exc_type: 'E', exc_message: ['x'], exc_module: 'm' }),
    );
    await expect(store.fetch('t1')).resolves.toMatchObject({ state: 'FAILURE' });
    expect((await db.row(tables, 't1'))!.status).toBe('FAILURE');
  });

  test('an expired ready row is replaced by a new run of the same id', async () => {
    const store = backend({ resultExpires: 1 });
    await store.report(TARGET, state('t2', 'SUCCESS', 1));
    await sleep(1_100);
    await store.report(TARGET, state('t2', 'STARTED'));
    await expect(store.fetch('t2')).resolves.toMatchObject({ state: 'STARTED', dateDone: null });
  });

  test('incrementGroup: 50 concurrent additions from two backends end at exactly 50, each value once', async () => {
    const first = backend();
    const second = backend();
    await first.migrate();
    const counts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? first : second).incrementGroup('g1')),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await expect(second.incrementGroup('g1', 0)).resolves.toBe(50);
    await expect(first.incrementGroup('g1', 5)).resolves.toBe(55);
    await expect(first.incrementGroup('g2')).resolves.toBe(1);
    await expect(first.incrementGroup('g1', 1.5)).rejects.toBeInstanceOf(RangeError);
  });

  test('a group counter expires like results (then counts from zero again); null keeps it', async () => {
    const short = backend({ resultExpires: 1 });
    await expect(short.incrementGroup('g', 3)).resolves.toBe(3);
    await sleep(1_100);
    await expect(short.incrementGroup('g')).resolves.toBe(1);
    await backend({ resultExpires: null }).incrementGroup('kept');
    const rows = await db.rows<{ expires_at: Date | null }>(
      `SELECT expires_at FROM "${tables.groups}" WHERE group_id = 'kept'`,
    );
    expect(rows).toEqual([{ expires_at: null }]);
  });

  test('a writer deletes expired rows by itself, at most once per sweepIntervalMs', async () => {
    const store = backend({ resultExpires: 1, sweepIntervalMs: 300 });
    await store.report(TARGET, state('old', 'SUCCESS', 1));
    await store.incrementGroup('old-group');
    await sleep(1_200);
    expect(await db.row(tables, 'old')).toBeDefined();
    await store.report(TARGET, state('new', 'SUCCESS', 2));
    await waitFor(async () => (await db.row(tables, 'old')) === undefined, 5_000, 'the sweep');
    const groups = await db.rows(`SELECT 1 FROM "${tables.groups}"`);
    expect(groups).toHaveLength(0);
    expect(await db.row(tables, 'new')).toBeDefined();
  });

  test('forget() of an unknown id is harmless; fetch() of an unknown id is undefined', async () => {
    const store = backend();
    await expect(store.forget('nobody')).resolves.toBeUndefined();
    await expect(store.fetch('nobody')).resolves.toBeUndefined();
  });

  test('tables are created once when several backends start together; migrate() does it explicitly', async () => {
    const many = Array.from({ length: 8 }, () => backend());
    await expect(Promise.all(many.map((store) => store.fetch('x')))).resolves.toEqual(
      Array.from({ length: 8 }, () => undefined),
    );
    await expect(migrate(tables.url())).resolves.toEqual(tableNames(tables.prefix));

    const other = uniqueTables();
    try {
      await Promise.all(Array.from({ length: 4 }, () => migrate(other.url())));
      const found = await db.rows(
        `SELECT to_regclass($1)::text AS results, to_regclass($2)::text AS groups`,
        [other.results, other.groups],
      );
      expect(found).toEqual([{ results: other.results, groups: other.groups }]);
    } finally {
      await db.drop(other);
    }
    expect(schemaStatements(tableNames(tables.prefix)).join('\n')).toContain(
      `CREATE TABLE IF NOT EXISTS "${tables.results}"`,
    );
  });

  test('a role that may not create tables uses tables made by migrate(), and is told clearly when they are missing', async () => {
    const role = `it_role_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    await db.rows(`CREATE ROLE ${role} LOGIN`);
    try {
      await migrate(tables.url());
      await db.rows(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON "${tables.results}", "${tables.groups}" TO ${role}`,
      );
      const asRole = (url: string) => url.replace('//postgres@', `//${role}@`);
      expect(tables.url()).toContain('//postgres@');
      const limited = backend({}, asRole(tables.url()));
      await limited.report(TARGET, state('r1', 'SUCCESS', 'ok'));
      await expect(limited.fetch('r1')).resolves.toMatchObject({ state: 'SUCCESS', result: 'ok' });
      await expect(limited.incrementGroup('g')).resolves.toBe(1);

      const missing = uniqueTables();
      const refused = backend({}, asRole(missing.url()));
      const error = (await refused.fetch('r1').catch((thrown: unknown) => thrown)) as TransportError;
      expect(error).toBeInstanceOf(TransportError);
      expect(error.message).toMatch(
        /creating the tables failed: permission denied for schema public \(42501\)/,
      );
    } finally {
      for (const backend of backends.splice(0)) await backend.close();
      await db.drop(tables);
      await db.rows(`DROP ROLE ${role}`);
    }
  });

  test('tables dropped while a backend runs are created again by its next command', async () => {
    const store = backend();
    await store.report(TARGET, state('d1', 'SUCCESS', 1));
    await store.sweepExpired(); // the first write's sweep, done now: none runs in the background below
    await db.drop(tables);
    await expect(store.report(TARGET, state('d2', 'SUCCESS', 2))).rejects.toThrow(/does not exist \(42P01\)/);
    await store.report(TARGET, state('d2', 'SUCCESS', 2));
    await expect(store.fetch('d2')).resolves.toMatchObject({ state: 'SUCCESS', result: 2 });
    await expect(store.fetch('d1')).resolves.toBeUndefined();
  });

  test('a task id too long for a NOTIFY payload is still followed', async () => {
    const writer = backend();
    const reader = backend();
    await writer.migrate();
    const longId = `long-${'x'.repeat(8_000)}`;
    const seen: string[] = [];
    reader.subscribe(longId, (change) => seen.push(change.state));
    await waitFor(async () => (await db.listenerPid(tables)) !== undefined, 5_000, 'LISTEN');
    await writer.report(TARGET, state(longId, 'SUCCESS', 1));
    await waitFor(() => seen.includes('SUCCESS'), 5_000, 'SUCCESS');
  });

  test('after close() commands fail with a TransportError; close() twice is harmless', async () => {
    const store = backend();
    await store.fetch('a');
    await store.close();
    await store.close();
    const error = (await store.fetch('a').catch((thrown: unknown) => thrown)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(
      /^PostgreSQL result backend postgresql:\/\/.* is closed \(reading a state\)$/,
    );
  });
});
