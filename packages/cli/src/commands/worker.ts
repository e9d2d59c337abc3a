import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { configureLogging, type App, type Worker } from '@queue/core';
import { CliUsageError } from '../cli-error';
import { loadAppModule } from '../load-app';
import { handleShutdownSignals } from '../shutdown';

export interface WorkerCommandOptions {
  app: string;
  queues?: string[];
  concurrency: number;
  prefetchMultiplier: number;
  pool: string;
  loglevel: string;
  hostname?: string;
  shutdownTimeout: number;
  heartbeatFile?: string;
  taskEvents?: boolean;
  withoutHeartbeat?: boolean;
  withoutMingle?: boolean;
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
  configureLogging({ level: options.loglevel });
  const loaded = loadAppModule(options.app);
  const app = loaded.app;
  const worker = app.worker({
    pool: options.pool as (typeof POOLS)[number],
    threadApp: { module: loaded.module, exportName: loaded.exportName },
    queues: options.queues,
    concurrency: options.concurrency,
    prefetchMultiplier: options.prefetchMultiplier,
    hostname: options.hostname ?? `queue@${hostname()}`,
    sendTaskEvents: options.taskEvents || undefined,
    heartbeatIntervalMs: options.withoutHeartbeat ? 0 : undefined,
    mingle: !options.withoutMingle,
  });
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
