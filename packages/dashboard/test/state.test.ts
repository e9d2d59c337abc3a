import type { CeleryEvent } from '@queue/core';
import { ManagementApi, isInternalQueue, vhostOf } from '../src/feeds/management-api';
import { percentOf } from '../src/feeds/progress-follower';
import { checkAuth, compileDashboardOptions, parseBasicAuth } from '../src/options';
import { authorized, csrfProblem, hostnameOf } from '../src/server/auth';
import { QueueStore } from '../src/state/queue-store';
import { TaskStore } from '../src/state/task-store';
import { Throughput } from '../src/state/throughput';
import { WorkerStore } from '../src/state/worker-store';
import { DashboardOptionsError } from '../src/errors';

/** The pure parts of the dashboard: how events become tasks and workers, and the bounded histories. */

function taskEvent(type: string, uuid: string, fields: Record<string, unknown> = {}): CeleryEvent {
  return { type, uuid, hostname: 'w1@host', timestamp: 1000, clock: 1, ...fields } as CeleryEvent;
}

describe('TaskStore', () => {
  it('follows a task through its events, keeping what each event says', () => {
    const store = new TaskStore(10, () => undefined);
    store.apply(
      taskEvent('task-sent', 't1', { hostname: 'gen1@client', name: 'add', args: '(2, 3)', queue: 'q1' }),
      1,
    );
    store.apply(
      taskEvent('task-received', 't1', { name: 'add', args: '(2, 3)', kwargs: '{}', timestamp: 1001 }),
      2,
    );
    store.apply(taskEvent('task-started', 't1', { timestamp: 1002 }), 3);
    store.apply(taskEvent('task-succeeded', 't1', { result: '5', runtime: 0.5, timestamp: 1003 }), 4);
    const detail = store.get('t1')!.detail();
    expect(detail).toMatchObject({
      name: 'add',
      state: 'SUCCESS',
      worker: 'w1@host', // task-sent's client hostname is not a worker
      queue: 'q1',
      args: '(2, 3)',
      kwargs: '{}',
      result: '5',
      runtime: 0.5,
      received: 1001,
      started: 1002,
      finished: 1003,
    });
    expect(detail.history.map((step) => step.state)).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);
  });

  it('does not let a late, logically earlier event undo a later state (Celery precedence)', () => {
    const store = new TaskStore(10, () => undefined);
    store.apply(taskEvent('task-succeeded', 't1', { result: '1', timestamp: 1003 }), 1);
    store.apply(taskEvent('task-started', 't1', { timestamp: 1002 }), 2);
    store.apply(taskEvent('task-received', 't1', { name: 'late', args: '()', timestamp: 1001 }), 3);
    const record = store.get('t1')!;
    expect(record.state).toBe('SUCCESS');
    expect(record.name).toBe('late'); // fields of the late event still fill in
    // The page shows the steps by time, not by arrival.
    expect(record.detail().history.map((step) => step.state)).toEqual(['RECEIVED', 'STARTED', 'SUCCESS']);
  });

  it('lets RETRY replace and be replaced whatever the order, as Celery does', () => {
    const store = new TaskStore(10, () => undefined);
    store.apply(taskEvent('task-received', 't1', { retries: 1 }), 1);
    store.apply(taskEvent('task-retried', 't1', { exception: "ValueError('x')" }), 2);
    expect(store.get('t1')!.state).toBe('RETRY');
    store.apply(taskEvent('task-started', 't1'), 3);
    expect(store.get('t1')!.state).toBe('STARTED');
    expect(store.get('t1')!.retries).toBe(1);
  });

  it('keeps at most `capacity` tasks, dropping the least recently updated and saying so', () => {
    const evicted: string[] = [];
    const store = new TaskStore(3, (record) => evicted.push(record.id));
    ['a', 'b', 'c'].forEach((id, index) => store.apply(taskEvent('task-received', id), index));
    store.apply(taskEvent('task-started', 'a'), 5); // a is fresh again
    store.apply(taskEvent('task-received', 'd'), 6);
    expect(evicted).toEqual(['b']);
    expect(store.size).toBe(3);
    expect(store.all().map((record) => record.id)).toEqual(['a', 'c', 'd']);
  });

  it('cuts huge reprs and refuses unusable ids', () => {
    const store = new TaskStore(10, () => undefined);
    store.apply(taskEvent('task-received', 't1', { args: 'x'.repeat(100_000) }), 1);
    const record = store.get('t1')!;
    expect(record.args!.length).toBeLessThanOrEqual(2048);
    expect(record.summary().args.length).toBeLessThanOrEqual(120);
    expect(store.apply(taskEvent('task-received', ''), 1)).toBeUndefined();
    expect(store.apply(taskEvent('task-received', 'a\u0000b'), 1)).toBeUndefined();
    expect(store.apply({ type: 'task-received', uuid: 42 } as unknown as CeleryEvent, 1)).toBeUndefined();
  });
});

