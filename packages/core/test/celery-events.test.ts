import { hostname as osHostname } from 'node:os';
import { App, TaskRevokedError, type BoundTask, type Worker } from '@queue/core';
import type { CeleryEvent } from '@queue/core/transport';
import { waitFor } from './helpers';

/**
 * Celery events over the in-memory event bus: a listener App and a worker App share one named
 * `memory://` broker, so every event crosses as JSON.
 */

let seq = 0;
const apps: App[] = [];
const stopListening: Array<() => Promise<void>> = [];
const releases: Array<() => void> = [];

afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const stop of stopListening.splice(0)) await stop();
  for (const app of apps.splice(0)) await app.close({ timeoutMs: 500 });
});

interface Setup {
  workerApp: App;
  client: App;
  events: CeleryEvent[];
}

/** A worker App, and a client App listening to every event on the same fresh named broker. */
async function setup(clientOptions: { taskSendSentEvent?: boolean } = {}): Promise<Setup> {
  seq += 1;
  const broker = `memory://ev-${process.pid}-${seq}`;
  const queue = `evq-${seq}`;
  const workerApp = new App({ name: `ev-worker-${seq}`, broker, defaultQueue: queue, setAsCurrent: false });
  const client = new App({
    name: `ev-client-${seq}`,
    broker,
    defaultQueue: queue,
    setAsCurrent: false,
    ...clientOptions,
  });
  apps.push(workerApp, client);
  const events: CeleryEvent[] = [];
  stopListening.push(await client.transport.events!.listen((event) => events.push(event)));
  workerApp.task({ name: 'ev.add' }, (a: number, b: number) => a + b);
  workerApp.task({ name: 'ev.boom' }, () => {
    throw new Error('boom');
  });
  workerApp.task({ name: 'ev.flaky', autoretryFor: [Error], maxRetries: 1, defaultRetryDelay: 0 }, () => {
    throw new Error('flaky');
  });
  workerApp.task({ name: 'ev.block', bind: true }, async (self: BoundTask) => {
    const signal = self.signal;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 4_000);
      releases.push(() => {
        clearTimeout(timer);
        resolve();
      });
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    return 'released';
  });
  return { workerApp, client, events };
}

const ofType = (events: CeleryEvent[], type: string, uuid?: string) =>
  events.filter((event) => event.type === type && (uuid === undefined || event.uuid === uuid));
const has = (events: CeleryEvent[], type: string, uuid?: string) => () =>
  ofType(events, type, uuid).length > 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const COMMON = {
  utcoffset: expect.any(Number),
  pid: process.pid,
  clock: expect.any(Number),
  timestamp: expect.any(Number),
};

