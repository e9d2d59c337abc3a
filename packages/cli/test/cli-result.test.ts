import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '@queue/core';
import '@queue/redis';
import { AMQP_URL, bin, type Finished } from './helpers';

/**
 * `queue result` reading what a worker stored in the real Redis, from another process. The worker runs in
 * this test process (memory broker, redis:// backend); the CLI only reads.
 */
jest.setTimeout(30_000);

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
/** Where `@queue/redis` is installed beside the CLI, as in a user's project. */
const PROJECT = join(__dirname, '..', '..', '..', 'apps', 'sample');

/** `queue <args>` run from PROJECT; `onStderr` sees its stderr so far as it grows; killed after 20 s. */
function queue(
  args: string[],
  onStderr: (text: string) => void = () => undefined,
  cwd = PROJECT,
  extraEnv: Record<string, string> = {},
): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    const { AMQP_URL: _ignored, ...env } = process.env;
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...env, LOG_LEVEL: 'error', ...extraEnv },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => onStderr((stderr += chunk.toString())));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

class PaperJam extends Error {
  override name = 'PaperJam';
}

const app = new App({
  name: 'cli-result-test',
  broker: `memory://cli-result-${process.pid}`,
  resultBackend: REDIS_URL,
});
const jam = app.task({ name: 'cli.result.jam' }, (): never => {
  throw new PaperJam('tray 2 is stuck');
});
/** Set while `slow` runs: the test ends it once the CLI has seen its progress. */
let finishSlow: (() => void) | undefined;
const slow = app.task({ name: 'cli.result.slow', bind: true }, async (self) => {
  const released = new Promise<void>((resolve) => (finishSlow = resolve));
  await self.updateState('PROGRESS', { percent: 50 });
  await released;
  return 'done';
});
const sent: string[] = [];

beforeAll(async () => {
  await app.worker({ concurrency: 2 }).start();
});

afterAll(async () => {
  finishSlow?.(); // a failed test must not leave the run holding the worker open
  for (const id of sent) await app.asyncResult(id).forget();
  await app.close();
});

test('a failure: state, error type and message, traceback, date_done; exit 1', async () => {
  const result = await jam.delay();
  sent.push(result.id);
  await result.get({ timeout: 5, propagate: false });
  const read = await queue(['result', result.id, '--result-backend', REDIS_URL]);
  expect(read.code).toBe(1);
  const shown = JSON.parse(read.stdout) as Record<string, unknown>;
  expect(shown).toMatchObject({
    id: result.id,
    state: 'FAILURE',
    error: { type: 'PaperJam', message: 'tray 2 is stuck' },
    traceback: expect.stringContaining('PaperJam: tray 2 is stuck'),
  });
  expect(shown.result).toBeUndefined();
  expect(Date.now() - Date.parse(String(shown.date_done))).toBeLessThan(60_000);
});

test('--wait follows a running task to SUCCESS and prints its result; exit 0', async () => {
  const result = await slow.delay();
  sent.push(result.id);
  const read = await queue(
    ['result', result.id, '--wait', '--timeout', '10', '--result-backend', REDIS_URL],
    (stderr) => stderr.includes('PROGRESS 50%') && finishSlow?.(),
  );
  expect(read.code).toBe(0);
  expect(JSON.parse(read.stdout)).toMatchObject({ id: result.id, state: 'SUCCESS', result: 'done' });
  expect(read.stderr.trim().split('\n')).toEqual(['PROGRESS 50%', 'SUCCESS']);
});

test('an id with nothing stored: PENDING, exit 1', async () => {
  const read = await queue(['result', '00000000-0000-4000-8000-00000000dead', '--result-backend', REDIS_URL]);
  expect(read.code).toBe(1);
  expect(JSON.parse(read.stdout)).toEqual({
    id: '00000000-0000-4000-8000-00000000dead',
    state: 'PENDING',
    result: null,
    date_done: null,
  });
  expect(read.stderr).toBe(
    'no state stored for 00000000-0000-4000-8000-00000000dead in the redis result backend\n',
  );
});

test("--app's own dependencies serve its result backend, whatever the working directory", async () => {
  // The sample's worker module, its redis:// backend from RESULT_BACKEND; @queue/redis is installed only
  // beside it (apps/sample/node_modules), not in the working directory nor beside the CLI.
  const worker = join(PROJECT, 'dist', 'worker.js');
  const run = await queue(['result', 'no-such-task', '--app', worker], undefined, tmpdir(), {
    RESULT_BACKEND: REDIS_URL,
  });
  expect({ code: run.code, out: run.stdout.trim() }).toEqual({
    code: 1,
    out: '{"id":"no-such-task","state":"PENDING","result":null,"date_done":null}',
  });
});

test('rpc:// keeps no states: one line that says so, exit 2', async () => {
  const read = await queue(['result', 'some-id', '--broker', AMQP_URL]);
  expect(read.code).toBe(2);
  expect(read.stdout).toBe('');
  expect(read.stderr.trim().split('\n')).toHaveLength(1);
  expect(read.stderr).toMatch(
    /^error: queue result: rpc:\/\/ keeps no states to read .*queue status some-id\n$/,
  );
});

test('no backend named at all: a usage error', async () => {
  const read = await queue(['result', 'some-id']);
  expect(read.code).toBe(2);
  expect(read.stderr).toMatch(/queue result needs --result-backend <url>/);
});
