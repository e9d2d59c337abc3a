import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Beat, crontab, LockLostError, type BeatRun, type BeatScheduleEntry } from '@queue/core';
import { whileHolding, type WireMessage } from '@queue/core/transport';
import { MemoryTransport } from '@queue/core/testing';
import { waitFor } from './helpers';

/** The beat on the in-memory broker: due entries, the state file, the lock. */

let counter = 0;
const dir = mkdtempSync(join(tmpdir(), 'queue-beat-'));
const apps: App[] = [];
const beats: Beat[] = [];

afterEach(async () => {
  await Promise.all(beats.splice(0).map((beat) => beat.stop()));
  await Promise.all(apps.splice(0).map((app) => app.close({ timeoutMs: 100 })));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An App on `memory://<broker>` (Apps with the same broker name share queues and locks). */
function appOn(broker: string, beatSchedule: Record<string, BeatScheduleEntry>, timezone?: string): App {
  const app = new App({
    name: 'beat-test',
    broker: `memory://${broker}`,
    setAsCurrent: false,
    beatSchedule,
    timezone,
  });
  apps.push(app);
  return app;
}

function beatOf(app: App, options: ConstructorParameters<typeof Beat>[1] = {}): Beat {
  const beat = new Beat(app, options);
  beats.push(beat);
  return beat;
}

function unique(): { broker: string; queue: string; file: string } {
  counter += 1;
  return {
    broker: `beat-${process.pid}-${counter}`,
    queue: `beat-q-${counter}`,
    file: join(dir, `state-${counter}.json`),
  };
}

function messages(app: App, queue: string): WireMessage[] {
  return [...(app.transport as MemoryTransport).broker.messages(queue)];
}

function runsOf(beat: Beat): BeatRun[] {
  const runs: BeatRun[] = [];
  beat.on('sent', (run) => runs.push(run));
  return runs;
}

const T0 = Date.parse('2026-03-02T10:00:00.000Z');

describe('sending due entries (explicit clock)', () => {
  test('an interval entry is first sent one interval after start, as an ordinary task message', async () => {
    const { broker, queue, file } = unique();
    const app = appOn(broker, {
      tick: { task: 'elsewhere.tick', schedule: 10, args: [1, 'a'], kwargs: { k: true }, options: { queue } },
    });
    const beat = beatOf(app, { scheduleFile: file });
    const runs = runsOf(beat);
    expect(await beat.tick(T0)).toBe(10_000); // takes the lock, records the start: nothing due yet
    expect(await beat.tick(T0 + 9_999)).toBe(1);
    expect(messages(app, queue)).toHaveLength(0);
    expect(await beat.tick(T0 + 10_000)).toBe(10_000);
    const sent = messages(app, queue);
    expect(sent).toHaveLength(1);
    // A task nobody registered in this process: sent by name (as Celery's beat uses send_task).
    expect(sent[0]!.headers).toMatchObject({ task: 'elsewhere.tick', id: expect.any(String) });
    expect(JSON.parse(sent[0]!.body.toString())).toEqual([[1, 'a'], { k: true }, expect.any(Object)]);
    expect(runs).toEqual([
      {
        entry: 'tick',
        task: 'elsewhere.tick',
        taskId: sent[0]!.headers.id,
        at: T0 + 10_000,
        totalRunCount: 1,
      },
    ]);
  });

  test('an entry overdue after downtime is sent once, not once per missed run', async () => {
    const { broker, queue } = unique();
    const app = appOn(broker, { tick: { task: 't', schedule: 10, options: { queue } } });
    const beat = beatOf(app, { scheduleFile: null });
    await beat.tick(T0);
    expect(await beat.tick(T0 + 3_600_000)).toBe(10_000); // 360 intervals later
    expect(messages(app, queue)).toHaveLength(1);
    await beat.tick(T0 + 3_600_001);
    expect(messages(app, queue)).toHaveLength(1);
    await beat.tick(T0 + 3_610_000);
    expect(messages(app, queue)).toHaveLength(2);
  });

  test('several entries: each at its own time; the sleep is bounded by maxInterval', async () => {
    const { broker, queue } = unique();
    const app = appOn(broker, {
      fast: { task: 'fast', schedule: 2, options: { queue } },
      slow: { task: 'slow', schedule: 3, options: { queue } },
      hourly: { task: 'hourly', schedule: crontab({ minute: 0 }), options: { queue } },
    });
    const beat = beatOf(app, { scheduleFile: null, maxInterval: 1 });
    expect(await beat.tick(T0)).toBe(1000);
    for (let s = 1; s <= 6; s++) await beat.tick(T0 + s * 1000);
    const names = messages(app, queue).map((message) => message.headers.task);
    expect(names).toEqual(['fast', 'slow', 'fast', 'fast', 'slow']); // at 2, 3, 4, 6, 6 s
    await beat.tick(Date.parse('2026-03-02T11:00:00.000Z'));
    expect(messages(app, queue).map((message) => message.headers.task)).toContain('hourly');
  });

  test('crontab entries follow the App’s timezone', async () => {
    const { broker, queue } = unique();
    const app = appOn(
      broker,
      { nine: { task: 'nine', schedule: crontab('0 9 * * *'), options: { queue } } },
      'Asia/Tokyo',
    );
    const beat = beatOf(app, { scheduleFile: null });
    await beat.tick(Date.parse('2026-03-01T23:00:00Z')); // 08:00 in Tokyo
    await beat.tick(Date.parse('2026-03-01T23:59:59Z'));
    expect(messages(app, queue)).toHaveLength(0);
    await beat.tick(Date.parse('2026-03-02T00:00:00Z')); // 09:00 in Tokyo
    expect(messages(app, queue)).toHaveLength(1);
  });

  test('a failed send is logged and reported, and the entry waits for its next time', async () => {
    const { broker, queue } = unique();
    const app = appOn(broker, { bad: { task: 'bad', schedule: 1, options: { queue } } });
    const beat = beatOf(app, { scheduleFile: null });
    const failures: string[] = [];
    beat.on('send-failed', (entry, _task, error) => failures.push(`${entry}: ${error.message}`));
    jest.spyOn(app, 'sendTask').mockRejectedValueOnce(new Error('broker says no'));
    await beat.tick(T0);
    await beat.tick(T0 + 1000);
    expect(failures).toEqual(['bad: broker says no']);
    await beat.tick(T0 + 1500);
    expect(messages(app, queue)).toHaveLength(0); // not retried before its next time
    await beat.tick(T0 + 2000);
    expect(messages(app, queue)).toHaveLength(1);
  });
});

describe('state across restarts', () => {
  const schedule = (queue: string, seconds = 60): Record<string, BeatScheduleEntry> => ({
    minutely: { task: 'minutely', schedule: seconds, options: { queue } },
  });

  test('the file keeps lastRunAt and totalRunCount, written atomically', async () => {
    const { broker, queue, file } = unique();
    const beat = beatOf(appOn(broker, schedule(queue)), { scheduleFile: file });
    await beat.tick(T0);
    await beat.tick(T0 + 60_000);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toEqual({
      version: 1,
      timezone: 'UTC',
      entries: {
        minutely: {
          task: 'minutely',
          schedule: 'every 60s',
          lastRunAt: new Date(T0 + 60_000).toISOString(),
          totalRunCount: 1,
        },
      },
    });
  });

  test('a new beat reading the file does not resend a recent run; an overdue entry fires once', async () => {
    const { broker, queue, file } = unique();
    const first = beatOf(appOn(broker, schedule(queue)), { scheduleFile: file });
    await first.tick(T0);
    await first.tick(T0 + 60_000); // run 1
    await first.stop();

    const app = appOn(broker, schedule(queue));
    const second = beatOf(app, { scheduleFile: file });
    // restarted 30 s after the last run: the next run is still 30 s away, not 60 s from the restart
    expect(await second.tick(T0 + 90_000)).toBe(30_000);
    expect(messages(app, queue)).toHaveLength(1);
    await second.tick(T0 + 120_000);
    expect(messages(app, queue)).toHaveLength(2);
    await second.stop();

    const third = beatOf(appOn(broker, schedule(queue)), { scheduleFile: file });
    await third.tick(T0 + 120_000 + 10 * 60_000); // down for ten runs
    expect(messages(app, queue)).toHaveLength(3);
    expect(third.status()).toEqual([
      expect.objectContaining({
        name: 'minutely',
        totalRunCount: 3,
        lastRunAt: T0 + 720_000,
        nextRunAt: T0 + 780_000,
      }),
    ]);
  });

  test('an entry whose schedule changed starts afresh; removed entries leave the file', async () => {
    const { broker, queue, file } = unique();
    const first = beatOf(
      appOn(broker, { ...schedule(queue), gone: { task: 'gone', schedule: 5, options: { queue } } }),
      { scheduleFile: file },
    );
    await first.tick(T0);
    await first.tick(T0 + 60_000);
    await first.stop();
    const app = appOn(broker, schedule(queue, 600)); // every 10 minutes now
    const second = beatOf(app, { scheduleFile: file });
    await second.tick(T0 + 700_000); // long after the old run: but a changed entry counts from now
    expect(messages(app, queue).filter((m) => m.headers.task === 'minutely')).toHaveLength(1);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries)).toEqual(['minutely']);
    expect(second.status()[0]).toMatchObject({
      schedule: 'every 600s',
      totalRunCount: 0,
      lastRunAt: T0 + 700_000,
    });
  });

  test('a damaged file is ignored (and replaced), not fatal', async () => {
    const { broker, queue, file } = unique();
    writeFileSync(file, '{ not json');
    const beat = beatOf(appOn(broker, schedule(queue)), { scheduleFile: file });
    await beat.tick(T0);
    expect(JSON.parse(readFileSync(file, 'utf8')).entries.minutely.lastRunAt).toBe(
      new Date(T0).toISOString(),
    );
  });

  test('start() refuses a schedule file in a folder that does not exist', async () => {
    const { broker, queue } = unique();
    const beat = new Beat(appOn(broker, schedule(queue)), {
      scheduleFile: join(dir, 'no', 'such', 'beat.json'),
    });
    await expect(beat.start()).rejects.toThrow(/cannot be written: its folder is missing/);
  });
});

