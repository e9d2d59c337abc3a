import { MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { SoftTimeLimitExceeded, TimeLimitExceeded } from '../../errors';
import type { BaseTask } from '../../task/base-task';
import type { RunContext } from '../../task/request';
import { rebuildError } from './error-transfer';
import { TerminatedError } from '../run/termination';
import type { RunArguments, TaskRunner } from './task-runner';
import type { DownMessage, ThreadAppModule, ThreadResult, ThreadTask, UpMessage } from './thread-protocol';

/** The compiled thread entry, beside this file (tests of the threads pool run the built package). */
const THREAD_ENTRY = join(__dirname, 'thread-entry.js');

/**
 * The threads pool: each body runs in a worker thread that loaded the App module itself (class instances and
 * decorator metadata do not cross threads, so arguments travel as JSON and are validated again there).
 * At the hard time limit the thread is terminated, so even a CPU-bound `while (true) {}` is stopped; a
 * revoke with `terminate` aborts the body's signal and terminates the thread if it has not ended within
 * `terminateGraceMs`.
 */
export class ThreadPoolRunner implements TaskRunner {
  readonly kind = 'threads';
  private readonly pool: Piscina;

  constructor(
    appModule: ThreadAppModule,
    threads: number,
    private readonly terminateGraceMs: number,
  ) {
    this.pool = new Piscina({
      filename: THREAD_ENTRY,
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 30_000,
      workerData: appModule,
    });
  }

  async run(task: BaseTask, args: RunArguments, context: RunContext): Promise<unknown> {
    const { port1, port2 } = new MessageChannel();
    const terminate = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    port1.on('message', (message: UpMessage) => {
      if (message.type === 'state') void context.reportState?.(message.state, message.meta);
    });
    const onAbort = (): void => {
      const reason: unknown = context.signal.reason;
      if (reason instanceof SoftTimeLimitExceeded) {
        port1.postMessage({ type: 'soft-limit', seconds: reason.seconds } satisfies DownMessage);
      } else if (reason instanceof TimeLimitExceeded) {
        terminate.abort(reason); // piscina terminates the thread running it
      } else if (reason instanceof TerminatedError) {
        port1.postMessage({ type: 'terminate', signum: reason.signum } satisfies DownMessage);
        grace = setTimeout(() => terminate.abort(reason), this.terminateGraceMs);
      }
    };
    context.signal.addEventListener('abort', onAbort);
    if (context.signal.aborted) onAbort(); // aborted before the thread was asked: tell it all the same
    try {
      const job: ThreadTask = {
        taskName: task.options.name,
        args: [...args.plain],
        request: context.request,
        port: port2,
      };
      const result = (await this.pool.run(job, {
        signal: terminate.signal,
        transferList: [port2],
      })) as ThreadResult;
      if (result.ok) return result.value;
      throw rebuildError(result.error, task.options.name);
    } finally {
      clearTimeout(grace);
      context.signal.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
