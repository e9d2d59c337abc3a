import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess, startProcess } from '../../../test-support/python-celery';

/**
 * `queue dashboard` as users run it (the built CLI, in its own process, on the local RabbitMQ): it prints its
 * URL, serves the page and the API, stops cleanly on SIGTERM, and refuses what cannot work in one line.
 */
const CLI = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (bash scripts/pnpm.sh -r build)`);
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

jest.setTimeout(30_000);

it('serves the dashboard on a free port until SIGTERM, with the token it was given', async () => {
  const dashboard = await startProcess(
    process.execPath,
    [CLI, 'dashboard', '--broker', AMQP_URL, '--port', '0', '--prefix', '/flower', '--max-tasks', '500'],
    {
      cwd: __dirname,
      env: { QUEUE_DASHBOARD_TOKEN: 'cli-test-token', LOG_LEVEL: 'warn' },
      name: 'queue dashboard',
      ready: /ready\./,
      timeoutMs: 30_000,
    },
  );
  try {
    const url = /queue dashboard: (http:\/\/127\.0\.0\.1:\d+\/flower\/) \(broker amqp:\/\/guest:\*+@/.exec(
      dashboard.stdout(),
    )?.[1];
    expect(url).toBeDefined();
    expect((await fetch(url!)).status).toBe(200);
    expect((await fetch(`${url}api/snapshot`)).status).toBe(401);
    const snapshot = await fetch(`${url}api/snapshot`, {
      headers: { authorization: 'Bearer cli-test-token' },
    });
    expect(snapshot.status).toBe(200);
    expect(((await snapshot.json()) as { info: { maxTasks: number } }).info.maxTasks).toBe(500);
  } finally {
    await dashboard.stop(10_000);
  }
  expect(await dashboard.closed).toBe(0);
  expect(dashboard.stderr()).not.toMatch(/error/i);
});

it('refuses an in-process broker, a bad --basic-auth and a bad port in one line each (exit 2)', async () => {
  const run = (...args: string[]) =>
    runProcess(process.execPath, [CLI, 'dashboard', ...args], { cwd: __dirname, timeoutMs: 20_000 });
  const memory = await run('--broker', 'memory://');
  expect(memory.status).toBe(2);
  expect(memory.stderr.trim().split('\n')).toHaveLength(1);
  expect(memory.stderr).toMatch(/memory:\/\/.*use an amqp:\/\/ broker/);
  const auth = await run('--broker', AMQP_URL, '--basic-auth', 'nocolon');
  expect(auth.status).toBe(2);
  expect(auth.stderr.trim().split('\n')).toHaveLength(1);
  expect(auth.stderr).toMatch(/user:pass/);
  const port = await run('--broker', AMQP_URL, '--port', '99999');
  expect(port.status).toBe(2);
});
