import { App, RemoteTaskError, chain, chord, group } from '@queue/core';
import { PostgresChordStore } from '../src';
import { Db, pgApp, uniqueBroker, uniqueTables, waitFor, type TestTables } from './helpers';

jest.setTimeout(30_000);

/** The same tasks on the worker and on the caller (the caller only makes signatures of them). */
function defineTasks(app: App) {
  return {
    add: app.task({ name: 'pgchord.add' }, (a: number, b: number) => a + b),
    mul: app.task({ name: 'pgchord.mul' }, (a: number, b: number) => a * b),
    tsum: app.task({ name: 'pgchord.tsum' }, (values: number[]) => values.reduce((x, y) => x + y, 0)),
    boom: app.task({ name: 'pgchord.boom' }, (value: number): number => {
      throw new RangeError(`boom ${value}`);
    }),
  };
}

/**
 * Chords joined in PostgreSQL: a caller App prepares the chord and sends the header over a memory:// broker,
 * a worker App (a backend, a pool, of its own) runs the header and sends the body from the last part.
 */
describe('postgresql:// chords with a worker', () => {
  let db: Db;
  let tables: TestTables;
  let apps: App[];
  let tasks: ReturnType<typeof defineTasks>;

  beforeAll(async () => (db = await Db.open()));
  afterAll(async () => db.close());

  beforeEach(async () => {
    tables = uniqueTables();
    const broker = uniqueBroker();
    const worker = pgApp(tables, broker);
    const caller = pgApp(tables, broker);
    apps = [worker, caller];
    defineTasks(worker);
    tasks = defineTasks(caller);
    await worker.worker({ concurrency: 4 }).start();
  });

  afterEach(async () => {
    for (const app of apps) await app.close({ timeoutMs: 2_000 });
    await db.drop(tables);
  });

  async function chordRows(): Promise<number> {
    const [row] = await db.rows<{ count: number }>(
      `SELECT (SELECT count(*) FROM "${tables.groups}") + (SELECT count(*) FROM "${tables.chordParts}") AS count`,
    );
    return Number(row!.count);
  }

  test('the body gets the header results in order, once; the chord rows go', async () => {
    // Two Apps, two backends: only the tables can join their chords.
    expect(apps.map((app) => app.chords)).toEqual([
      expect.any(PostgresChordStore),
      expect.any(PostgresChordStore),
    ]);
    const result = await chord(
      [tasks.add.s(1, 1), tasks.add.s(2, 2), tasks.add.s(3, 3)],
      tasks.tsum.s(),
    ).applyAsync();
    expect(await result.get({ timeout: 10 })).toBe(12);
    await waitFor(async () => (await chordRows()) === 0, 5_000, 'the chord rows to go');
  });

  test('group | task in a chain becomes a chord joined here', async () => {
    const result = await chain(
      tasks.add.s(1, 1),
      group(tasks.mul.s(10), tasks.mul.s(100)),
      tasks.tsum.s(),
    ).applyAsync();
    expect(await result.get({ timeout: 10 })).toBe(220);
  });

  test('a failing header task fails the body with ChordError', async () => {
    const result = await chord([tasks.add.s(1, 1), tasks.boom.s(3)], tasks.tsum.s()).applyAsync();
    const error = (await result.get({ timeout: 10, propagate: false })) as unknown as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('ChordError');
    expect(error.excMessage).toMatch(/^Dependency [0-9a-f-]{36} raised RangeError\('boom 3'\)$/);
    await waitFor(async () => (await chordRows()) === 0, 5_000, 'the chord rows to go');
  });
});
