import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { App, States } from '@queue/core';
import '@queue/amqp';
import { PostgresResultBackend } from '../src';
import { Db, uniqueTables, type TestTables } from './helpers';

/** The usual deployment: tasks through RabbitMQ, results in PostgreSQL (no reply queue at all). */
jest.setTimeout(30_000);

const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

describe('amqp:// broker with the postgresql:// backend', () => {
  const queue = `test.pg.${randomUUID().slice(0, 8)}`;
  let db: Db;
  let tables: TestTables;
  let worker: App;
  let caller: App;

  beforeAll(async () => {
    db = await Db.open();
    tables = uniqueTables();
    const options = {
      broker: AMQP_URL,
      resultBackend: tables.url(),
      defaultQueue: queue,
      setAsCurrent: false,
    };
    worker = new App({ name: 'it-pg-worker', ...options });
    worker.task({ name: 'it.progress', bind: true }, async (self, steps: number) => {
      for (let step = 1; step <= steps; step++) await self.updateState('PROGRESS', { step });
      return steps;
    });
    await worker.worker({ concurrency: 4 }).start();
    caller = new App({ name: 'it-pg-caller', ...options });
  });

  afterAll(async () => {
    await caller.close({ timeoutMs: 2_000 });
    await worker.close({ timeoutMs: 2_000 });
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteExchange(queue);
    await connection.close();
    await db.drop(tables);
    await db.close();
  });

  test('the caller needs no reply queue (replyTo is empty); states are read from PostgreSQL', async () => {
    expect(caller.backend).toBeInstanceOf(PostgresResultBackend);
    await expect(caller.backend.replyTo()).resolves.toBe('');
    const result = await caller.sendTask<number>('it.progress', [3]);
    await expect(result.get({ timeout: 15 })).resolves.toBe(3);
    expect(result.state).toBe(States.SUCCESS);
    expect((await db.row(tables, result.id))!.status).toBe(States.SUCCESS);
  });
});