describe('one active beat at a time (the lock)', () => {
  test('two beats on one broker: one takes the lock and sends, the other stands by', async () => {
    const { broker, queue } = unique();
    const entries = { tick: { task: 'tick', schedule: 1, options: { queue } } };
    const a = beatOf(appOn(broker, entries), { scheduleFile: null });
    const b = beatOf(appOn(broker, entries), { scheduleFile: null });
    expect(await a.tick(T0)).toBe(1000);
    expect(await b.tick(T0)).toBe(b.lockRetryMs); // refused: someone holds it
    for (let s = 1; s <= 5; s++) {
      await a.tick(T0 + s * 1000);
      await b.tick(T0 + s * 1000);
    }
    expect(messages(a.app as App, queue)).toHaveLength(5);
    expect([a.isActive, b.isActive]).toEqual([true, false]);
  });

  test('when the holder loses the lock it sends nothing; the other takes over and sends each run once', async () => {
    const { broker, queue, file } = unique();
    const entries = { tick: { task: 'tick', schedule: 1, options: { queue } } };
    const appA = appOn(broker, entries);
    const a = beatOf(appA, { scheduleFile: file });
    const b = beatOf(appOn(broker, entries), { scheduleFile: file });
    const lost: string[] = [];
    a.on('lock-lost', (name, reason) => lost.push(`${name}: ${reason}`));
    await a.tick(T0);
    await b.tick(T0);
    await a.tick(T0 + 1000); // run 1 by a
    // a's connection "drops": the broker frees the lock
    expect((appA.transport as MemoryTransport).broker.locks.break(a.lockName)).toBe(true);
    expect(lost).toEqual(['beat-test.beat.lock: connection lost']);
    await b.tick(T0 + 1500); // b takes it over and reads the state a wrote: run 1 is recent
    expect(b.isActive).toBe(true);
    expect(await a.tick(T0 + 2000)).toBe(a.lockRetryMs); // a cannot take it back while b holds it
    await b.tick(T0 + 2000); // run 2, by b: one second after run 1, no run sent twice
    const sent = messages(appA, queue);
    expect(sent).toHaveLength(2);
  });

  test('a publish fenced by a lock that is gone fails with LockLostError', async () => {
    const { broker, queue } = unique();
    const app = appOn(broker, {});
    const lock = (await app.transport.locks!.tryAcquire('fence-test'))!;
    await whileHolding(lock, () => app.sendTask('t', [], {}, { queue }));
    (app.transport as MemoryTransport).broker.locks.break('fence-test');
    await expect(whileHolding(lock, () => app.sendTask('t', [], {}, { queue }))).rejects.toThrow(
      LockLostError,
    );
    expect(messages(app, queue)).toHaveLength(1);
    await app.sendTask('t', [], {}, { queue }); // outside the fence: unaffected
    expect(messages(app, queue)).toHaveLength(2);
  });

  test('stop() frees the lock at once for the other beat', async () => {
    const { broker, queue } = unique();
    const entries = { tick: { task: 'tick', schedule: 1, options: { queue } } };
    const appA = appOn(broker, entries);
    const a = beatOf(appA, { scheduleFile: null });
    const b = beatOf(appOn(broker, entries), { scheduleFile: null });
    await a.tick(T0);
    expect(await b.tick(T0)).toBe(b.lockRetryMs);
    await a.stop();
    expect((appA.transport as MemoryTransport).broker.locks.isHeld(a.lockName)).toBe(false);
    expect(await b.tick(T0 + 10)).toBe(1000);
    expect(b.isActive).toBe(true);
  });
});

