import type { Worker } from '@queue/core';
import type { MetricsServer } from '@queue/core/metrics';

/**
 * `queue worker --metrics-port`: the worker's metrics and the process's own (CPU, memory, event loop) on
 * `/metrics`. Loaded only when asked for, so a worker without the flag never loads prom-client.
 */
export function serveWorkerMetrics(worker: Worker, port: number, host: string): Promise<MetricsServer> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { serveMetrics, workerMetrics } =
    require('@queue/core/metrics') as typeof import('@queue/core/metrics');
  const { collectDefaultMetrics } = require('prom-client') as typeof import('prom-client');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const metrics = workerMetrics(worker);
  collectDefaultMetrics({ register: metrics.registry });
  return serveMetrics(metrics.registry, { port, host });
}
