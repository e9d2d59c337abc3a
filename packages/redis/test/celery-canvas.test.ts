import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { App, RemoteTaskError, chain, chord } from '@queue/core';
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
 * Workflows across a mixed fleet, against Debian's Celery 5.2 with Redis results: chains and chords whose
 * steps run on a Python worker and on ours, applied from a Python client and from ours. What travels is
 * Celery's own canvas (the `chain` and `chord` fields, Redis's native chord join), so each side continues
 * what the other started.
 */
const FIXTURES = join(__dirname, 'fixtures');
requirePython(
  'celery, redis',
  `Celery or redis-py missing for ${PYTHON}: apt-get install python3-celery python3-redis`,
);

jest.setTimeout(120_000);

const suffix = randomUUID().slice(0, 8);
const TS_QUEUE = `test.canvas-ts.${suffix}`;
const PY_QUEUE = `test.canvas-py.${suffix}`;
const env = { AMQP_URL, REDIS_URL, PY_QUEUE, TS_QUEUE };

let app: App;
let python: Spawned | undefined;

beforeAll(async () => {
  app = new App({
    name: `canvas-interop-${suffix}`,
    broker: AMQP_URL,
    resultBackend: REDIS_URL,
    defaultQueue: TS_QUEUE,
    setAsCurrent: false,
  });
  app.task({ name: 'ts.add' }, (a: number, b: number) => a + b);
  app.task({ name: 'ts.mul' }, (a: number, b: number) => a * b);
  app.task({ name: 'ts.tsum' }, (values: number[]) => values.reduce((x, y) => x + y, 0));
  app.task({ name: 'ts.fail' }, (value?: number): number => {
    throw new RangeError(`ts failed ${value ?? ''}`.trim());
  });
  await app.worker({ concurrency: 4 }).start();
  python = await startCeleryWorker({
    cwd: FIXTURES,
    app: 'celery_canvas',
    queue: PY_QUEUE,
    hostname: `py-${suffix}@%h`,
    env,
  });
});

afterAll(async () => {
  await app?.close({ timeoutMs: 2000 });
  await python?.stop();
  await deleteQueues(TS_QUEUE, PY_QUEUE);
});

/** Applies a workflow from a Python client (see fixtures/celery_canvas.py) and returns its outcome. */
async function fromPython(scenario: string): Promise<Record<string, unknown>> {
  const run = await runPython([join(FIXTURES, 'celery_canvas.py'), scenario], {
    cwd: FIXTURES,
    env,
    timeoutMs: 60_000,
  });
  if (run.status !== 0) throw new Error(`python client failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const ts = (name: string, ...args: number[]) => app.signature<number>(name, args, {}, { queue: TS_QUEUE });
const py = (name: string, ...args: number[]) => app.signature<number>(name, args, {}, { queue: PY_QUEUE });

describe('a Python client applies workflows that run on our worker', () => {
  test('chain(add.s(2, 2), mul.s(4)) of our tasks', async () => {
    await expect(fromPython('chain_on_ts')).resolves.toEqual({ value: 16 });
  });

  test('a chain that goes ours → Python → ours', async () => {
    await expect(fromPython('chain_mixed')).resolves.toEqual({ value: (1 + 2) * 10 + 5 });
  });

  test('a failing step of ours stops the chain; the Python client sees the error on the last step', async () => {
    await expect(fromPython('chain_failing')).resolves.toEqual({
      error: 'RangeError',
      message: 'ts failed 2',
      state: 'FAILURE',
    });
  });

  test('a chord whose header runs on both workers, body on ours', async () => {
    await expect(fromPython('chord_mixed')).resolves.toEqual({ value: 2 + 4 + 9 });
  });

  test('a chord whose header runs on ours, body on Python', async () => {
    await expect(fromPython('chord_py_body')).resolves.toEqual({ value: 60 });
  });

  test('a failing header task of ours fails the chord with ChordError', async () => {
    const outcome = await fromPython('chord_failing');
    expect(outcome).toMatchObject({ error: 'ChordError', state: 'FAILURE' });
    expect(outcome.message).toMatch(/^Dependency [0-9a-f-]{36} raised RangeError\('ts failed 5'\)$/);
  });
});

describe('our client applies workflows that run on a Python worker', () => {
  test('a chain of Python tasks', async () => {
    const result = await chain(py('py.add', 2, 2), py('py.mul', 4)).applyAsync();
    await expect(result.get({ timeout: 30 })).resolves.toBe(16);
  });

  test('a chain that goes Python → ours → Python', async () => {
    const result = await chain(py('py.add', 1, 2), ts('ts.mul', 10), py('py.add', 5)).applyAsync();
    await expect(result.get({ timeout: 30 })).resolves.toBe(35);
  });

  test('a chord whose header runs on both workers, body on Python', async () => {
    const result = await chord(
      [py('py.add', 1, 1), ts('ts.add', 2, 2), py('py.mul', 3, 3)],
      py('py.tsum'),
    ).applyAsync();
    await expect(result.get({ timeout: 30 })).resolves.toBe(15);
  });

  test('a chord of 130 Python tasks: header values past 127 (group_index) reach py-amqp as numbers', async () => {
    const header = Array.from({ length: 130 }, (_, i) => py('py.add', i, 0));
    const result = await chord(header, py('py.tsum')).applyAsync();
    await expect(result.get({ timeout: 60 })).resolves.toBe((129 * 130) / 2);
  });

  test('a failing Python header task fails our body with ChordError', async () => {
    const result = await chord([ts('ts.add', 1, 1), py('py.fail', 7)], ts('ts.tsum')).applyAsync();
    const error = (await result.get({ timeout: 30, propagate: false })) as unknown as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('ChordError');
    expect(error.excMessage).toContain("raised ValueError('py failed', 7)");
  });
});