describe('WorkerStore', () => {
  const heartbeat = (hostname: string, fields: Record<string, unknown> = {}): CeleryEvent =>
    ({
      type: 'worker-heartbeat',
      hostname,
      freq: 2,
      active: 1,
      processed: 7,
      sw_ident: 'py-celery',
      sw_ver: '5.2.6',
      loadavg: [0.5, 0.4, 0.3],
      ...fields,
    }) as CeleryEvent;

  it('is online while heartbeats are fresh (twice their interval), offline after', () => {
    const store = new WorkerStore(10);
    store.applyEvent(heartbeat('w1@h'), 100);
    expect(store.views(103)[0]).toMatchObject({
      online: true,
      swIdent: 'py-celery',
      active: 1,
      processed: 7,
    });
    expect(store.views(104.1)[0]!.online).toBe(false);
  });

  it('goes offline at once on worker-offline, and a reply collected later does not bring it back', () => {
    const store = new WorkerStore(10);
    store.applyEvent(heartbeat('w1@h'), 100);
    store.applyEvent({ ...heartbeat('w1@h'), type: 'worker-offline' }, 101);
    store.applyStats('w1@h', { pid: 5 }, 100.5); // asked before the offline event
    expect(store.views(101.5)[0]!.online).toBe(false);
    store.applyStats('w1@h', { pid: 6 }, 102); // asked after: it is back
    expect(store.views(102.5)[0]).toMatchObject({ online: true, pid: 6 });
  });

  it('keeps a worker without heartbeats online while it answers inspections', () => {
    const store = new WorkerStore(10);
    store.applyStats(
      'ts@h',
      {
        pid: 9,
        prefetch_count: 40,
        uptime: 12,
        pool: { 'max-concurrency': 10, implementation: 'async' },
        total: { add: 3 },
        sw_ident: 'queue-ts',
      },
      100,
    );
    store.applyActiveQueues('ts@h', [{ name: 'celery' }, { name: 'q2' }], 100);
    store.applyRegistered('ts@h', ['add', 'mul [rate_limit=10/m]'], 100);
    expect(store.views(105)[0]).toMatchObject({
      online: true,
      pool: 'async',
      concurrency: 10,
      prefetch: 40,
      totals: { add: 3 },
      queues: ['celery', 'q2'],
      registered: ['add', 'mul [rate_limit=10/m]'],
      swIdent: 'queue-ts',
    });
    expect(store.consumersByQueue(105).get('q2')).toBe(1);
    expect(store.views(111)[0]!.online).toBe(false);
  });

  it("reads Celery's pools: named by implementation, or prefork by its pipe stats (grown past its limit)", () => {
    const store = new WorkerStore(10);
    store.applyStats(
      'solo@h',
      { pool: { implementation: 'celery.concurrency.solo:TaskPool', 'max-concurrency': 1 } },
      1,
    );
    store.applyStats(
      'pre@h',
      { pool: { 'max-concurrency': 1, processes: [11, 12], writes: { total: 0 } } },
      1,
    );
    expect(store.views(2)).toMatchObject([
      { hostname: 'pre@h', pool: 'prefork', concurrency: 2 },
      { hostname: 'solo@h', pool: 'solo', concurrency: 1 },
    ]);
  });
});

describe('Throughput', () => {
  it('counts per second over the window, forgetting what falls out of it', () => {
    const throughput = new Throughput(5, 100);
    throughput.add('succeeded', 100.2);
    throughput.add('succeeded', 100.9);
    throughput.add('failed', 101.5);
    throughput.add('succeeded', 103.1);
    expect(throughput.series(104.5)).toEqual({
      end: 104,
      succeeded: [0, 2, 0, 0, 1],
      failed: [0, 0, 1, 0, 0],
    });
    expect(throughput.series(108.1)).toEqual({
      end: 108,
      succeeded: [1, 0, 0, 0, 0],
      failed: [0, 0, 0, 0, 0],
    });
    expect(throughput.series(500)).toEqual({ end: 500, succeeded: [0, 0, 0, 0, 0], failed: [0, 0, 0, 0, 0] });
  });

  it('hands out each finished second once for the live chart', () => {
    const throughput = new Throughput(900, 100);
    throughput.add('succeeded', 100.5);
    expect(throughput.takeTick(100.9)).toBeUndefined(); // the second is not over
    expect(throughput.takeTick(102.1)).toEqual({ at: 100, succeeded: [1, 0], failed: [0, 0] });
    expect(throughput.takeTick(102.2)).toBeUndefined();
  });
});

