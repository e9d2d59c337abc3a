import type { ControlReplies, JsonValue } from '@queue/core';
import { CliUsageError } from '../cli-error';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';

/** Celery's `inspect` commands (`queue inspect <method>` asks the same as `celery inspect <method>`). */
export const INSPECT_METHODS = [
  'ping',
  'stats',
  'active',
  'reserved',
  'scheduled',
  'registered',
  'revoked',
  'query_task',
  'active_queues',
  'clock',
  'conf',
  'report',
] as const;

export interface InspectCommandOptions extends ClientAppOptions {
  timeout: number;
  destination?: string[];
  queues?: string[];
  safe?: boolean;
}

/** Prints replies by hostname; exit 0 when a worker answered, 1 (with one line on stderr) when none did. */
export function printReplies(replies: ControlReplies, timeoutSeconds: number): number {
  process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
  if (Object.keys(replies).length > 0) return 0;
  process.stderr.write(`no worker answered within ${timeoutSeconds}s\n`);
  return 1;
}

/**
 * `queue inspect <method> [args…]`: asks running workers, ours and Celery's, over the broker's pidbox
 * (`query_task` takes task ids as arguments), or, for `queues`, reads queue depths from the broker. Prints
 * JSON keyed by worker hostname, in Celery's reply shapes.
 */
export async function runInspect(
  what: string,
  args: string[],
  options: InspectCommandOptions,
): Promise<number> {
  if (what !== 'queues' && !(INSPECT_METHODS as readonly string[]).includes(what)) {
    throw new CliUsageError(
      `inspect: unknown '${what}' (choose: ${[...INSPECT_METHODS, 'queues'].join(', ')})`,
    );
  }
  if (what === 'query_task' && args.length === 0)
    throw new CliUsageError('inspect query_task: give task ids');
  const app = clientApp('inspect', options);
  try {
    const control = controlOf(app);
    await app.connect();
    if (what === 'queues') {
      const queues = options.queues?.length ? options.queues : [app.defaultQueue];
      const depths: Record<string, number | null> = {};
      for (const queue of queues.flatMap((q) => [q, `${q}.dlq`])) {
        depths[queue] = (await app.transport.control!.queueDepth(queue)) ?? null;
      }
      process.stdout.write(`${JSON.stringify(depths, null, 2)}\n`);
      return 0;
    }
    const methodArgs: Record<string, JsonValue> =
      what === 'query_task' ? { ids: args } : what === 'active' ? { safe: options.safe ?? false } : {};
    const replies = await control.broadcast(what, methodArgs, {
      reply: true,
      timeout: options.timeout,
      destination: options.destination,
    });
    return printReplies(replies, options.timeout);
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
