import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEnvelope } from '../protocol/message';
import type { Worker, WorkerEvents } from '../worker/worker';

/** How a worker's metrics are named and where they are registered. */
export interface WorkerMetricsOptions {
  /** The registry to add the metrics to (pass prom-client's `register` to join your own). @default a new `Registry` */
  registry?: Registry;
  /** Prefix of every metric name. @default 'queue_' */
  prefix?: string;
  /**
   * Upper bounds of the runtime histogram's buckets, in seconds (the first call for a registry and prefix
   * sets them). @default {@link DEFAULT_RUNTIME_BUCKETS}
   */
  runtimeBuckets?: number[];
}

/** A worker followed by Prometheus metrics. */
export interface WorkerMetrics {
  /** The registry holding the metrics: serve it (`serveMetrics`) or read it (`registry.metrics()`). */
  readonly registry: Registry;
  /** Stops following the worker: its listeners are removed; its series stay in the registry. */
  close(): void;
}

/** From 5 ms to 5 minutes: task bodies range from a cache write to a report build. */
export const DEFAULT_RUNTIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** How a run ended, as the `state` label of `<prefix>tasks_total`. */
export type FinalState = 'succeeded' | 'failed' | 'retried' | 'revoked' | 'rejected';

type WorkerLabel = 'worker';
type TaskLabels = 'worker' | 'task';

/**
 * One set of metrics per registry and prefix, shared by every worker followed there (the `worker` label
 * tells them apart): prom-client refuses a second metric of the same name in one registry.
 */
class MetricFamily {
  readonly followed = new Set<FollowedWorker>();
  readonly received: Counter<TaskLabels>;
  readonly finished: Counter<TaskLabels | 'state'>;
  readonly runtime: Histogram<TaskLabels>;
  readonly reconnects: Counter<WorkerLabel>;

  constructor(registry: Registry, prefix: string, buckets: number[]) {
    const registers = [registry];
    const followed = this.followed;
    this.received = new Counter({
      name: `${prefix}tasks_received_total`,
      help: 'Task messages this worker accepted to run, by task name',
      labelNames: ['worker', 'task'],
      registers,
    });
    this.finished = new Counter({
      name: `${prefix}tasks_total`,
      help: 'Runs that ended, by task name and how (succeeded, failed, retried, revoked, rejected)',
      labelNames: ['worker', 'task', 'state'],
      registers,
    });
    this.runtime = new Histogram({
      name: `${prefix}task_runtime_seconds`,
      help: 'Seconds from the start of a run to its outcome, by task name',
      labelNames: ['worker', 'task'],
      buckets,
      registers,
    });
    this.reconnects = new Counter({
      name: `${prefix}broker_reconnects_total`,
      help: 'Times the broker connection was lost and restored',
      labelNames: ['worker'],
      registers,
    });
    // Gauges are read from the workers when scraped: nothing is counted per task for them.
    const gauge = (name: string, help: string, value: (worker: Worker) => number): void => {
      new Gauge({
        name: `${prefix}${name}`,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset(); // a worker no longer followed leaves no stale series
          for (const { worker } of followed) this.set({ worker: worker.hostname }, value(worker));
        },
      });
    };
    gauge('worker_tasks_in_progress', 'Task bodies running now', (worker) => {
      return worker.monitor.count('STARTED').total;
    });
    gauge('worker_tasks_held', 'Tasks held now: waiting for an ETA or a slot, or running', (worker) => {
      return worker.monitor.holdingCount;
    });
    gauge(
      'worker_prefetch_used',
      'Unacked messages held over the prefetch window (prefetch × queues): 1 means no room for more',
      (worker) => {
        const window = worker.prefetch * Math.max(1, worker.queues.length);
        return worker.monitor.count().unacknowledged / window;
      },
    );
    gauge('worker_concurrency', 'Task bodies that may run at once', (worker) => worker.concurrency);
  }
}

const families = new WeakMap<Registry, Map<string, MetricFamily>>();

