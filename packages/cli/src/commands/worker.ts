import { writeFileSync } from 'node:fs';
import { configureLogging, type App, type LogFormat, type Worker } from '@queue/core';
import { CliUsageError } from '../cli-error';
import { loadAppModule } from '../load-app';
import { handleShutdownSignals } from '../shutdown';
import { serveWorkerMetrics } from '../worker-metrics';

export interface WorkerCommandOptions {
  app: string;
  queues?: string[];
  concurrency: number;
  prefetchMultiplier: number;
  pool: string;
  loglevel: string;
  logFormat?: LogFormat;
  hostname?: string;
  shutdownTimeout: number;
  heartbeatFile?: string;
  taskEvents?: boolean;
  withoutHeartbeat?: boolean;
  withoutMingle?: boolean;
  /** Serve Prometheus metrics on this port (0: any free one); off when unset. */
  metricsPort?: number;
  metricsHost?: string;
}

const POOLS = ['async', 'threads'] as const;

function banner(app: App, worker: Worker, pool: string): string {
  const tasks = app.taskNames.map((name) => `  . ${name}`).join('\n');
  return [
    ` -------------- ${worker.hostname}`,
    `--- app:         ${app.name}`,
    `--- transport:   ${app.transport.displayUrl}`,
    `--- results:     ${app.conf.resultBackend}`,
    `--- concurrency: ${worker.concurrency} (${pool} pool), prefetch ${worker.prefetch}`,
    `--- events:      ${worker.taskEvents ? 'ON' : 'OFF'} (task events; worker heartbeats on celeryev)`,
    `--- queues:      ${worker.queues.join(', ')}`,
    '',
    '[tasks]',
    tasks || '  (none registered)',
    '',
  ].join('\n');
}

/** `queue worker`: load the App, register its tasks once, consume until SIGTERM/SIGINT (warm, then cold). */
export async function runWorker(options: WorkerCommandOptions): Promise<void> {
  if (!(POOLS as readonly string[]).includes(options.pool)) {
    throw new CliUsageError(`--pool: '${options.pool}' is not available (choose: ${POOLS.join(', ')})`);
  }
  configureLogging({ level: options.loglevel, format: options.logFormat });
  const loaded = await loadAppModule(options.app);
  const app = loaded.app;
  const worker = app.worker({
    pool: options.pool as (typeof POOLS)[number],
    threadApp: { module: loaded.module, exportName: loaded.exportName },
    queues: options.queues,
    concurrency: options.concurrency,
    prefetchMultiplier: options.prefetchMultiplier,
    hostname: options.hostname, // the worker expands %h, %n, %d (default queue@%h)
    sendTaskEvents: options.taskEvents || undefined,
    heartbeatIntervalMs: options.withoutHeartbeat ? 0 : undefined,
    mingle: !options.withoutMingle,
  });
  // Listening before consuming: a port in use fails the start, not a worker that already took messages.
  const metrics =
    options.metricsPort === undefined
      ? undefined
      : await serveWorkerMetrics(worker, options.metricsPort, options.metricsHost ?? '127.0.0.1');
  // Signals are handled before the worker starts: a SIGTERM during start-up is a warm shutdown too.
  let started: Promise<void> = Promise.resolve();
  const shutDown = handleShutdownSignals({
    warm: async () => {
      await started.catch(() => undefined);
      process.stdout.write(
        `worker: warm shutdown (waiting up to ${options.shutdownTimeout}s for running tasks)\n`,
      );
      await worker.stop({ timeoutMs: options.shutdownTimeout * 1000 });
      await app.close({ timeoutMs: 0 });
      await metrics?.close();
    },
    cold: async () => {
      process.stdout.write('worker: cold shutdown (unfinished tasks go back to the queue)\n');
      await app.transport.close();
    },
  });
  worker.once('shutdown-requested', () => shutDown());
  started = worker.start();
  await started;
  process.stdout.write(banner(app, worker, options.pool));
  if (metrics) process.stdout.write(`metrics: ${metrics.url}\n`);
  process.stdout.write(`${worker.hostname} ready.\n`);
  if (options.heartbeatFile) beatInto(options.heartbeatFile, worker);
}

/** Rewrites `path` every 10 s while the worker runs: a container healthcheck tests its age. */
function beatInto(path: string, worker: Worker): void {
  const beat = () => {
    if (worker.running) writeFileSync(path, `${new Date().toISOString()}\n`);
  };
  beat();
  setInterval(beat, 10_000).unref();
}
