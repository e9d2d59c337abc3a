import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { App, Worker } from '@queue/core';
import { AMQP_URL, amqpApp, BrokerAdmin, uniqueQueue, waitFor } from './helpers';
import {
  requireCelery,
  runPython,
  startCeleryWorker,
  type Finished,
  type Spawned,
} from '../../../test-support/python-celery';

/**
 * Rate limits between our worker and Debian's Celery 5.2 on the real RabbitMQ (PROTOCOL-2 §2.5, §6):
 * Celery's CLI `control rate_limit` changes the rate of a task on our worker and gets Celery's replies,
 * `inspect registered` shows the rate as Celery does, and a Python worker given the same commands answers
 * the same. Every command names its worker (`-d`): other test files share the broker.
 */
const FIXTURES = join(__dirname, 'fixtures');
requireCelery();

jest.setTimeout(60_000);

const suffix = randomUUID().slice(0, 8);
const OUR_HOST = `ts-rl-${suffix}@test`;
const PY_HOST = `py-rl-${suffix}@test`;

/** `python3 -m celery -b <broker> <args>`: Celery's own CLI (killed after 20 s). */
function celery(...args: string[]): Promise<Finished> {
  return runPython(['-m', 'celery', '-b', AMQP_URL, ...args], {
    cwd: FIXTURES,
    env: { AMQP_URL },
    timeoutMs: 20_000,
  });
}

