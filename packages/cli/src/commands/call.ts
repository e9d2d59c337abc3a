import { States, TimeoutError, type App } from '@queue/core';
import { clientApp, type ClientAppOptions } from '../client-app';
import { followStates } from '../progress/follow-states';
import { rendererFor } from '../progress/renderer';

export interface CallCommandOptions extends ClientAppOptions {
  args: unknown[];
  kwargs: Record<string, unknown>;
  countdown?: number;
  queue?: string;
  wait: boolean;
  timeout: number;
}

/**
 * `queue call <task>`: sends a task by name (it may live in a Python worker). With --wait it follows the
 * task's states on stderr (a progress bar on a terminal, one line per state otherwise) and prints the
 * result as JSON on stdout. Exit 0 on success; 1 on FAILURE or REVOKED (`FAILURE Type: message`) or when
 * the wait timed out.
 */
/** A queue nobody consumes holds the task until a worker comes: say so at once, not after --timeout. */
async function warnWithoutConsumer(app: App, queue: string): Promise<void> {
  const stats = await app.transport.control?.queueStats(queue).catch(() => undefined);
  if (stats && stats.consumers === 0) {
    process.stderr.write(
      `warning: no worker consumes queue '${queue}' (${stats.messages} message(s) waiting); start one on it, or send elsewhere with --queue\n`,
    );
  }
}

export async function runCall(taskName: string, options: CallCommandOptions): Promise<number> {
  const app = await clientApp('call', options);
  try {
    const result = await app.sendTask(taskName, options.args, options.kwargs, {
      countdown: options.countdown,
      queue: options.queue,
    });
    // The queue sendTask chose (as applyTask does): said, and checked, since a wrong one means silence.
    const queue = options.queue ?? app.findTask(taskName)?.options.queue ?? app.defaultQueue;
    process.stderr.write(`sent ${taskName}[${result.id}] to queue '${queue}'\n`);
    await warnWithoutConsumer(app, queue);
    if (!options.wait) {
      process.stdout.write(`${result.id}\n`);
      return 0;
    }
    const renderer = rendererFor(process.stderr);
    const outcome = await followStates(result, options.timeout * 1000, (change) => renderer.update(change));
    renderer.end();
    if (outcome.timedOut) {
      process.stderr.write(`${new TimeoutError(result.id, options.timeout).message}\n`);
      return 1;
    }
    if (outcome.last.state !== States.SUCCESS) return 1; // the renderer printed `FAILURE Type: message`
    process.stdout.write(`${JSON.stringify(outcome.last.info)}\n`);
    return 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
