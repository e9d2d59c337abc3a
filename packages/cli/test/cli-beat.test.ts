import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { AMQP_URL, bin, deleteQueues, fixture, run } from './helpers';
import {
  requireCelery,
  spawnProcess,
  startCeleryWorker,
  startProcess,
  type Spawned,
} from '../../../test-support/python-celery';

/**
 * `queue beat` (the built CLI) against the real RabbitMQ: two beat processes on one schedule, each run sent
 * exactly once, and a takeover when the active one is killed; a Python Celery worker runs what it sends.
 */
jest.setTimeout(90_000);

const PY_FIXTURES = join(__dirname, '..', '..', 'amqp', 'test', 'fixtures');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Arrival {
  at: number;
  id: string;
  task: string;
  origin: string;
}

/** Records every message arriving on `queue` (declared as Celery and our beat declare task queues). */
async function record(queue: string): Promise<{ arrivals: Arrival[]; close(): Promise<void> }> {
  const model: ChannelModel = await connect(AMQP_URL);
  const channel = await model.createChannel();
  await channel.assertQueue(queue, { durable: true });
  const arrivals: Arrival[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const headers = message.properties.headers as Record<string, string>;
      arrivals.push({ at: Date.now(), id: headers.id!, task: headers.task!, origin: headers.origin! });
    },
    { noAck: true },
  );
  return { arrivals, close: () => model.close() };
}

/** Waits (bounded) until `predicate` holds. */
async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(25);
  }
}

