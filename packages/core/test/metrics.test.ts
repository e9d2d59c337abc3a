import { Registry } from 'prom-client';
import { Reject, type App, type BoundTask, type Worker } from '@queue/core';
import { serveMetrics, workerMetrics, MetricsServerError, type MetricsServer } from '@queue/core/metrics';
import { testApp, waitFor } from './helpers';

/** Prometheus metrics of a worker (`@queue/core/metrics`), scraped over HTTP like Prometheus does. */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, one sample per line (no escaped quotes in our label values). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; fails when none matches. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

async function scrape(server: MetricsServer): Promise<Sample[]> {
  const response = await fetch(server.url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await response.text());
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function appWithWorker(hostname: string, concurrency = 4): { app: App; worker: Worker } {
  const app = testApp({ setAsCurrent: false });
  cleanups.push(() => app.close({ timeoutMs: 1000 }));
  return { app, worker: app.worker({ hostname, concurrency }) };
}

async function served(registry: Registry): Promise<MetricsServer> {
  const server = await serveMetrics(registry, { port: 0 });
  cleanups.push(() => server.close());
  return server;
}

describe('workerMetrics', () => {
  test('counts outcomes by task and state, times runs, and serves them on /metrics', async () => {
    const { app, worker } = appWithWorker('m1@test');
    let flaky = 0;
    app.task({ name: 'm.ok' }, async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    });
    app.task({ name: 'm.boom' }, () => {
      throw new Error('boom');
    });
    app.task({ name: 'm.flaky', bind: true, maxRetries: 2 }, (self: BoundTask) => {
      flaky += 1;
      if (flaky === 1) throw self.retry({ countdown: 0 });
      return 'ok';
    });
    app.task({ name: 'm.reject' }, () => {
      throw new Reject('no thanks');
    });
    const metrics = workerMetrics(worker);
    const server = await served(metrics.registry);
    await worker.start();

    await (await app.sendTask('m.ok', [60])).get({ timeout: 5 });
    await (await app.sendTask('m.ok', [1])).get({ timeout: 5 });
    await expect((await app.sendTask('m.boom', [])).get({ timeout: 5 })).rejects.toThrow(/boom/);
    await (await app.sendTask('m.flaky', [])).get({ timeout: 5 });
    const rejected = new Promise((resolve) => worker.once('task-rejected', resolve));
    await app.sendTask('m.reject', []);
    await rejected;
    await app.revoke('revoked-before-sent');
    const revoked = new Promise((resolve) => worker.once('task-revoked', resolve));
    await app.sendTask('m.ok', [1], {}, { taskId: 'revoked-before-sent' });
    await revoked;

    const samples = await scrape(server);
    const worker1 = { worker: 'm1@test' };
    const total = (task: string, state: string) =>
      valueOf(samples, 'queue_tasks_total', { ...worker1, task, state });
    expect(total('m.ok', 'succeeded')).toBe(2);
    expect(total('m.boom', 'failed')).toBe(1);
    expect(total('m.flaky', 'retried')).toBe(1);
    expect(total('m.flaky', 'succeeded')).toBe(1);
    expect(total('m.reject', 'rejected')).toBe(1);
    expect(total('m.ok', 'revoked')).toBe(1);
    expect(valueOf(samples, 'queue_tasks_received_total', { ...worker1, task: 'm.ok' })).toBe(2);
    expect(valueOf(samples, 'queue_tasks_received_total', { ...worker1, task: 'm.flaky' })).toBe(2);

    // Runtime: the 60 ms run lands above the 50 ms bucket; revoked runs (never started) are not timed.
    const bucket = (le: string) =>
      valueOf(samples, 'queue_task_runtime_seconds_bucket', { ...worker1, task: 'm.ok', le });
    expect(valueOf(samples, 'queue_task_runtime_seconds_count', { ...worker1, task: 'm.ok' })).toBe(2);
    expect(bucket('0.05')).toBeLessThanOrEqual(1);
    expect(bucket('5')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    const sum = valueOf(samples, 'queue_task_runtime_seconds_sum', { ...worker1, task: 'm.ok' });
    expect(sum).toBeGreaterThan(0.06);
    expect(sum).toBeLessThan(5);
    expect(valueOf(samples, 'queue_task_runtime_seconds_count', { ...worker1, task: 'm.flaky' })).toBe(2);

    expect(valueOf(samples, 'queue_worker_tasks_in_progress', worker1)).toBe(0);
    expect(valueOf(samples, 'queue_worker_concurrency', worker1)).toBe(4);
    expect(valueOf(samples, 'queue_broker_reconnects_total', worker1)).toBe(0);
  });

  test('gauges: runs in progress, tasks held, and the share of the prefetch window in use', async () => {
    const { app, worker } = appWithWorker('m2@test', 1); // prefetch 1 × 4
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    app.task({ name: 'm.wait', acksLate: true }, () => gate);
    const metrics = workerMetrics(worker);
    const server = await served(metrics.registry);
    await worker.start();
    const results = await Promise.all([1, 2, 3].map(() => app.sendTask('m.wait', [])));
    await waitFor(() => worker.monitor.holdingCount === 3);

    const busy = await scrape(server);
    expect(valueOf(busy, 'queue_worker_tasks_in_progress', { worker: 'm2@test' })).toBe(1);
    expect(valueOf(busy, 'queue_worker_tasks_held', { worker: 'm2@test' })).toBe(3);
    expect(valueOf(busy, 'queue_worker_prefetch_used', { worker: 'm2@test' })).toBe(0.75);

    open();
    await Promise.all(results.map((result) => result.get({ timeout: 5 })));
    await waitFor(() => worker.monitor.holdingCount === 0);
    const idle = await scrape(server);
    expect(valueOf(idle, 'queue_worker_tasks_in_progress', { worker: 'm2@test' })).toBe(0);
    expect(valueOf(idle, 'queue_worker_prefetch_used', { worker: 'm2@test' })).toBe(0);
  });

  test('broker reconnects are counted through the transport’s onReconnect hook', async () => {
    const { app, worker } = appWithWorker('m3@test');
    const listeners = new Set<() => void>();
    // The memory broker never loses its connection: a stand-in for what AmqpTransport reports.
    Object.assign(app.transport, {
      onReconnect: (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    const metrics = workerMetrics(worker);
    const server = await served(metrics.registry);
    for (const listener of listeners) listener();
    for (const listener of listeners) listener();
    expect(valueOf(await scrape(server), 'queue_broker_reconnects_total', { worker: 'm3@test' })).toBe(2);
    metrics.close();
    expect(listeners.size).toBe(0);
  });

  test('two workers share one registry, told apart by the worker label; close() detaches one', async () => {
    const registry = new Registry();
    const first = appWithWorker('a@test');
    const second = appWithWorker('b@test');
    for (const { app } of [first, second]) app.task({ name: 'm.echo' }, (x: number) => x);
    await first.worker.start();
    await second.worker.start();
    const before = first.worker.listenerCount('task-started');
    const metricsA = workerMetrics(first.worker, { registry });
    workerMetrics(second.worker, { registry });
    const server = await served(registry);
    await (await first.app.sendTask('m.echo', [1])).get({ timeout: 5 });
    await (await second.app.sendTask('m.echo', [2])).get({ timeout: 5 });
    await (await second.app.sendTask('m.echo', [3])).get({ timeout: 5 });

    let samples = await scrape(server);
    const succeeded = (worker: string) =>
      valueOf(samples, 'queue_tasks_total', { worker, task: 'm.echo', state: 'succeeded' });
    expect([succeeded('a@test'), succeeded('b@test')]).toEqual([1, 2]);

    metricsA.close();
    expect(first.worker.listenerCount('task-started')).toBe(before);
    await (await first.app.sendTask('m.echo', [4])).get({ timeout: 5 });
    samples = await scrape(server);
    expect(succeeded('a@test')).toBe(1); // no longer followed
    expect(samples.some((s) => s.name === 'queue_worker_concurrency' && s.labels.worker === 'a@test')).toBe(
      false,
    );
  });

  test('a custom prefix, and a worker without metrics has no listeners of theirs', async () => {
    const { worker } = appWithWorker('m4@test');
    const baseline = worker.listenerCount('task-succeeded');
    const metrics = workerMetrics(worker, { prefix: 'jobs_' });
    expect(worker.listenerCount('task-succeeded')).toBe(baseline + 1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^# TYPE jobs_tasks_total counter$/m);
    expect(text).not.toMatch(/queue_/);
    metrics.close();
    expect(worker.listenerCount('task-succeeded')).toBe(baseline);
  });
});

describe('serveMetrics', () => {
  test('answers /metrics only; a busy port is a MetricsServerError', async () => {
    const registry = new Registry();
    const server = await served(registry);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    const busy = serveMetrics(registry, { port: server.port });
    await expect(busy).rejects.toBeInstanceOf(MetricsServerError);
    await expect(busy).rejects.toThrow(/EADDRINUSE/);
  });
});
