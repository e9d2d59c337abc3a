import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { App, ConfigurationError, States } from '@queue/core';
import { TransportError } from '@queue/core/transport';
import { PostgresResultBackend } from '../src';
import { Db, gate, PG_URL, pgApp, uniqueBroker, uniqueTables, waitFor, type TestTables } from './helpers';

jest.setTimeout(30_000);

describe('lost connections', () => {
  let db: Db;
  let tables: TestTables;
  let apps: App[];
  let release: ReturnType<typeof gate>;

  beforeAll(async () => (db = await Db.open()));
  afterAll(async () => db.close());
  beforeEach(() => {
    tables = uniqueTables();
    apps = [];
    release = gate();
  });
  afterEach(async () => {
    release.open();
    for (const app of apps) await app.close({ timeoutMs: 2_000 });
    await db.drop(tables);
  });

  async function workerAndCaller(): Promise<{ worker: App; caller: App }> {
    const broker = uniqueBroker();
    const worker = pgApp(tables, broker);
    const caller = pgApp(tables, broker);
    apps.push(worker, caller);
    worker.task({ name: 'it.gated', bind: true }, async (self, value: string) => {
      await self.updateState('PROGRESS', null);
      await release.opened;
      return value;
    });
    worker.task({ name: 'it.echo' }, (value: unknown) => value);
    await worker.worker({ concurrency: 4 }).start();
    return { worker, caller };
  }

  test('a follower survives its LISTEN connection being terminated, and gets the states stored meanwhile and after', async () => {
    const { caller } = await workerAndCaller();
    const first = await caller.sendTask<string>('it.gated', ['first']);
    const changes: string[] = [];
    first.onState((change) => changes.push(change.state));
    const firstValue = first.get({ timeout: 20 });
    await waitFor(() => changes.includes('PROGRESS'), 5_000, 'PROGRESS');
    const pid = (await db.listenerPid(tables))!;
    expect(pid).toBeDefined();

    await db.terminate({ pid });
    release.open(); // SUCCESS is stored while nobody listens: read again once LISTEN is back
    await expect(firstValue).resolves.toBe('first');
    await waitFor(() => changes.includes(States.SUCCESS), 5_000, 'SUCCESS through the listener');

    // The new LISTEN session delivers notifications (nothing else would tell this get() about SUCCESS).
    await waitFor(
      async () => ((await db.listenerPid(tables)) ?? pid) !== pid,
      10_000,
      'a new LISTEN session',
    );
    release = gate();
    const second = await caller.sendTask<string>('it.gated', ['second']);
    const secondValue = second.get({ timeout: 20 });
    await waitFor(async () => (await db.row(tables, second.id))?.status === 'PROGRESS', 5_000, 'PROGRESS');
    release.open();
    await expect(secondValue).resolves.toBe('second');
  });

  test('every session of worker and caller terminated: the next states are stored and read all the same', async () => {
    const { caller } = await workerAndCaller();
    await expect((await caller.sendTask('it.echo', ['before'])).get({ timeout: 10 })).resolves.toBe('before');
    expect(await db.terminate({ applicationName: tables.applicationName })).toBeGreaterThanOrEqual(2);
    await expect((await caller.sendTask('it.echo', ['after'])).get({ timeout: 10 })).resolves.toBe('after');
    expect(await db.terminate({ applicationName: tables.applicationName })).toBeGreaterThanOrEqual(1);
    await expect(caller.asyncResult('nothing-here').refresh()).resolves.toEqual({
      state: States.PENDING,
      info: null,
    });
  });
});

describe('connection errors are TransportErrors, clear, fast and without the password', () => {
  const secret = 's3cret-Pw';
  let silent: Server | undefined;
  const sockets: Socket[] = [];

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  async function failure(url: string): Promise<{ error: TransportError; ms: number }> {
    const backend = new PostgresResultBackend(url);
    const started = Date.now();
    try {
      const error = (await backend.fetch('x').catch((thrown: unknown) => thrown)) as TransportError;
      return { error, ms: Date.now() - started };
    } finally {
      await backend.close();
    }
  }

  test('nothing listens on the port: fails at once, the URL named with its password masked', async () => {
    const { error, ms } = await failure(`postgresql://postgres:${secret}@127.0.0.1:1/test`);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(
      /^PostgreSQL result backend postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1:1\/test: connecting \(creating the tables\) failed: connect ECONNREFUSED/,
    );
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(ms).toBeLessThan(3_000);
  });

  test('a server that never answers: fails after connectTimeoutMs', async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const { error, ms } = await failure(
      `postgres://postgres:${secret}@127.0.0.1:${port}/test?connectTimeoutMs=500`,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(
      /connecting \(creating the tables\) failed: no connection within connectTimeoutMs \(500 ms\)/,
    );
    expect(error.message).toContain(`postgres://postgres:****@127.0.0.1:${port}/test`);
    expect(error.message).not.toContain(secret);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(3_000);
  });

  test('an unknown database: the server’s message and SQLSTATE', async () => {
    const url = PG_URL.replace(/\/[^/?]*(\?|$)/, `/no_such_db_queue_it$1`).replace(
      '//postgres@',
      `//postgres:${secret}@`,
    );
    const { error } = await failure(url);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/database "no_such_db_queue_it" does not exist \(3D000\)/);
    expect(error.message).not.toContain(secret);
  });

  test('a bad URL or parameter fails when the App is created (ConfigurationError, password masked)', () => {
    const make = (resultBackend: string) => () =>
      new App({ name: 'bad', broker: 'memory://', resultBackend, setAsCurrent: false });
    expect(make(`postgresql://u:${secret}@h/db?tablePrefix=Bad-Name`)).toThrow(ConfigurationError);
    expect(make(`postgresql://u:${secret}@h/db?poolSize=0`)).toThrow(
      /poolSize in postgresql:\/\/u:\*\*\*\*@h\/db\?poolSize=0 must be an integer from 1 to 100/,
    );
    expect(make(`postgresql://u:${secret}@h:notaport/db`)).toThrow(
      /not a valid PostgreSQL URL: postgresql:\/\/u:\*\*\*\*@h:notaport\/db/,
    );
  });
});
