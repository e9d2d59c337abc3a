import type { ControlReply } from '@queue/core/transport';
import { CliUsageError } from '../cli-error';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';

export const INSPECT_METHODS = ['ping', 'registered', 'active', 'reserved', 'stats', 'queues'] as const;

export interface InspectCommandOptions extends ClientAppOptions {
  timeout: number;
  destination?: string[];
  queues?: string[];
}

/**
 * `queue inspect <what>`: asks running workers over the broker's control channel (a fanout exchange, see
 * @queue/amqp), or, for `queues`, reads queue depths from the broker. Prints JSON keyed by worker hostname.
 * Exit 0 when at least one worker answered (or for `queues`), 1 when none did.
 */
export async function runInspect(what: string, options: InspectCommandOptions): Promise<number> {
  if (!(INSPECT_METHODS as readonly string[]).includes(what)) {
    throw new CliUsageError(`inspect: unknown '${what}' (choose: ${INSPECT_METHODS.join(', ')})`);
  }
  const app = clientApp('inspect', options);
  try {
    const control = controlOf(app);
    await app.connect();
    if (what === 'queues') {
      const queues = options.queues?.length ? options.queues : [app.defaultQueue];
      const depths: Record<string, number | null> = {};
      for (const queue of queues.flatMap((q) => [q, `${q}.dlq`])) {
        depths[queue] = (await control.queueDepth(queue)) ?? null;
      }
      process.stdout.write(`${JSON.stringify(depths, null, 2)}\n`);
      return 0;
    }
    const replies = await control.broadcast(
      { method: what, arguments: {}, destination: options.destination ?? [] },
      options.timeout * 1000,
    );
    process.stdout.write(`${JSON.stringify(byHostname(replies), null, 2)}\n`);
    if (replies.length === 0) {
      process.stderr.write(`no worker answered within ${options.timeout}s\n`);
      return 1;
    }
    return 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}

export function byHostname(replies: readonly ControlReply[]): Record<string, unknown> {
  return Object.fromEntries(
    replies.map((reply) => [reply.hostname, reply.error ? { error: reply.error } : reply.ok]),
  );
}
