/**
 * The soak's worker, in a process of its own so that its memory is its own (forked by worker-launcher.ts
 * with --expose-gc). It runs one worker until the parent says stop, and reports over IPC: progress
 * often, a full sample every `sampleMs`, one at rest when asked (after warm-up), one at rest when every
 * task is done, and one after `app.close()`. Then it disconnects and lets its event loop run dry: if
 * something still holds it, the parent sees it not exit.
 */
import '@queue/amqp';
import { App, configureLogging, type Worker } from '@queue/core';
import { Sampler } from './sampler';
import { defineSoakTask } from './task';
import { isParentMessage, type Sample, type WorkerArgs, type WorkerMessage } from './protocol';

const PROGRESS_MS = 200;
const CLOSE_TIMEOUT_MS = 10_000;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function parseArgs(): WorkerArgs {
  const raw = process.argv[2];
  if (!raw) throw new Error('worker-process.js needs its arguments as JSON in argv[2]');
  return JSON.parse(raw) as WorkerArgs;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('worker-process.js runs only as a child of soak/main.js (IPC)');
  configureLogging({ level: process.env.LOG_LEVEL ?? 'warn' });
  const args = parseArgs();
  const app = new App({
    name: 'bench-soak-worker',
    broker: args.broker,
    resultBackend: 'rpc://',
    defaultQueue: args.queue,
  });
  defineSoakTask(app);
  const worker = app.worker({ concurrency: args.concurrency, hostname: args.hostname });
  /** Resolves once the worker holds no task (reserved or running), polled every 10 ms, for at most 30 s. */
  const untilIdle = async (w: Worker): Promise<void> => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      if (w.monitor.inState('RECEIVED').length + w.monitor.inState('STARTED').length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the worker did not become idle within 30 s');
  };
  let done = 0;
  let failed = 0;
  let timers: NodeJS.Timeout[] = [];
  const startedAt = Date.now();
  const sampler = new Sampler(app, worker, startedAt);
  const sample = (phase: Sample['phase']) =>
    void send({ type: 'sample', sample: sampler.take(phase, done, failed) });

  /** Once nothing is being handled (every counter back at its resting value). */
  const sampleAtRest = (phase: 'warm' | 'done') => void untilIdle(worker).then(() => sample(phase), fail);
  worker.on('task-succeeded', () => {
    if (++done === args.tasks) sampleAtRest('done');
  });
  worker.on('task-failed', () => void failed++);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    timers.forEach(clearInterval);
    timers = [];
    await app.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    await send({ type: 'sample', sample: sampler.take('closed', done, failed) });
    process.removeAllListeners('message');
    process.removeAllListeners('disconnect');
    process.removeAllListeners('SIGINT');
    if (process.connected) process.disconnect();
  };
  process.on('message', (message) => {
    if (!isParentMessage(message)) return;
    if (message.type === 'rest-sample') sampleAtRest('warm');
    else void stop().catch(fail);
  });
  // Ctrl-C reaches the whole process group: the parent decides (it stops or kills this process).
  process.on('SIGINT', () => undefined);
  // The parent went away (killed, crashed): close, and exit rather than linger.
  process.on('disconnect', () => {
    void stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });

  await worker.start();
  // The reporting timers first, so that every sample counts them (2 Timeouts of ours, throughout).
  timers = [
    setInterval(() => void send({ type: 'progress', done, failed }), PROGRESS_MS),
    setInterval(() => sample('running'), args.sampleMs),
  ];
  await send({ type: 'ready', pid: process.pid, sample: sampler.take('start', done, failed) });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  void send({ type: 'failed', message }).finally(() => process.exit(1));
}

main().catch(fail);