describe('running on real time (short, bounded)', () => {
  test('two started beats on one broker send each 100 ms run exactly once', async () => {
    const { broker, queue, file } = unique();
    const entries = { fast: { task: 'fast', schedule: 0.1, options: { queue } } };
    const appA = appOn(broker, entries);
    const a = beatOf(appA, { scheduleFile: file, lockRetryInterval: 0.05 });
    const b = beatOf(appOn(broker, entries), { scheduleFile: file, lockRetryInterval: 0.05 });
    const runs = [...[a, b].map(runsOf)];
    const acquired: string[] = [];
    a.on('lock-acquired', () => acquired.push('a'));
    b.on('lock-acquired', () => acquired.push('b'));
    const started = Date.now();
    await Promise.all([a.start(), b.start()]);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    const holder = acquired[0] === 'a' ? a : b;
    const standby = holder === a ? b : a;
    // The holder goes; the standby takes over within its retry interval and goes on.
    const before = messages(appA, queue).length;
    await holder.stop();
    await waitFor(() => standby.isActive, 2000);
    await waitFor(() => messages(appA, queue).length >= before + 5, 2000);
    await standby.stop();
    const elapsed = Date.now() - started;
    const sent = messages(appA, queue);
    expect(acquired).toHaveLength(2);
    // Each 100 ms run once: about elapsed / 100 messages, never two for one run (≥ 100 ms apart, across
    // the takeover too: the standby read the holder's last run from the shared file).
    expect(sent.length).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 1);
    expect(sent.length).toBeGreaterThanOrEqual(Math.floor(elapsed / 200)); // late timers on a busy machine
    const times = runs
      .flat()
      .map((run) => run.at)
      .sort((x, y) => x - y);
    expect(times).toHaveLength(sent.length);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(new Set(sent.map((m) => m.headers.id)).size).toBe(sent.length);
  });
});
