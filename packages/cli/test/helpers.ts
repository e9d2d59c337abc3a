import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'amqplib';

/** The local broker (tests send traffic only to 127.0.0.1). */
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
export const bin = join(__dirname, '..', 'dist', 'bin.js');
export const fixture = (name: string) => join(__dirname, 'fixtures', name);

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run, ms. */
  ms: number;
}

/** Runs `queue <args>` (the built CLI) to its end; killed after `timeoutMs`. */
export function run(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Finished> {
  return runNode([bin, ...args], env, timeoutMs);
}

/** Runs `node <args>` to its end; killed after `timeoutMs`. */
export function runNode(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LOG_LEVEL: 'error', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface RunningWorker {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/** Starts `queue worker --app <fixture, amqp-app.js by default>` on `queue`; resolves once it says it is ready. */
export async function startWorker(
  queue: string,
  extra: string[],
  env: Record<string, string> = {},
  appFixture = 'amqp-app.js',
): Promise<RunningWorker> {
  const child = spawn(process.execPath, [bin, 'worker', '--app', fixture(appFixture), ...extra], {
    env: { ...process.env, AMQP_URL, QUEUE: queue, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 15 s:\n${output}`)), 15_000);
    const poll = setInterval(() => {
      if (/ready\./.test(output)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 20);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output };
}

/** The exit code of `child`, or -1 when it is still running after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if ((await exitOf(child, graceMs)) === -1) child.kill('SIGKILL');
}

/** Deletes the queues, their dead-letter queues and same-named exchanges; missing ones are fine. */
export async function deleteQueues(...queues: string[]): Promise<void> {
  const model = await connect(AMQP_URL);
  model.on('error', () => undefined);
  for (const queue of queues) {
    for (const name of [queue, `${queue}.dlq`]) {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.deleteExchange(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  }
  await model.close();
}
