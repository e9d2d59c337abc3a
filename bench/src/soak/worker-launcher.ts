import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isWorkerMessage, type ParentMessage, type Sample, type WorkerArgs } from './protocol';

const POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How the worker process ended. */
export interface WorkerExit {
  /** It exited by itself after `app.close()` (nothing left holding its event loop). */
  exitedByItself: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The parent's side of worker-process.ts: forks it with --expose-gc, keeps what it reports (progress and
 * samples), and stops it. Every wait here is bounded by a deadline.
 */
export class WorkerLauncher {
  readonly samples: Sample[] = [];
  done = 0;
  failed = 0;
  /** Why the worker process failed (a `failed` message, or an exit before it was told to stop). */
  failure: string | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;
  private readonly child: ChildProcess;
  /** Called for every sample as it arrives (progress lines). */
  onSample: (sample: Sample) => void = () => undefined;

  constructor(args: WorkerArgs) {
    this.child = fork(join(__dirname, 'worker-process.js'), [JSON.stringify(args)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    });
    this.child.on('message', (message) => {
      if (!isWorkerMessage(message)) return;
      switch (message.type) {
        case 'ready':
          this.record(message.sample);
          return;
        case 'progress':
          this.done = Math.max(this.done, message.done);
          this.failed = message.failed;
          return;
        case 'sample':
          this.record(message.sample);
          return;
        case 'failed':
          this.failure ??= `worker process failed: ${message.message}`;
          return;
      }
    });
    this.child.on('error', (error) => (this.failure ??= `worker process: ${error.message}`));
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      if (!this.stopping)
        this.failure ??= `worker process exited unexpectedly (code ${code}, signal ${signal})`;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get ready(): boolean {
    return this.samples.length > 0;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  private record(sample: Sample): void {
    this.samples.push(sample);
    this.done = Math.max(this.done, sample.done);
    this.failed = sample.failed;
    this.onSample(sample);
  }

  /**
   * Resolves once `condition` holds; rejects when the worker fails, or with `timeoutMessage` at `deadline`
   * (epoch ms), or with `stopReason()` once it returns a reason.
   */
  async until(
    condition: () => boolean,
    deadline: number,
    timeoutMessage: string,
    stopReason: () => string | undefined = () => undefined,
  ): Promise<void> {
    const rounds = Math.ceil(Math.max(0, deadline - Date.now()) / POLL_MS) + 1;
    for (let round = 0; round < rounds; round++) {
      if (condition()) return;
      if (this.failure) throw new Error(this.failure);
      const reason = stopReason();
      if (reason) throw new Error(reason);
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    if (condition()) return;
    throw new Error(timeoutMessage);
  }

  /** Asks for a sample at rest (the client has paused) and waits for it. */
  async restSample(deadline: number, stopReason?: () => string | undefined): Promise<Sample> {
    const before = this.samples.length;
    this.child.send({ type: 'rest-sample' } satisfies ParentMessage);
    const isRest = (sample: Sample) => sample.phase === 'warm';
    await this.until(
      () => this.samples.slice(before).some(isRest),
      deadline,
      'no sample at rest from the worker',
      stopReason,
    );
    return this.samples.slice(before).find(isRest)!;
  }

  /**
   * Asks for a warm stop (`app.close()` in the worker), waits for its last sample and its exit. A process
   * still alive `graceMs` after its last sample is held by something: it is killed, and reported so.
   */
  async stop(graceMs: number): Promise<WorkerExit> {
    this.stopping = true;
    if (this.alive && this.child.connected) this.child.send({ type: 'stop' } satisfies ParentMessage);
    const closed = () => this.samples.some((sample) => sample.phase === 'closed');
    await this.until(() => closed() || !this.alive, Date.now() + graceMs, 'no sample after close').catch(
      () => undefined,
    );
    await this.until(() => !this.alive, Date.now() + graceMs, 'still running').catch(() => undefined);
    const exitedByItself = !this.alive;
    if (this.alive) await this.kill(graceMs);
    return { exitedByItself, code: this.exit?.code ?? null, signal: this.exit?.signal ?? null };
  }

  /** SIGKILL, for a worker that would not stop (or when the run is abandoned). */
  async kill(waitMs = 5_000): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.until(() => !this.alive, Date.now() + waitMs, 'not dead').catch(() => undefined);
  }
}