describe('worker events', () => {
  it('worker-online with Celery fields, heartbeats every interval, worker-offline on stop', async () => {
    const { workerApp, events } = await setup();
    const worker = workerApp.worker({ hostname: 'ev1@test', heartbeatIntervalMs: 100 });
    const startedAt = Date.now() / 1000;
    await worker.start();
    await waitFor(has(events, 'worker-online'), 1_000);
    const online = ofType(events, 'worker-online')[0]!;
    expect(online).toEqual({
      ...COMMON,
      type: 'worker-online',
      hostname: 'ev1@test',
      freq: 0.1,
      active: 0,
      processed: 0,
      loadavg: [expect.any(Number), expect.any(Number), expect.any(Number)],
      sw_ident: expect.any(String),
      sw_ver: expect.any(String),
      sw_sys: expect.any(String),
    });
    expect(Number.isInteger(online.utcoffset)).toBe(true);
    expect(online.utcoffset).toBe(Math.floor(new Date().getTimezoneOffset() / 60));
    expect(online.timestamp as number).toBeGreaterThanOrEqual(startedAt - 1);

    await waitFor(() => ofType(events, 'worker-heartbeat').length >= 2, 1_500);
    expect(ofType(events, 'worker-heartbeat')[0]).toMatchObject({
      hostname: 'ev1@test',
      freq: 0.1,
      active: 0,
    });

    await worker.stop({ timeoutMs: 500 });
    await waitFor(has(events, 'worker-offline'), 1_000);
    expect(ofType(events, 'worker-offline')[0]).toMatchObject({ hostname: 'ev1@test', ...COMMON });
    const heartbeats = ofType(events, 'worker-heartbeat').length;
    await sleep(250);
    expect(ofType(events, 'worker-heartbeat').length).toBe(heartbeats); // no heartbeats after stop
  });

  it('heartbeatIntervalMs 0 sends no worker events; task events still follow sendTaskEvents', async () => {
    const { workerApp, client, events } = await setup();
    const worker = workerApp.worker({ hostname: 'ev0@test', heartbeatIntervalMs: 0, sendTaskEvents: true });
    await worker.start();
    const result = await client.sendTask<number>('ev.add', [1, 2]);
    expect(await result.get({ timeout: 3 })).toBe(3);
    await waitFor(has(events, 'task-succeeded'), 1_000);
    await worker.stop({ timeoutMs: 500 });
    await sleep(50);
    expect(events.filter((event) => event.type.startsWith('worker-'))).toEqual([]);
    expect(events.map((event) => event.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
  });

  it('heartbeat counts active and processed tasks', async () => {
    const { workerApp, client, events } = await setup();
    const worker = workerApp.worker({ hostname: 'evhb@test', heartbeatIntervalMs: 60_000 });
    await worker.start();
    const done = await client.sendTask('ev.add', [1, 1]);
    await done.get({ timeout: 3 });
    await waitFor(() => worker.monitor.counts['ev.add'] === 1); // settled after its result is stored
    const blocked = await client.sendTask('ev.block');
    await waitFor(() => worker.monitor.inState('STARTED').some((t) => t.id === blocked.id));
    events.length = 0;
    await client.control.broadcast('heartbeat', {}, { reply: true });
    await waitFor(has(events, 'worker-heartbeat'), 1_000);
    expect(ofType(events, 'worker-heartbeat')[0]).toMatchObject({ active: 1, processed: 2 });
  });
});

describe('task events', () => {
  async function startWorker(workerApp: App, options: Parameters<App['worker']>[0] = {}): Promise<Worker> {
    const worker = workerApp.worker({ hostname: 'evt@test', heartbeatIntervalMs: 100, ...options });
    await worker.start();
    return worker;
  }

  it('task-received, task-started, task-succeeded with Celery fields; clocks strictly increase', async () => {
    const { workerApp, client, events } = await setup();
    const worker = await startWorker(workerApp, { sendTaskEvents: true });
    const result = await client.sendTask<number>('ev.add', [2, 3], {}, { expires: 60 });
    expect(await result.get({ timeout: 3 })).toBe(5);
    await waitFor(has(events, 'task-succeeded', result.id), 1_000);

    expect(ofType(events, 'task-received', result.id)).toEqual([
      {
        ...COMMON,
        type: 'task-received',
        hostname: 'evt@test',
        uuid: result.id,
        name: 'ev.add',
        args: expect.any(String),
        kwargs: expect.any(String),
        root_id: result.id,
        parent_id: null,
        retries: 0,
        eta: null,
        expires: expect.any(String),
      },
    ]);
    const received = ofType(events, 'task-received', result.id)[0]!;
    expect(received.args).toContain('2');
    expect(Date.parse(received.expires as string)).toBeGreaterThan(Date.now());
    expect(ofType(events, 'task-started', result.id)).toEqual([
      expect.objectContaining({ ...COMMON, type: 'task-started', hostname: 'evt@test', uuid: result.id }),
    ]);
    const [succeeded] = ofType(events, 'task-succeeded', result.id);
    expect(succeeded).toMatchObject({ ...COMMON, hostname: 'evt@test', uuid: result.id, result: '5' });
    expect(typeof succeeded!.runtime).toBe('number');
    expect(succeeded!.runtime as number).toBeGreaterThanOrEqual(0);
    expect(succeeded!.runtime as number).toBeLessThan(2);

    const order = events.filter((event) => event.uuid === result.id).map((event) => event.type);
    expect(order).toEqual(['task-received', 'task-started', 'task-succeeded']);

    await worker.stop({ timeoutMs: 500 });
    await waitFor(has(events, 'worker-offline'), 1_000);
    const clocks = events
      .filter((event) => event.hostname === 'evt@test')
      .map((event) => event.clock as number);
    expect(clocks.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < clocks.length; i++) expect(clocks[i]).toBeGreaterThan(clocks[i - 1]!);
  });

  it('a failing task sends task-failed with the exception repr and a traceback', async () => {
    const { workerApp, client, events } = await setup();
    await startWorker(workerApp, { sendTaskEvents: true });
    const result = await client.sendTask('ev.boom');
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: 'Error' });
    await waitFor(has(events, 'task-failed', result.id), 1_000);
    const [failed] = ofType(events, 'task-failed', result.id);
    expect(failed).toMatchObject({ ...COMMON, hostname: 'evt@test', exception: "Error('boom')" });
    expect(typeof failed!.traceback).toBe('string');
    expect(failed!.traceback).toContain('boom');
    expect(ofType(events, 'task-succeeded', result.id)).toEqual([]);
  });

  it('a retried task sends task-retried, then (retries exhausted) task-failed', async () => {
    const { workerApp, client, events } = await setup();
    await startWorker(workerApp, { sendTaskEvents: true });
    const result = await client.sendTask('ev.flaky');
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: 'Error' });
    await waitFor(has(events, 'task-failed', result.id), 1_000);
    expect(ofType(events, 'task-retried', result.id)).toEqual([
      expect.objectContaining({
        ...COMMON,
        hostname: 'evt@test',
        uuid: result.id,
        exception: "Error('flaky')",
        traceback: expect.any(String),
      }),
    ]);
    // Two deliveries (retries 0, then 1), each received.
    expect(ofType(events, 'task-received', result.id).map((event) => event.retries)).toEqual([0, 1]);
  });

  it('a task terminated while running sends task-revoked {terminated: true, signum: 15, expired: false}', async () => {
    const { workerApp, client, events } = await setup();
    await startWorker(workerApp, { sendTaskEvents: true });
    const result = await client.sendTask('ev.block');
    await waitFor(has(events, 'task-started', result.id), 1_000);
    await client.revoke(result.id, { terminate: true });
    await expect(result.get({ timeout: 2 })).rejects.toThrow(TaskRevokedError);
    await waitFor(has(events, 'task-revoked', result.id), 1_000);
    expect(ofType(events, 'task-revoked', result.id)).toEqual([
      {
        ...COMMON,
        type: 'task-revoked',
        hostname: 'evt@test',
        uuid: result.id,
        terminated: true,
        signum: 15,
        expired: false,
      },
    ]);
  });

  it('an expired task sends task-revoked {expired: true} and no task-received', async () => {
    const { workerApp, client, events } = await setup();
    const result = await client.sendTask('ev.add', [1, 1], {}, { expires: 0.01 });
    await sleep(30); // expired before any worker sees it
    await startWorker(workerApp, { sendTaskEvents: true });
    await expect(result.get({ timeout: 3 })).rejects.toThrow(TaskRevokedError);
    await waitFor(has(events, 'task-revoked', result.id), 1_000);
    expect(ofType(events, 'task-revoked', result.id)).toEqual([
      expect.objectContaining({ uuid: result.id, terminated: false, signum: null, expired: true }),
    ]);
    expect(ofType(events, 'task-received', result.id)).toEqual([]);
  });

  it('a task revoked by id while queued sends task-revoked {expired: false, terminated: false}', async () => {
    const { workerApp, client, events } = await setup();
    const result = await client.sendTask('ev.add', [1, 1]);
    await workerApp.revoke(result.id); // the worker App's own revoke: its workers know at once
    await startWorker(workerApp, { sendTaskEvents: true });
    await expect(result.get({ timeout: 3 })).rejects.toThrow(TaskRevokedError);
    await waitFor(has(events, 'task-revoked', result.id), 1_000);
    expect(ofType(events, 'task-revoked', result.id)).toEqual([
      expect.objectContaining({ terminated: false, signum: null, expired: false }),
    ]);
  });

  it('without sendTaskEvents only worker events are sent; enable_events turns task events on', async () => {
    const { workerApp, client, events } = await setup();
    await startWorker(workerApp);
    const quiet = await client.sendTask<number>('ev.add', [1, 2]);
    expect(await quiet.get({ timeout: 3 })).toBe(3);
    await waitFor(() => ofType(events, 'worker-heartbeat').length >= 1, 1_000);
    expect(events.every((event) => event.type.startsWith('worker-'))).toBe(true);

    expect(await client.control.enableEvents({ reply: true })).toEqual({
      'evt@test': { ok: 'task events enabled' },
    });
    const loud = await client.sendTask<number>('ev.add', [3, 4]);
    expect(await loud.get({ timeout: 3 })).toBe(7);
    await waitFor(has(events, 'task-succeeded', loud.id), 1_000);
    expect(events.filter((event) => event.uuid === loud.id).map((event) => event.type)).toEqual([
      'task-received',
      'task-started',
      'task-succeeded',
    ]);

    await client.control.disableEvents();
    const quietAgain = await client.sendTask<number>('ev.add', [5, 6]);
    expect(await quietAgain.get({ timeout: 3 })).toBe(11);
    await sleep(30);
    expect(events.filter((event) => event.uuid === quietAgain.id)).toEqual([]);
  });

  it('the App option workerSendTaskEvents turns task events on by default', async () => {
    seq += 1;
    const broker = `memory://ev-${process.pid}-${seq}`;
    const workerApp = new App({
      name: `ev-opt-${seq}`,
      broker,
      defaultQueue: `evq-${seq}`,
      setAsCurrent: false,
      workerSendTaskEvents: true,
    });
    apps.push(workerApp);
    workerApp.task({ name: 'ev.one' }, () => 1);
    const events: CeleryEvent[] = [];
    stopListening.push(await workerApp.transport.events!.listen((event) => events.push(event)));
    await workerApp.worker({ hostname: 'evopt@test', heartbeatIntervalMs: 60_000 }).start();
    const result = await workerApp.sendTask('ev.one');
    await result.get({ timeout: 3 });
    await waitFor(has(events, 'task-succeeded', result.id), 1_000);
  });
});

describe('task-sent', () => {
  it('taskSendSentEvent makes sending publish task-sent with the message fields', async () => {
    const { client, events } = await setup({ taskSendSentEvent: true });
    const result = await client.sendTask(
      'ev.add',
      [1, 2],
      {},
      { queue: 'ev-elsewhere', countdown: 30, expires: 60 },
    );
    await waitFor(has(events, 'task-sent', result.id), 1_000);
    const [sent] = ofType(events, 'task-sent', result.id);
    expect(sent).toEqual({
      ...COMMON,
      type: 'task-sent',
      hostname: `gen${process.pid}@${osHostname()}`,
      uuid: result.id,
      root_id: result.id,
      parent_id: null,
      name: 'ev.add',
      args: expect.any(String),
      kwargs: expect.any(String),
      retries: 0,
      eta: expect.any(String),
      expires: expect.any(String),
      queue: 'ev-elsewhere',
      exchange: '',
      routing_key: 'ev-elsewhere',
    });
    expect(sent!.hostname).toMatch(/^gen\d+@/);
  });

  it('without taskSendSentEvent nothing is published on send', async () => {
    const { client, events } = await setup();
    await client.sendTask('ev.add', [1, 2]);
    await sleep(30);
    expect(events).toEqual([]);
  });
});
