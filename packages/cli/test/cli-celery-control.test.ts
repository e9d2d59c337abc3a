import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AMQP_URL, deleteQueues, run } from './helpers';
import { requireCelery, startCeleryWorker, type Spawned } from '../../../test-support/python-celery';

/**
 * `queue inspect` and `queue control` (the built CLI) against a real Celery 5.2 worker (Debian's
 * python3-celery) on RabbitMQ: one Python worker for the file, always addressed by its unique name.
 */
const PY_FIXTURES = join(__dirname, '..', '..', 'amqp', 'test', 'fixtures');
requireCelery();

jest.setTimeout(60_000);

describe('queue inspect / queue control with a Python Celery worker', () => {
  const suffix = randomUUID().slice(0, 8);
  const queue = `test.cli-celery-control.${suffix}`;
  const PY_HOST = `py-cli-${suffix}@test`;
  let worker: Spawned | undefined;

  beforeAll(async () => {
    worker = await startCeleryWorker({
      cwd: PY_FIXTURES,
      app: 'celery_app',
      queue,
      hostname: PY_HOST,
      env: { AMQP_URL },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await deleteQueues(queue);
  });

  test('`queue inspect ping -d <python host>` prints its pong in Celery’s shape, exit 0', async () => {
    const ping = await run(['inspect', 'ping', '-d', PY_HOST, '--broker', AMQP_URL, '--timeout', '5']);
    expect(ping.stderr).toBe('');
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toEqual({ [PY_HOST]: { ok: 'pong' } });
    const registered = await run([
      'inspect',
      'registered',
      '-d',
      PY_HOST,
      '--broker',
      AMQP_URL,
      '--timeout',
      '5',
    ]);
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toEqual({
      [PY_HOST]: expect.arrayContaining(['py.add', 'py.fail', 'py.progress']),
    });
  });

  test('`queue inspect ping -d nobody@nowhere --timeout 0.5`: exit 1, one line on stderr', async () => {
    const ping = await run([
      'inspect',
      'ping',
      '-d',
      `nobody-${suffix}@nowhere`,
      '--broker',
      AMQP_URL,
      '--timeout',
      '0.5',
    ]);
    expect(ping.code).toBe(1);
    expect(ping.stderr).toBe('no worker answered within 0.5s\n');
    expect(JSON.parse(ping.stdout)).toEqual({});
  });

  test('`queue control revoke <id> -d <python host>`: Celery’s reply, and the worker holds the id revoked', async () => {
    const taskId = randomUUID();
    const revoke = await run([
      'control',
      'revoke',
      taskId,
      '-d',
      PY_HOST,
      '--broker',
      AMQP_URL,
      '--timeout',
      '5',
    ]);
    expect(revoke.stderr).toBe('');
    expect(revoke.code).toBe(0);
    expect(JSON.parse(revoke.stdout)).toEqual({ [PY_HOST]: { ok: `tasks ${taskId} flagged as revoked` } });
    const revoked = await run(['inspect', 'revoked', '-d', PY_HOST, '--broker', AMQP_URL, '--timeout', '5']);
    expect(JSON.parse(revoked.stdout)).toEqual({ [PY_HOST]: expect.arrayContaining([taskId]) });
  });
});
