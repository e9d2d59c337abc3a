import { randomUUID } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { AMQP_URL, deleteQueues, run } from './helpers';

/**
 * `queue inspect` and `queue control` (the built CLI) against a real Celery 5.2 worker (Debian's
 * python3-celery) on RabbitMQ: one Python worker for the file, always addressed by its unique name.
 */
const PYTHON = '/usr/bin/python3';
const PY_FIXTURES = join(__dirname, '..', '..', 'amqp', 'test', 'fixtures');
if (spawnSync(PYTHON, ['-c', 'import celery'], { stdio: 'ignore' }).status !== 0) {
  throw new Error(
    `Celery is not installed for ${PYTHON}: apt-get install python3-celery (scripts/services.sh does)`,
  );
}

jest.setTimeout(60_000);

describe('queue inspect / queue control with a Python Celery worker', () => {
  const suffix = randomUUID().slice(0, 8);
  const queue = `test.cli-celery-control.${suffix}`;
  const PY_HOST = `py-cli-${suffix}@test`;
  let worker: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    worker = spawn(
      PYTHON,
      [
        '-m',
        'celery',
        '-A',
        'celery_app',
        'worker',
        '-Q',
        queue,
        '-P',
        'solo',
        '-l',
        'info',
        '--without-mingle',
        '--without-gossip',
        '--without-heartbeat',
        '-n',
        PY_HOST,
      ],
      {
        cwd: PY_FIXTURES,
        env: { ...process.env, AMQP_URL, PY_QUEUE: queue },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const child = worker;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`celery worker not ready in 30 s:\n${log}`)), 30_000);
      const watch = (chunk: Buffer) => {
        log += chunk.toString();
        if (/ready\./.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', watch);
      child.stderr!.on('data', watch);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`celery worker exited with ${code}:\n${log}`));
      });
    });
  });

  afterAll(async () => {
    const child = worker;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
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