function familyOf(registry: Registry, prefix: string, buckets: number[]): MetricFamily {
  let byPrefix = families.get(registry);
  if (!byPrefix) families.set(registry, (byPrefix = new Map()));
  let family = byPrefix.get(prefix);
  if (!family) byPrefix.set(prefix, (family = new MetricFamily(registry, prefix, buckets)));
  return family;
}

/** The listeners on one worker, and the start times of its runs (for the runtime histogram). */
class FollowedWorker {
  /**
   * By envelope, not by id: a retry keeps its id and may start before the attempt that sent it has ended.
   * A run that ends without an event (ignored, requeued) leaves nothing behind.
   */
  private startedAt = new WeakMap<TaskEnvelope, number>();
  private readonly detach: Array<() => void> = [];

  constructor(
    readonly worker: Worker,
    private readonly family: MetricFamily,
  ) {
    const labels = (envelope: TaskEnvelope) => ({ worker: worker.hostname, task: envelope.task });
    this.on('task-received', (envelope) => family.received.inc(labels(envelope)));
    this.on('task-started', (envelope) => void this.startedAt.set(envelope, performance.now()));
    this.on('task-succeeded', (envelope) => this.ended(envelope, 'succeeded'));
    this.on('task-failed', (envelope) => this.ended(envelope, 'failed'));
    this.on('task-retried', (envelope) => this.ended(envelope, 'retried'));
    this.on('task-revoked', (envelope) => this.ended(envelope, 'revoked'));
    this.on('task-rejected', (envelope) => this.ended(envelope, 'rejected'));
    const offReconnect = worker.app.transport.onReconnect?.(() =>
      family.reconnects.inc({ worker: worker.hostname }),
    );
    if (offReconnect) this.detach.push(offReconnect);
    family.reconnects.inc({ worker: worker.hostname }, 0); // the series exists (at 0) before any reconnect
  }

  close(): void {
    for (const off of this.detach.splice(0)) off();
    this.startedAt = new WeakMap();
  }

  private ended(envelope: TaskEnvelope, state: FinalState): void {
    const labels = { worker: this.worker.hostname, task: envelope.task };
    this.family.finished.inc({ ...labels, state });
    const started = this.startedAt.get(envelope);
    if (started === undefined) return; // discarded before it started (revoked, expired): no runtime
    this.startedAt.delete(envelope);
    this.family.runtime.observe(labels, (performance.now() - started) / 1000);
  }

  private on<K extends keyof WorkerEvents>(name: K, listener: (...args: WorkerEvents[K]) => void): void {
    const wrapped = listener as (...args: unknown[]) => void;
    const source = this.worker as unknown as NodeJS.EventEmitter;
    source.on(name, wrapped);
    this.detach.push(() => source.off(name, wrapped));
  }
}

/**
 * Follows `worker` with Prometheus metrics (prom-client), built on its events, so a worker without metrics
 * pays nothing. Metric names (with the default `queue_` prefix), each labelled `worker` (its hostname):
 * `queue_tasks_received_total{task}`, `queue_tasks_total{task,state}` (state: succeeded, failed, retried,
 * revoked, rejected), `queue_task_runtime_seconds{task}` (histogram), `queue_worker_tasks_in_progress`,
 * `queue_worker_tasks_held`, `queue_worker_prefetch_used` (unacked / prefetch window),
 * `queue_worker_concurrency` and `queue_broker_reconnects_total`.
 *
 * @example
 * ```ts
 * import { serveMetrics, workerMetrics } from '@queue/core/metrics';
 * const worker = app.worker();
 * const metrics = workerMetrics(worker);
 * const server = await serveMetrics(metrics.registry, { port: 9808 }); // GET /metrics
 * await worker.start();
 * ```
 */
export function workerMetrics(worker: Worker, options: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = options.registry ?? new Registry();
  const family = familyOf(
    registry,
    options.prefix ?? 'queue_',
    options.runtimeBuckets ?? DEFAULT_RUNTIME_BUCKETS,
  );
  const followed = new FollowedWorker(worker, family);
  family.followed.add(followed);
  return {
    registry,
    close: () => {
      followed.close();
      family.followed.delete(followed);
    },
  };
}
