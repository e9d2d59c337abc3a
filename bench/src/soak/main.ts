/**
 * Soak: N tasks (300,000 by default) through one worker running in a child process, sampling its memory
 * (after a full GC), active handles, listeners, channels and process holds; prints the RSS curve as a
 * table, a summary with slopes after warm-up, and writes everything to bench/results/soak-<date>.json.
 *
 *   node bench/dist/soak/main.js [--tasks 300000] [--max-minutes 15] [--help]
 *
 * Exit 0 when every task was done; 1 (with one `soak: FAILED: …` line) otherwise; 2 on a bad command line.
 */
import { cpus, hostname } from 'node:os';
import '@queue/amqp';
import { App, configureLogging } from '@queue/core';
import { parseFlags, usage, UsageError } from '../lib/args';
import { deleteTopology, maskUrl, uniqueQueueName } from '../lib/broker';
import { writeResult } from '../lib/results';
import { SOAK_FLAGS, type SoakConfig } from './config';
import { produce } from './producer';
import type { Sample } from './protocol';
import { samplesTable, summaryText } from './report';
import { summarize } from './summary';
import { defineSoakTask } from './task';
import { WorkerLauncher, type WorkerExit } from './worker-launcher';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;
const CLOSE_TIMEOUT_MS = 10_000;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** One progress line per tenth of the run (for whoever follows a long run's output). */
function progressPrinter(tasks: number): (sample: Sample) => void {
  let nextTenth = 1;
  return (sample) => {
    if (sample.phase === 'start') {
      log(`soak: worker up, rss ${(sample.memory.rss / 2 ** 20).toFixed(1)} MB`);
      return;
    }
    if (sample.done < (tasks * nextTenth) / 10) return;
    while (sample.done >= (tasks * nextTenth) / 10 && nextTenth <= 10) nextTenth++;
    log(
      `soak: ${sample.done}/${tasks} done at ${(sample.elapsedMs / 1000).toFixed(0)} s, rss ${(sample.memory.rss / 2 ** 20).toFixed(1)} MB, heapUsed ${(sample.memory.heapUsed / 2 ** 20).toFixed(1)} MB`,
    );
  };
}

async function run(config: SoakConfig): Promise<number> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + config['max-minutes'] * 60_000;
  const queue = uniqueQueueName('bench.soak');
  const workerHostname = `${queue}@${hostname()}`;
  log(
    `soak: ${config.tasks} tasks through one worker (concurrency ${config.concurrency}) on ${queue} at ${maskUrl(config.broker)}; time limit ${config['max-minutes']} min`,
  );

  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => (interrupted = `interrupted (${signal})`);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const worker = new WorkerLauncher({
    broker: config.broker,
    queue,
    hostname: workerHostname,
    tasks: config.tasks,
    concurrency: config.concurrency,
    sampleMs: Math.round(config['sample-seconds'] * 1000),
  });
  worker.onSample = progressPrinter(config.tasks);
  const client = new App({
    name: 'bench-soak-client',
    broker: config.broker,
    resultBackend: 'rpc://',
    defaultQueue: queue,
  });
  const task = defineSoakTask(client);

  let failure: string | undefined;
  let exit: WorkerExit | undefined;
  let sendingMs: number | undefined;
  const timeLimit = () =>
    `time limit of ${config['max-minutes']} min exceeded with ${worker.done} of ${config.tasks} tasks done`;
  const stopReason = () =>
    interrupted ?? (worker.failed > 0 ? `${worker.failed} task(s) failed in the worker` : undefined);
  // After warm-up the client pauses until the worker is idle and has sampled itself at rest.
  const warmupTasks = Math.ceil((config.tasks * config['warmup-percent']) / 100);
  const sampleAtWarmup = async () => {
    await worker.until(() => worker.done >= warmupTasks, deadline, timeLimit(), stopReason);
    await worker.restSample(deadline, stopReason);
  };
  try {
    await worker.until(
      () => worker.ready,
      Math.min(deadline, Date.now() + READY_TIMEOUT_MS),
      'the worker did not start within 30 s',
      stopReason,
    );
    await client.connect();
    const sendStart = Date.now();
    await produce(task, {
      tasks: config.tasks,
      inFlight: config['in-flight'],
      backlog: config.backlog,
      done: () => worker.done,
      deadline,
      stopReason: () => stopReason() ?? worker.failure,
      pauseAt:
        warmupTasks > 0 && warmupTasks < config.tasks
          ? { tasks: warmupTasks, run: sampleAtWarmup }
          : undefined,
    });
    sendingMs = Date.now() - sendStart;
    const allDone = () => worker.samples.some((s) => s.phase === 'done');
    await worker.until(allDone, deadline, timeLimit(), stopReason);
    exit = await worker.stop(STOP_GRACE_MS);
  } catch (error) {
    failure = (error as Error).message;
    if (Date.now() >= deadline && !interrupted) failure = timeLimit();
    await worker.kill();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await withTimeout(
      client.close({ timeoutMs: 0 }).catch(() => undefined),
      CLOSE_TIMEOUT_MS,
    );
    const leftovers = await deleteTopology(config.broker, {
      queues: [queue, `${queue}.dlq`],
      exchanges: [queue],
    });
    for (const line of leftovers) log(`soak: cleanup: ${line}`);
  }

  const summary = summarize(worker.samples, config.tasks, config['warmup-percent']);
  const clientMemory = process.memoryUsage();
  const file = writeResult('soak', {
    kind: 'soak',
    completed: failure === undefined,
    failure: failure ?? null,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config: { ...config, broker: maskUrl(config.broker) },
    environment: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
    },
    queue,
    worker: { pid: worker.pid ?? null, exit: exit ?? null },
    client: { sendingMs: sendingMs ?? null, rss: clientMemory.rss, heapUsed: clientMemory.heapUsed },
    summary,
    samples: worker.samples,
  });

  if (worker.samples.length > 1) {
    log('');
    log(samplesTable(worker.samples, summary, config.rows));
    log('');
    log(summaryText(summary, exit?.exitedByItself));
  }
  log(`soak: result written to ${file}`);
  if (failure) {
    process.stderr.write(`soak: FAILED: ${failure}\n`);
    return 1;
  }
  return 0;
}

async function main(): Promise<number> {
  configureLogging({ level: process.env.LOG_LEVEL ?? 'warn' });
  let config: SoakConfig | 'help';
  try {
    config = parseFlags(process.argv.slice(2), SOAK_FLAGS);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak: ${error.message}\n${usage('node bench/dist/soak/main.js', SOAK_FLAGS)}\n`);
    return 2;
  }
  if (config === 'help') {
    log(usage('node bench/dist/soak/main.js', SOAK_FLAGS));
    return 0;
  }
  return run(config);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: FAILED: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