describe('queue beat on RabbitMQ', () => {
  const suffix = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), 'queue-beat-cli-'));
  const queues: string[] = [];
  const processes: Spawned[] = [];

  function startBeat(queue: string, extra: string[], env: Record<string, string> = {}): Promise<Spawned> {
    return startProcess(
      process.execPath,
      [bin, 'beat', '--app', fixture('beat-app.js'), '--lock-retry', '1', '-l', 'info', ...extra],
      {
        cwd: dir,
        env: { AMQP_URL, QUEUE: queue, BEAT_APP_NAME: `cli-beat-${suffix}-${queue}`, ...env },
        name: 'queue beat',
        ready: /beat ready\./,
      },
    ).then((spawned) => {
      processes.push(spawned);
      return spawned;
    });
  }

  afterAll(async () => {
    await Promise.all(processes.map((spawned) => spawned.stop(5000)));
    await deleteQueues(...queues);
    rmSync(dir, { recursive: true, force: true });
  });

  test('two beat processes sending each scheduled run exactly once; when the active one is killed, the other takes over', async () => {
    const queue = `test.cli-beat.${suffix}`;
    queues.push(queue);
    const recorder = await record(queue);
    try {
      const file = join(dir, 'shared-schedule.json'); // both beats on one host: one state file
      const [first, second] = await Promise.all([
        startBeat(queue, ['--schedule-file', file]),
        startBeat(queue, ['--schedule-file', file]),
      ]);
      const holding = (beat: Spawned) => /holding the lock/.test(beat.log());
      await until(() => holding(first!) || holding(second!), 10_000, 'one beat holds the lock');
      const active = holding(first!) ? first! : second!;
      const standby = active === first ? second! : first!;
      await until(() => /standing by/.test(standby.log()), 10_000, 'the other beat stands by');
      const started = Date.now();
      await sleep(5000);

      // SIGKILL: no goodbye, the broker frees the lock when the socket dies.
      const killedAt = Date.now();
      process.kill(active.child.pid!, 'SIGKILL');
      await until(() => holding(standby), 8000, 'the standby takes the lock over');
      const takeoverMs = Date.now() - killedAt;
      await until(
        () =>
          recorder.arrivals.some(
            (arrival) => arrival.at > killedAt + 100 && arrival.origin.includes(`${standby.child.pid}@`),
          ),
        8000,
        'the new holder sends',
      );
      await sleep(4000);
      await standby.stop(10_000);
      const stoppedAt = Date.now();
      expect(standby.child.exitCode).toBe(0); // SIGTERM: state saved, lock freed, exit 0
      expect(standby.stdout()).toMatch(/beat: shutting down/);
      await sleep(300); // the last confirmed publish is delivered to the recorder

      const arrivals = recorder.arrivals;
      // Sent by the active beat, then (after the kill) by the other: never by both at once.
      const byKilled = arrivals.filter((arrival) => arrival.origin.startsWith(`gen${active.child.pid}@`));
      const bySurvivor = arrivals.filter((arrival) => arrival.origin.startsWith(`gen${standby.child.pid}@`));
      expect(byKilled.length + bySurvivor.length).toBe(arrivals.length);
      expect(byKilled.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...byKilled.map((arrival) => arrival.at))).toBeLessThan(killedAt + 50);
      expect(Math.min(...bySurvivor.map((arrival) => arrival.at))).toBeGreaterThan(killedAt);
      // Each 1 s run once: no two messages for one run (they would come close together), no id twice.
      const gaps = arrivals.slice(1).map((arrival, i) => arrival.at - arrivals[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThan(800);
      expect(new Set(arrivals.map((arrival) => arrival.id)).size).toBe(arrivals.length);
      // About one per second of sending: everything but the takeover pause.
      const sendingSeconds = (stoppedAt - started - takeoverMs) / 1000;
      expect(arrivals.length).toBeGreaterThanOrEqual(Math.floor(sendingSeconds) - 2);
      expect(arrivals.length).toBeLessThanOrEqual(Math.ceil((stoppedAt - started) / 1000) + 2);
      expect(takeoverMs).toBeLessThan(5000); // lock retry 1 s (the broker frees it at once)
      expect(arrivals.every((arrival) => arrival.task === 'beat.tick')).toBe(true);

      // The state the last holder saved: this entry's count and last run.
      const state = JSON.parse(readFileSync(file, 'utf8'));
      expect(state.entries.tick).toMatchObject({ task: 'beat.tick', schedule: 'every 1s' });
      expect(state.entries.tick.totalRunCount).toBeGreaterThanOrEqual(arrivals.length);
    } finally {
      await recorder.close();
    }
  });

  test('a Python Celery worker runs what the beat sends', async () => {
    requireCelery();
    const queue = `test.cli-beat-py.${suffix}`;
    queues.push(queue);
    const worker = await startCeleryWorker({
      cwd: PY_FIXTURES,
      app: 'celery_app',
      queue,
      hostname: `py-beat-${suffix}@test`,
      env: { AMQP_URL },
    });
    processes.push(worker);
    const beat = await startBeat(queue, ['--schedule-file', join(dir, 'py-schedule.json')], {
      BEAT_TASK: 'py.add',
      BEAT_ARGS: '[20, 22]',
    });
    await until(
      () => (worker.log().match(/Task py\.add\[[0-9a-f-]+\] succeeded in [\d.e-]+s: 42/g) ?? []).length >= 2,
      15_000,
      'the Python worker ran two periodic py.add',
    );
    await beat.stop(10_000);
    expect(beat.child.exitCode).toBe(0);
    await worker.stop();
  });

  test('failures: one line on stderr and a non-zero exit', async () => {
    const unreachable = await run(
      [
        'beat',
        '--app',
        fixture('beat-app.js'),
        '--broker',
        'amqp://guest:guest@127.0.0.1:1//',
        '-s',
        join(dir, 'x.json'),
      ],
      { CONNECT_TIMEOUT_MS: '300', QUEUE: 'unused' },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^error: BrokerUnavailableError: could not connect to amqp:\/\/guest:\*\*\*\*@127\.0\.0\.1:1/,
    );
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);

    const noFolder = await run(
      ['beat', '--app', fixture('beat-app.js'), '-s', join(dir, 'missing', 'beat.json')],
      {
        AMQP_URL,
        QUEUE: 'unused',
      },
    );
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toMatch(
      /^error: ConfigurationError: the beat schedule file .* cannot be written/,
    );

    const badFlag = await run(['beat', '--app', fixture('beat-app.js'), '--max-interval', '0']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--max-interval.*must be a number > 0/);
  });

  test('a standby beat stops cleanly on SIGTERM (exit 0) while the active one goes on', async () => {
    const queue = `test.cli-beat-standby.${suffix}`;
    queues.push(queue);
    const file = join(dir, 'standby-schedule.json');
    const active = await startBeat(queue, ['--schedule-file', file]);
    await until(() => /holding the lock/.test(active.log()), 10_000, 'the first beat holds the lock');
    const standby = spawnProcess(
      process.execPath,
      [
        bin,
        'beat',
        '--app',
        fixture('beat-app.js'),
        '--lock-retry',
        '1',
        '-l',
        'info',
        '--schedule-file',
        file,
      ],
      { cwd: dir, env: { AMQP_URL, QUEUE: queue, BEAT_APP_NAME: `cli-beat-${suffix}-${queue}` } },
    );
    processes.push(standby);
    await until(() => /standing by/.test(standby.log()), 10_000, 'the second beat stands by');
    await standby.stop(10_000);
    expect(await standby.closed).toBe(0);
    expect(/holding the lock/.test(standby.log())).toBe(false);
    await sleep(1500);
    expect(active.child.exitCode).toBeNull();
    await active.stop(10_000);
    expect(active.child.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).entries.tick.totalRunCount).toBeGreaterThanOrEqual(1);
  });
});
