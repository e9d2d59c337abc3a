import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { App, RemoteTaskError, States, type StateChange } from '@queue/core';
import '@queue/amqp';
import { AMQP_URL, deleteQueues, REDIS_URL } from './helpers';
import {
  PYTHON,
  requirePython,
  runPython,
  startCeleryWorker,
  type Spawned,
} from '../../../test-support/python-celery';

/**
 * Results shared with the real Celery (Debian's 5.2, JSON serializer) through Redis: a Python client reads
 * the states and results our worker stores, and our client reads those of a Python worker.
 */
const FIXTURES = join(__dirname, 'fixtures');
requirePython(
  'celery, redis',
  `Celery or redis-py missing for ${PYTHON}: apt-get install python3-celery python3-redis`,
);

jest.setTimeout(90_000);

/** What the Python side needs besides process.env (PY_QUEUE: the queue the fixtures route to). */
const env = (queue: string) => ({ AMQP_URL, REDIS_URL, PY_QUEUE: queue });

function ourApp(queue: string): App {
  return new App({
    name: `redis-interop-${queue}`,
    broker: AMQP_URL,
    resultBackend: REDIS_URL,
    defaultQueue: queue,
    setAsCurrent: false,
  });
}

describe('a Python Celery client reads what our worker stores in Redis', () => {
  const queue = `test.redis-from-python.${randomUUID().slice(0, 8)}`;
  let app: App;

  beforeAll(async () => {
    app = ourApp(queue);
    app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
    app.task({ name: 'it.fail' }, (message: string) => {
      throw new TypeError(message);
    });
    app.task({ name: 'it.progress', bind: true }, async (self, steps: number) => {
      for (let step = 1; step <= steps; step++) {
        await self.updateState('PROGRESS', { percent: Math.floor((step * 100) / steps) });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return steps;
    });
    await app.worker({ concurrency: 4 }).start();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await deleteQueues(queue);
  });

  test('SUCCESS, FAILURE with type and message, PROGRESS meta', async () => {
    // Asynchronously: our worker in this process must keep serving meanwhile.
    const run = await runPython([join(FIXTURES, 'celery_redis_client.py'), queue], {
      cwd: FIXTURES,
      env: env(queue),
      timeoutMs: 80_000,
    });
    if (run.status !== 0) throw new Error(`celery client failed (${run.status}): ${run.stderr}`);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out.add).toBe(42);
    expect(out.fail).toEqual({ type: 'TypeError', message: 'from python', state: 'FAILURE' });
    expect(out.progress).toEqual([
      { state: 'PROGRESS', info: { percent: 33 } },
      { state: 'PROGRESS', info: { percent: 66 } },
      { state: 'PROGRESS', info: { percent: 100 } },
    ]);
    expect(out.progress_result).toBe(3);
  });
});

describe('our client reads what a Python Celery worker stores in Redis', () => {
  const queue = `test.redis-to-python.${randomUUID().slice(0, 8)}`;
  let worker: Spawned | undefined;
  let app: App;

  beforeAll(async () => {
    worker = await startCeleryWorker({
      cwd: FIXTURES,
      app: 'celery_redis_app',
      queue,
      hostname: `py-${queue}@%h`,
      env: env(queue),
    });
    app = ourApp(queue);
  });

  afterAll(async () => {
    await app?.close({ timeoutMs: 1000 });
    await worker?.stop();
    await deleteQueues(queue);
  });

  test('its result, read by the sender and by a fresh App after the fact', async () => {
    const result = await app.sendTask('py.add', [2, 40]);
    await expect(result.get({ timeout: 20 })).resolves.toBe(42);
    const other = ourApp(queue);
    try {
      await expect(other.asyncResult(result.id).refresh()).resolves.toEqual({
        state: States.SUCCESS,
        info: 42,
      });
    } finally {
      await other.close();
    }
  });

  test('its PROGRESS states arrive through the channel, in order, then SUCCESS', async () => {
    const result = await app.sendTask('py.progress', [3]);
    const seen: StateChange[] = [];
    for await (const change of result) seen.push(change);
    expect(seen.filter((s) => s.state === 'PROGRESS').map((s) => s.info)).toEqual([
      { percent: 33 },
      { percent: 66 },
      { percent: 100 },
    ]);
    expect(seen.at(-1)).toEqual({ state: States.SUCCESS, info: 3 });
  });

  test('its FAILURE rejects get() with the Python type, message and traceback', async () => {
    const result = await app.sendTask('py.fail', ['python says no']);
    const error = await result.get({ timeout: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect((error as RemoteTaskError).excType).toBe('ValueError');
    expect((error as RemoteTaskError).message).toContain('python says no');
    expect((error as RemoteTaskError).traceback).toContain('raise ValueError(message)');
  });
});