describe('QueueStore', () => {
  it('keeps a bounded history per queue and drops queues no longer read', () => {
    const store = new QueueStore(3);
    for (let at = 1; at <= 5; at += 1)
      store.record([{ name: 'a', messages: at, consumers: 1, publishRate: null, deliverRate: null }], at);
    expect(store.views()[0]!.history.map((sample) => sample.messages)).toEqual([3, 4, 5]);
    expect(store.views(true)[0]!.history).toHaveLength(1);
    store.record([], 6);
    expect(store.views()).toEqual([]);
  });
});

describe('progress and the management API', () => {
  it('reads how far a task is from the usual PROGRESS metas', () => {
    expect(percentOf({ percent: 40 })).toBe(40);
    expect(percentOf({ current: 3, total: 12 })).toBe(25);
    expect(percentOf({ done: 1, total: 4 })).toBe(25);
    expect(percentOf({ percent: 250 })).toBe(100);
    expect(percentOf({ current: 1, total: 0 })).toBeNull();
    expect(percentOf('halfway')).toBeNull();
  });

  it("reads a broker URL's vhost as kombu does, and leaves plumbing queues out", () => {
    expect(vhostOf('amqp://guest:guest@127.0.0.1:5672//')).toBe('/');
    expect(vhostOf('amqp://127.0.0.1:5672/')).toBe('/');
    expect(vhostOf('amqp://127.0.0.1')).toBe('/');
    expect(vhostOf('amqp://127.0.0.1/prod%2Feu')).toBe('prod/eu');
    expect(isInternalQueue('w1@h.celery.pidbox')).toBe(true);
    expect(isInternalQueue('celeryev.4b1c')).toBe(true);
    expect(isInternalQueue('celery_delayed_27')).toBe(true);
    expect(isInternalQueue('celery')).toBe(false);
  });

  it('keeps management credentials out of the URL it shows', () => {
    expect(new ManagementApi('http://guest:secret@127.0.0.1:15672/', '/').displayUrl).toBe(
      'http://***@127.0.0.1:15672',
    );
  });
});

describe('options and auth', () => {
  it('fills in defaults and refuses values that cannot work', () => {
    expect(compileDashboardOptions({})).toMatchObject({
      maxTasks: 10_000,
      inspectIntervalMs: 5000,
      progress: true,
    });
    expect(() => compileDashboardOptions({ maxTasks: 0 })).toThrow(DashboardOptionsError);
    expect(() => compileDashboardOptions({ managementUrl: 'ftp://x' })).toThrow(/http/);
    expect(() => checkAuth({ token: 'short' })).toThrow(/8 characters/);
    expect(() => parseBasicAuth('nocolon')).toThrow(/user:pass/);
    expect(parseBasicAuth('admin:pa:ss')).toEqual({ username: 'admin', password: 'pa:ss' });
  });

  it('accepts the right token or basic credentials only', () => {
    const auth = { token: 'tok-123456', basic: { username: 'admin', password: 'pw' } };
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    expect(authorized('Bearer tok-123456', auth)).toBe(true);
    expect(authorized('Bearer tok-1234567', auth)).toBe(false);
    expect(authorized(basic('admin:pw'), auth)).toBe(true);
    expect(authorized(basic('admin:pwx'), auth)).toBe(false);
    expect(authorized(basic('adminpw'), auth)).toBe(false);
    expect(authorized(undefined, auth)).toBe(false);
    expect(authorized('Bearer tok-123456', { basic: auth.basic })).toBe(false);
  });

  it('refuses state changes without the custom header, as JSON, from another site', () => {
    const ok = { 'x-queue-dashboard': '1', 'content-type': 'application/json' };
    expect(csrfProblem(ok)).toBeUndefined();
    expect(csrfProblem({ 'content-type': 'application/json' })).toMatch(/header/);
    expect(csrfProblem({ ...ok, 'content-type': 'text/plain' })).toMatch(/json/);
    expect(csrfProblem({ ...ok, 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site/);
    expect(hostnameOf('127.0.0.1:5555')).toBe('127.0.0.1');
    expect(hostnameOf('[::1]:5555')).toBe('[::1]');
    expect(hostnameOf('Evil.Example')).toBe('evil.example');
  });
});
