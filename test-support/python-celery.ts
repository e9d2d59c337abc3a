import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Child processes for the interop tests against Debian's Python Celery (python3-celery, 5.2): one-shot
 * scripts and CLI runs, and long-running workers or receivers that are waited for until they say they are
 * ready. Only the spawning lives here; what a test sends and asserts stays in the test.
 */

/** Debian's interpreter, where python3-celery is installed (not whichever python3 comes first on PATH). */
export const PYTHON = '/usr/bin/python3';

/** Throws `message` unless PYTHON can run `import <modules>` (e.g. 'celery, redis'). */
export function requirePython(modules: string, message: string): void {
  if (spawnSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore' }).status !== 0) {
    throw new Error(message);
  }
}

/** Throws unless PYTHON can import Celery: fails the file loudly instead of skipping it. */
export function requireCelery(): void {
  requirePython(
    'celery',
    `Celery is not installed for ${PYTHON}: apt-get install python3-celery (scripts/services.sh does)`,
  );
}

export interface SpawnOptions {
  cwd: string;
  /** Set over process.env. */
  env?: Record<string, string>;
  /** SIGKILL after this long; no limit if unset. */
  timeoutMs?: number;
  /** A process group of its own, signalled as a whole by stop() (a prefork Celery worker has children). */
  detached?: boolean;
}

export interface Spawned {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** stdout and stderr so far, interleaved as they arrived. */
  log(): string;
  stdout(): string;
  stderr(): string;
  /** The exit code, once it has exited and its output is complete ('close'). */
  closed: Promise<number | null>;
  /** SIGTERM, then SIGKILL if still alive after `graceMs` (at once if 0); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnProcess(command: string, args: string[], options: SpawnOptions): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let log = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    log += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    log += chunk.toString();
  });
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  // Created at once, so stop() cannot miss an exit that happens before it is called.
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

  const signal = (name: NodeJS.Signals) => {
    try {
      if (options.detached && child.pid !== undefined) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (graceMs > 0) {
      signal('SIGTERM');
      let grace: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(grace);
      if (gone) return;
    }
    signal('SIGKILL');
    await exited;
  };

  return { child, log: () => log, stdout: () => stdout, stderr: () => stderr, closed, stop };
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Date.now() when it ended. */
  endedAt: number;
}

/** Runs a command to its end, asynchronously (an in-process worker must keep serving meanwhile). */
export async function runProcess(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<Finished> {
  const run = spawnProcess(command, args, options);
  const status = await run.closed;
  return { status, stdout: run.stdout(), stderr: run.stderr(), endedAt: Date.now() };
}

export function runPython(args: string[], options: SpawnOptions & { timeoutMs: number }): Promise<Finished> {
  return runProcess(PYTHON, args, options);
}

export interface StartOptions extends SpawnOptions {
  /** For error messages; the command by default. */
  name?: string;
  /** What its output says once it serves; /ready\./ (Celery's and our workers' banner) by default. */
  ready?: RegExp;
}

/**
 * Starts a long-running process and resolves once its output matches `ready`. Rejects with its output if it
 * exits first or is not ready within 30 s, after stopping it (the caller never gets a handle to stop).
 */
export async function startProcess(command: string, args: string[], options: StartOptions): Promise<Spawned> {
  const started = spawnProcess(command, args, options);
  const { child } = started;
  const name = options.name ?? command;
  const ready = options.ready ?? /ready\./;
  try {
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        child.off('exit', exit);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (ready.test(started.log())) settle();
      };
      const exit = (code: number | null) =>
        settle(new Error(`${name} exited with ${code}:\n${started.log()}`));
      const timer = setTimeout(
        () => settle(new Error(`${name} not ready in 30 s:\n${started.log()}`)),
        30_000,
      );
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('exit', exit);
    });
  } catch (error) {
    await started.stop();
    throw error;
  }
  return started;
}

/** One solo process, no mingle, gossip or heartbeat traffic: quick to start and quiet on a shared broker. */
export const WORKER_FLAGS = [
  '-P',
  'solo',
  '-l',
  'info',
  '--without-mingle',
  '--without-gossip',
  '--without-heartbeat',
];

export interface CeleryWorkerOptions {
  /** Where the `app` module is. */
  cwd: string;
  /** The `-A` module. */
  app: string;
  /** Consumed (`-Q`), and given to the fixture apps as PY_QUEUE. */
  queue: string;
  /** `-n` (Celery expands `%h`). */
  hostname: string;
  env?: Record<string, string>;
  /** Instead of WORKER_FLAGS, between `-Q <queue>` and `-n <hostname>`. */
  flags?: string[];
  detached?: boolean;
}

/** `python3 -m celery -A <app> worker -Q <queue> <flags> -n <hostname>`, resolved once it is ready. */
export function startCeleryWorker(options: CeleryWorkerOptions): Promise<Spawned> {
  const { cwd, app, queue, hostname, env, flags = WORKER_FLAGS, detached } = options;
  return startProcess(PYTHON, ['-m', 'celery', '-A', app, 'worker', '-Q', queue, ...flags, '-n', hostname], {
    cwd,
    env: { PY_QUEUE: queue, ...env },
    detached,
    name: 'celery worker',
  });
}
