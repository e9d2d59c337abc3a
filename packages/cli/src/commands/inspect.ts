import type { JsonValue } from '@queue/core';
import { CliUsageError } from '../cli-error';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';
import { broadcastAndPrint, type BroadcastOptions } from './replies';

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

export interface InspectCommandOptions extends ClientAppOptions, BroadcastOptions {
  queues?: string[];
  safe?: boolean;
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
  const app = await clientApp('inspect', options);
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
    return await broadcastAndPrint(control, what, methodArgs, options);
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
