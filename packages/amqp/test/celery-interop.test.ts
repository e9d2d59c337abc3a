import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { RemoteTaskError, States, type App } from '@queue/core';
import {
  requireCelery,
  runPython,
  startCeleryWorker,
  type Spawned,
} from '../../../test-support/python-celery';
import { AMQP_URL, amqpApp, BrokerAdmin, collectStates, uniqueQueue } from './helpers';

/**
 * Wire compatibility with the real Celery (Debian's python3-celery, 5.2): a Python client calls our worker,
 * and our client calls a Python worker, both over RabbitMQ with the rpc:// backend. Separate queues, since a
 * worker rejects task names it does not know.
 */
const FIXTURES = join(__dirname, 'fixtures');
requireCelery();

jest.setTimeout(90_000);

class CardDeclined extends Error {
  override name = 'CardDeclined';
}

describe('a Python Celery client calls our worker', () => {
  const queue = uniqueQueue('from-python');
  let app: App;
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue);
    app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
    app.task({ name: 'it.fail' }, (message: string) => {
      throw new CardDeclined(message);
    });
    await app.worker({ concurrency: 4 }).start();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('SUCCESS (positional and keyword args), countdown via the eta header, FAILURE with type and message', async () => {
    // Asynchronous: our worker runs in this process and must keep serving while the client waits.
    const run = await runPython([join(FIXTURES, 'celery_client.py'), queue], {
      cwd: FIXTURES,
      env: { AMQP_URL },
      timeoutMs: 80_000,
    });
    if (run.status !== 0) throw new Error(`celery client failed (${run.status}): ${run.stderr}`);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out.add).toBe(42);
    expect(out.add_kwargs).toBe(3);
    expect(out.countdown).toBe(2);
    expect(out.countdown_seconds).toBeGreaterThanOrEqual(1.9);
    expect(out.fail).toEqual({ type: 'CardDeclined', message: 'from python', state: 'FAILURE' });
  });
});

describe('our client calls a Python Celery worker', () => {
  const queue = uniqueQueue('to-python');
  let worker: Spawned | undefined;
  let app: App;
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    worker = await startCeleryWorker({
      cwd: FIXTURES,
      app: 'celery_app',
      queue,
      hostname: `py-${queue}@%h`,
      env: { AMQP_URL },
    });
    app = amqpApp(queue);
  });

  afterAll(async () => {
    await app?.close({ timeoutMs: 1000 });
    await worker?.stop();
    await admin.cleanup(queue);
    await admin.close();
  });

  test('its result comes back', async () => {
    const result = await app.sendTask('py.add', [2, 40]);
    await expect(result.get({ timeout: 20 })).resolves.toBe(42);
    const byKeyword = await app.sendTask('py.add', [], { a: 5, b: 6 });
    await expect(byKeyword.get({ timeout: 20 })).resolves.toBe(11);
  });

  test('its PROGRESS states arrive in order, then SUCCESS', async () => {
    // Followed before it is sent: states reported before a listener subscribes are not replayed.
    const taskId = randomUUID();
    const following = collectStates(app.asyncResult(taskId));
    await app.sendTask('py.progress', [4], {}, { taskId });
    const seen = await following;
    expect(seen.filter((s) => s.state === 'PROGRESS').map((s) => s.info)).toEqual([
      { percent: 25 },
      { percent: 50 },
      { percent: 75 },
      { percent: 100 },
    ]);
    expect(seen.at(-1)).toEqual({ state: States.SUCCESS, info: 4 });
  });

  test('its FAILURE rejects get() with RemoteTaskError carrying the Python type, message and traceback', async () => {
    const result = await app.sendTask('py.fail', ['python says no']);
    const error = await result.get({ timeout: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteTaskError);
    const remote = error as RemoteTaskError;
    expect(remote.excType).toBe('ValueError');
    expect(remote.excModule).toBe('builtins');
    expect(remote.message).toContain('python says no');
    expect(remote.traceback).toContain('raise ValueError(message)');
  });
});
