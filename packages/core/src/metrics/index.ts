/**
 * `@queue/core/metrics`: Prometheus metrics of a worker (prom-client, an optional peer dependency: install
 * `prom-client` to use this entry). `queue worker --metrics-port N` serves the same metrics.
 *
 * @example
 * ```ts
 * import { serveMetrics, workerMetrics } from '@queue/core/metrics';
 *
 * const worker = app.worker({ concurrency: 8 });
 * const metrics = workerMetrics(worker); // or workerMetrics(worker, { registry: register }) to join yours
 * const server = await serveMetrics(metrics.registry, { port: 9808 });
 * await worker.start();
 * // … later
 * await worker.stop();
 * await server.close();
 * ```
 *
 * @module \@queue/core/metrics
 */
export {
  DEFAULT_RUNTIME_BUCKETS,
  workerMetrics,
  type FinalState,
  type WorkerMetrics,
  type WorkerMetricsOptions,
} from './worker-metrics';
export {
  MetricsServerError,
  serveMetrics,
  type MetricsServer,
  type MetricsServerOptions,
} from './metrics-server';
