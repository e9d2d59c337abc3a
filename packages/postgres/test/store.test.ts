import { randomUUID } from 'node:crypto';
import { TransportError, type ChordPart, type JsonValue, type StateMessage } from '@queue/core/transport';
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

function part(
  groupId: string,
  taskId: string,
  groupIndex: number | null,
  result: JsonValue = groupIndex,
  partState = 'SUCCESS',
): ChordPart {
  return { groupId, taskId, groupIndex, state: partState, result };
}

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

  describe('chords', () => {
    async function chordRows(groupId: string): Promise<{ sizes: number; parts: number }> {
      const [row] = await db.rows<{ sizes: number; parts: number }>(
        `SELECT (SELECT count(*)::int FROM "${tables.groups}" WHERE group_id = $1) AS sizes,
                (SELECT count(*)::int FROM "${tables.chordParts}" WHERE group_id = $1) AS parts`,
        [groupId],
      );
      return row!;
    }

    test('prepare stores the size; a redelivered part counts once (its latest outcome kept); the last part gets all, in order', async () => {
      const { chords } = backend();
      await chords.prepare('c1', ['a', 'b', 'c']);
      await expect(
        db.rows(`SELECT count::int AS size FROM "${tables.groups}" WHERE group_id = 'c1'`),
      ).resolves.toEqual([{ size: 3 }]);
      await expect(chords.partReturned(part('c1', 'a', 0, 'first run'))).resolves.toBeUndefined();
      await expect(chords.partReturned(part('c1', 'a', 0, 'second run'))).resolves.toBeUndefined();
      const failure = { exc_type: 'RangeError', exc_message: ['boom'], exc_module: 'builtins' };
      await expect(chords.partReturned(part('c1', 'c', 2, failure, 'FAILURE'))).resolves.toBeUndefined();
      expect(await chordRows('c1')).toEqual({ sizes: 1, parts: 2 });
      await expect(chords.partReturned(part('c1', 'b', 1))).resolves.toEqual([
        part('c1', 'a', 0, 'second run'),
        part('c1', 'b', 1),
        part('c1', 'c', 2, failure, 'FAILURE'),
      ]);
      expect(await chordRows('c1')).toEqual({ sizes: 0, parts: 0 });
      // Delivered again after the chord fired: never fires twice (the stray row expires with the results).
      await expect(chords.partReturned(part('c1', 'b', 1))).resolves.toBeUndefined();
    });

    test('results are stored as the JSON text given and read back equal; parts without a place come last', async () => {
      const { chords } = backend();
      const odd: JsonValue = {
        z: 1,
        a: ['\u0000', '\ud800', 'é😀'],
        n: 1e300,
        neg: -0.5,
        deep: { x: [null, true] },
      };
      await chords.prepare('c2', ['x', 'y', 'z', 'w']);
      await chords.partReturned(part('c2', 'y', null, 'no place y'));
      await chords.partReturned(part('c2', 'x', null, 'no place x'));
      await chords.partReturned(part('c2', 'w', 1, odd));
      const stored = await db.rows<{ result: string }>(
        `SELECT result::text AS result FROM "${tables.chordParts}" WHERE task_id = 'w'`,
      );
      expect(stored).toEqual([{ result: JSON.stringify(odd) }]);
      await expect(chords.partReturned(part('c2', 'z', 0))).resolves.toEqual([
        part('c2', 'z', 0),
        part('c2', 'w', 1, odd),
        part('c2', 'x', null, 'no place x'),
        part('c2', 'y', null, 'no place y'),
      ]);
    });

    test('40 concurrent parts from two backends: exactly one caller gets all 40, in header order; the rows go', async () => {
      const first = backend();
      const second = backend();
      await first.migrate();
      for (let round = 0; round < 3; round++) {
        const groupId = `c40-${round}`;
        const ids = Array.from({ length: 40 }, (_, i) => `${groupId}-t${i}`);
        await first.chords.prepare(groupId, ids);
        // Sent in a scrambled order, so that the header's order comes from group_index alone.
        const order = ids.map((_, i) => (i * 17) % 40);
        const answers = await Promise.all(
          order.map((i) =>
            (i % 2 ? first : second).chords.partReturned(part(groupId, ids[i]!, i, { value: i })),
          ),
        );
        const fired = answers.filter((answer) => answer !== undefined);
        expect(fired).toHaveLength(1);
        expect(fired[0]).toEqual(ids.map((id, i) => part(groupId, id, i, { value: i })));
        expect(await chordRows(groupId)).toEqual({ sizes: 0, parts: 0 });
      }
    });

    test('a part stored before prepare counts once prepared; a chord whose parts all came first waits for one more delivery', async () => {
      const { chords } = backend();
      await expect(chords.partReturned(part('early', 'a', 0))).resolves.toBeUndefined();
      await chords.prepare('early', ['a', 'b']);
      await expect(chords.partReturned(part('early', 'b', 1))).resolves.toEqual([
        part('early', 'a', 0),
        part('early', 'b', 1),
      ]);

      await expect(chords.partReturned(part('all-early', 'a', 0))).resolves.toBeUndefined();
      await expect(chords.partReturned(part('all-early', 'b', 1))).resolves.toBeUndefined();
      await chords.prepare('all-early', ['a', 'b']);
      expect(await chordRows('all-early')).toEqual({ sizes: 1, parts: 2 });
      await expect(chords.partReturned(part('all-early', 'b', 1))).resolves.toHaveLength(2);
    });

    test('sizes and parts expire like results; each part keeps its chord alive; the sweep deletes them', async () => {
      const store = backend({ resultExpires: 1 });
      const { chords } = store;
      await chords.prepare('gone', ['a', 'b']);
      await chords.partReturned(part('gone', 'a', 0));
      await chords.prepare('alive', ['a', 'b', 'c']);
      await sleep(500);
      await chords.partReturned(part('alive', 'a', 0));
      await sleep(700);
      // 'gone' expired: its last part completes nothing.
      await expect(chords.partReturned(part('gone', 'b', 1))).resolves.toBeUndefined();
      await chords.partReturned(part('alive', 'b', 1));
      await sleep(500);
      // 'alive' part a is past its own expiry, but its chord is not: the sweep keeps it.
      await store.sweepExpired();
      // Its part a went with its size; b, stored after the chord had expired, lives its own time.
      expect(await chordRows('gone')).toEqual({ sizes: 0, parts: 1 });
      expect(await chordRows('alive')).toEqual({ sizes: 1, parts: 2 });
      await expect(chords.partReturned(part('alive', 'c', 2))).resolves.toHaveLength(3);

      const kept = backend({ resultExpires: null });
      await kept.chords.prepare('kept', ['a', 'b']);
      await kept.chords.partReturned(part('kept', 'a', 0));
      const expiries = await db.rows(
        `SELECT expires_at FROM "${tables.groups}" WHERE group_id = 'kept'
         UNION ALL SELECT expires_at FROM "${tables.chordParts}" WHERE group_id = 'kept'`,
      );
      expect(expiries).toEqual([{ expires_at: null }, { expires_at: null }]);
    });

    test('tables made by an earlier version (no chord parts table) gain it on first use', async () => {
      for (const statement of schemaStatements(tableNames(tables.prefix)).slice(0, 4))
        await db.rows(statement);
      const store = backend();
      await expect(store.fetch('x')).resolves.toBeUndefined();
      await expect(db.rows('SELECT to_regclass($1)::text AS parts', [tables.chordParts])).resolves.toEqual([
        { parts: tables.chordParts },
      ]);
      await store.chords.prepare('upgraded', ['a']);
      await expect(store.chords.partReturned(part('upgraded', 'a', 0))).resolves.toHaveLength(1);
    });

    test('a part whose pooled connections were ended by the server is counted on a new one', async () => {
      const { chords } = backend();
      await chords.prepare('lost', ['a', 'b']);
      await chords.partReturned(part('lost', 'a', 0));
      await waitFor(async () => (await db.terminate({ applicationName: tables.applicationName })) > 0);
      await expect(chords.partReturned(part('lost', 'b', 1))).resolves.toEqual([
        part('lost', 'a', 0),
        part('lost', 'b', 1),
      ]);
    });

    test('bad parts are refused before anything is stored', async () => {
      const { chords } = backend();
      await expect(chords.partReturned(part('', 'a', 0))).rejects.toBeInstanceOf(TypeError);
      await expect(chords.partReturned(part('g', 'a', 1.5))).rejects.toBeInstanceOf(RangeError);
      await expect(chords.prepare('', ['a'])).rejects.toBeInstanceOf(TypeError);
    });
  });

  test('a writer deletes expired rows by itself, at most once per sweepIntervalMs', async () => {
    const store = backend({ resultExpires: 1, sweepIntervalMs: 300 });
    await store.report(TARGET, state('old', 'SUCCESS', 1));
    await store.chords.prepare('old-chord', ['a', 'b']);
    await store.chords.partReturned(part('old-chord', 'a', 0));
    await store.chords.partReturned(part('unprepared', 'c', 0));
    await sleep(1_200);
    expect(await db.row(tables, 'old')).toBeDefined();
    await store.report(TARGET, state('new', 'SUCCESS', 2));
    await waitFor(async () => (await db.row(tables, 'old')) === undefined, 5_000, 'the sweep');
    await expect(db.rows(`SELECT 1 FROM "${tables.groups}"`)).resolves.toHaveLength(0);
    await expect(db.rows(`SELECT 1 FROM "${tables.chordParts}"`)).resolves.toHaveLength(0);
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
        `SELECT to_regclass($1)::text AS results, to_regclass($2)::text AS groups, to_regclass($3)::text AS parts`,
        [other.results, other.groups, other.chordParts],
      );
      expect(found).toEqual([{ results: other.results, groups: other.groups, parts: other.chordParts }]);
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
        `GRANT SELECT, INSERT, UPDATE, DELETE ON "${tables.results}", "${tables.groups}", "${tables.chordParts}" TO ${role}`,
      );
      const asRole = (url: string) => url.replace('//postgres@', `//${role}@`);
      expect(tables.url()).toContain('//postgres@');
      const limited = backend({}, asRole(tables.url()));
      await limited.report(TARGET, state('r1', 'SUCCESS', 'ok'));
      await expect(limited.fetch('r1')).resolves.toMatchObject({ state: 'SUCCESS', result: 'ok' });
      await limited.chords.prepare('g', ['one']);
      await expect(limited.chords.partReturned(part('g', 'one', 0))).resolves.toHaveLength(1);

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
