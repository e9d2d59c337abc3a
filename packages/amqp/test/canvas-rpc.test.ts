import { ChordNotSupportedError, chain, chord, group, type App } from '@queue/core';
import { amqpApp, BrokerAdmin, uniqueQueue } from './helpers';

/**
 * Workflows over RabbitMQ with rpc:// results: each step is frozen with the caller's reply queue, so the
 * caller hears the last step of a chain sent by a worker; chords are refused before anything is sent.
 */
describe('canvas on RabbitMQ with rpc://', () => {
  const queue = uniqueQueue('canvas-rpc');
  let app: App;
  let admin: BrokerAdmin;
  const tasks = () => ({
    add: app.task({ name: 'rpc.add' }, (a: number, b: number) => a + b),
    mul: app.task({ name: 'rpc.mul' }, (a: number, b: number) => a * b),
    tsum: app.task({ name: 'rpc.tsum' }, (values: number[]) => values.reduce((x, y) => x + y, 0)),
  });
  let t: ReturnType<typeof tasks>;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue);
    t = tasks();
    await app.worker({ concurrency: 4 }).start();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('a chain sent by the worker step by step reaches the caller', async () => {
    const result = await chain(t.add.s(2, 3), t.mul.s(10), t.add.s(1)).applyAsync();
    await expect(result.get({ timeout: 10 })).resolves.toBe(51);
  });

  test('a group', async () => {
    const result = await group(t.add.s(1, 1), t.mul.s(2, 3)).applyAsync();
    await expect(result.get({ timeout: 10 })).resolves.toEqual([2, 6]);
  });

  test('a chord is refused before its header is sent, naming the backend', async () => {
    await expect(chord([t.add.s(1, 1)], t.tsum.s()).applyAsync()).rejects.toThrow(ChordNotSupportedError);
    await expect(chord([t.add.s(1, 1)], t.tsum.s()).applyAsync()).rejects.toThrow(/rpc result backend/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await admin.depth(queue)).toBe(0);
  });
});
