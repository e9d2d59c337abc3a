import { RemoteTaskError, TimeoutError } from '@queue/core';
import { clientApp, type ClientAppOptions } from '../client-app';

export interface CallCommandOptions extends ClientAppOptions {
  args: unknown[];
  kwargs: Record<string, unknown>;
  countdown?: number;
  queue?: string;
  wait: boolean;
  timeout: number;
}

/**
 * `queue call <task>`: sends a task by name (it may live in a Python worker) and, with --wait, prints its
 * result as JSON. Exit 0 on success, 1 when the task failed or timed out.
 */
export async function runCall(taskName: string, options: CallCommandOptions): Promise<number> {
  const app = clientApp('call', options);
  try {
    const result = await app.sendTask(taskName, options.args, options.kwargs, {
      countdown: options.countdown,
      queue: options.queue,
    });
    process.stderr.write(`sent ${taskName}[${result.id}]\n`);
    if (!options.wait) {
      process.stdout.write(`${result.id}\n`);
      return 0;
    }
    try {
      const value = await result.get({ timeout: options.timeout });
      process.stdout.write(`${JSON.stringify(value)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof RemoteTaskError) {
        process.stderr.write(`FAILURE ${error.excType}: ${error.excMessage}\n`);
        return 1;
      }
      if (error instanceof TimeoutError) {
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
      throw error;
    }
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