/** The JSON a command printed (`--json` output is one line), or a failure showing what it printed. */
function jsonOf<T>(run: Finished): T {
  if (run.status !== 0) throw new Error(`exit ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** `celery control rate_limit <task> <rate> -d <host> --json`: the one worker's reply. */
async function rateLimitBy(host: string, task: string, rate: string): Promise<unknown> {
  const run = await celery('control', 'rate_limit', task, rate, '-d', host, '--json', '-t', '5');
  // `control --json` prints the list of replies, one `{hostname: reply}` each.
  const replies = jsonOf<Array<Record<string, unknown>>>(run);
  expect(replies).toEqual([{ [host]: expect.anything() }]);
  return replies[0]![host];
}

async function registeredOn(host: string): Promise<string[]> {
  const run = await celery('inspect', 'registered', '-d', host, '--json', '-t', '5');
  return jsonOf<Record<string, string[]>>(run)[host] ?? [];
}

describe('rate limits with Celery 5.2’s remote control', () => {
  const ourQueue = uniqueQueue('rl-ours');
  const pyQueue = uniqueQueue('rl-py');
  let app: App;
  let worker: Worker;
  let admin: BrokerAdmin;
  let python: Spawned | undefined;
  /** Runs of it.rl.limited, in order. */
  const ran: number[] = [];

  const waiting = () => worker.monitor.inState('RECEIVED').length;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(ourQueue);
    app.task({ name: 'it.rl.limited', rateLimit: '1/m' }, (n: number) => {
      ran.push(n);
      return n;
    });
    app.task({ name: 'it.rl.other' }, (n: number) => n);
    worker = app.worker({ hostname: OUR_HOST, queues: [ourQueue], concurrency: 4 });
    [python] = await Promise.all([
      startCeleryWorker({
        cwd: FIXTURES,
        app: 'celery_control_app',
        queue: pyQueue,
        hostname: PY_HOST,
        env: { AMQP_URL },
      }),
      worker.start(),
    ]);
  });

  afterAll(async () => {
    await python?.stop();
    await app?.close({ timeoutMs: 2000 });
    await admin?.cleanup(ourQueue, pyQueue);
    await admin?.close();
  });

  test('Celery’s CLI `control rate_limit` changes the rate on our worker, with Celery’s ok replies', async () => {
    expect(await registeredOn(OUR_HOST)).toEqual(
      expect.arrayContaining(['it.rl.limited [rate_limit=1/m]', 'it.rl.other']),
    );

    // 1/m: the first runs, the next two wait in our worker (reserved, unacked).
    const first = await Promise.all([0, 1, 2].map((n) => app.sendTask<number>('it.rl.limited', [n])));
    await expect(first[0]!.get({ timeout: 10 })).resolves.toBe(0);
    await waitFor(() => waiting() === 2, 10_000);
    const reserved = jsonOf<Record<string, Array<{ id: string }>>>(
      await celery('inspect', 'reserved', '-d', OUR_HOST, '--json', '-t', '5'),
    );
    expect(reserved[OUR_HOST]!.map((info) => info.id).sort()).toEqual([first[1]!.id, first[2]!.id].sort());
    expect(ran).toEqual([0]);

    // Raised by Celery's CLI: the waiting ones run now, not a minute later.
    expect(await rateLimitBy(OUR_HOST, 'it.rl.limited', '50/s')).toEqual({
      ok: 'new rate limit set successfully',
    });
    await expect(Promise.all(first.map((result) => result.get({ timeout: 10 })))).resolves.toEqual([0, 1, 2]);
    expect(ran).toEqual([0, 1, 2]);
    expect(await registeredOn(OUR_HOST)).toContain('it.rl.limited [rate_limit=50/s]');

    // Back to 1/m, then off with "0" (a CLI argument is a string: Celery says "set", and limits nothing).
    expect(await rateLimitBy(OUR_HOST, 'it.rl.limited', '1/m')).toEqual({
      ok: 'new rate limit set successfully',
    });
    const second = await Promise.all([3, 4].map((n) => app.sendTask<number>('it.rl.limited', [n])));
    await expect(second[0]!.get({ timeout: 10 })).resolves.toBe(3);
    await waitFor(() => waiting() === 1, 10_000);
    expect(await rateLimitBy(OUR_HOST, 'it.rl.limited', '0')).toEqual({
      ok: 'new rate limit set successfully',
    });
    await expect(second[1]!.get({ timeout: 10 })).resolves.toBe(4);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
  });

  test('our worker answers `rate_limit` as a Python worker does: set, off, bad unit, bad amount, unknown task', async () => {
    const cases: Array<[ours: string, theirs: string, rate: string]> = [
      ['it.rl.other', 'pyctl.add', '10/m'],
      ['it.rl.other', 'pyctl.add', 'x/y'],
      ['it.rl.other', 'pyctl.add', 'abc/m'],
      ['it.rl.other', 'pyctl.add', '0'],
      ['it.rl.no.such', 'pyctl.no.such', '5/s'],
    ];
    for (const [ours, theirs, rate] of cases) {
      const [ourReply, theirReply] = await Promise.all([
        rateLimitBy(OUR_HOST, ours, rate),
        rateLimitBy(PY_HOST, theirs, rate),
      ]);
      expect({ rate, reply: ourReply }).toEqual({ rate, reply: theirReply });
    }
    // What each case answered, spelled out (so that a change on both sides is still caught).
    expect(await rateLimitBy(OUR_HOST, 'it.rl.other', 'x/y')).toEqual({ error: "KeyError('y')" });
    expect(await rateLimitBy(OUR_HOST, 'it.rl.no.such', '5/s')).toEqual({ error: 'unknown task' });
    const registered = await Promise.all([registeredOn(OUR_HOST), registeredOn(PY_HOST)]);
    expect(registered[0]).toContain('it.rl.other [rate_limit=0]');
    expect(registered[1]).toContain('pyctl.add [rate_limit=0]');
  });

  test('a Python client’s `app.control.rate_limit(..., None)` disables the limit on our worker', async () => {
    const script = [
      'import json, os, sys',
      'from celery import Celery',
      "app = Celery('rl-client', broker=os.environ['AMQP_URL'])",
      'print(json.dumps(app.control.rate_limit(sys.argv[1], None, destination=[sys.argv[2]], reply=True, timeout=5)))',
    ].join('\n');
    const run = await runPython(['-c', script, 'it.rl.limited', OUR_HOST], {
      cwd: FIXTURES,
      env: { AMQP_URL },
      timeoutMs: 20_000,
    });
    expect(jsonOf(run)).toEqual([{ [OUR_HOST]: { ok: 'rate limit disabled successfully' } }]);
    const registered = await registeredOn(OUR_HOST);
    expect(registered).toContain('it.rl.limited'); // no attribute left to show
    expect(registered.filter((line) => line.startsWith('it.rl.limited '))).toEqual([]);
    const burst = await Promise.all([5, 6, 7].map((n) => app.sendTask<number>('it.rl.limited', [n])));
    await expect(Promise.all(burst.map((result) => result.get({ timeout: 10 })))).resolves.toEqual([5, 6, 7]);
  });
});
