import type { JsonValue } from '@queue/core';
import { CliUsageError } from '../cli-error';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';
import { broadcastAndPrint, type BroadcastOptions } from './replies';

export interface ControlCommandOptions extends ClientAppOptions, BroadcastOptions {
  terminate?: boolean;
  signal?: string;
}

/** `celery control` commands: their positional arguments, and how they become keyword arguments. */
const COMMANDS: Record<
  string,
  {
    usage: string;
    build: (args: string[], options: ControlCommandOptions) => Record<string, JsonValue> | undefined;
  }
> = {
  revoke: {
    usage: 'revoke <task id>... [--terminate] [--signal SIGTERM]',
    build: (args, options) =>
      args.length > 0
        ? { task_id: args, terminate: options.terminate ?? false, signal: options.signal ?? 'SIGTERM' }
        : undefined,
  },
  terminate: {
    usage: 'terminate <signal> <task id>...',
    build: ([signal, ...ids]) =>
      signal && ids.length > 0 ? { task_id: ids, terminate: true, signal } : undefined,
  },
  shutdown: { usage: 'shutdown', build: (args) => (args.length === 0 ? {} : undefined) },
  rate_limit: {
    usage: 'rate_limit <task name> <rate, e.g. 10/m>',
    build: ([task, rate, ...rest]) =>
      task && rate !== undefined && rest.length === 0 ? { task_name: task, rate_limit: rate } : undefined,
  },
  time_limit: {
    usage: 'time_limit <task name> <soft seconds> [hard seconds]',
    build: ([task, soft, hard, ...rest]) =>
      task && soft !== undefined && rest.length === 0
        ? { task_name: task, soft: Number(soft), hard: hard === undefined ? null : Number(hard) }
        : undefined,
  },
  add_consumer: {
    usage: 'add_consumer <queue>',
    build: ([queue, ...rest]) => (queue && !rest.length ? { queue } : undefined),
  },
  cancel_consumer: {
    usage: 'cancel_consumer <queue>',
    build: ([queue, ...rest]) => (queue && !rest.length ? { queue } : undefined),
  },
  pool_grow: {
    usage: 'pool_grow [n]',
    build: ([n = '1', ...rest]) => (/^\d+$/.test(n) && !rest.length ? { n: Number(n) } : undefined),
  },
  pool_shrink: {
    usage: 'pool_shrink [n]',
    build: ([n = '1', ...rest]) => (/^\d+$/.test(n) && !rest.length ? { n: Number(n) } : undefined),
  },
  enable_events: { usage: 'enable_events', build: (args) => (args.length === 0 ? {} : undefined) },
  disable_events: { usage: 'disable_events', build: (args) => (args.length === 0 ? {} : undefined) },
  heartbeat: { usage: 'heartbeat', build: (args) => (args.length === 0 ? {} : undefined) },
};

export const CONTROL_METHODS = Object.keys(COMMANDS);

/**
 * `queue control <method> [args…]`: Celery's control commands to running workers, ours and Celery's alike.
 * Waits for replies and prints them by hostname (exit 1 when none came), except `shutdown`, which workers
 * never answer.
 */
export async function runControl(
  method: string,
  args: string[],
  options: ControlCommandOptions,
): Promise<number> {
  const command = COMMANDS[method];
  if (!command)
    throw new CliUsageError(`control: unknown '${method}' (choose: ${CONTROL_METHODS.join(', ')})`);
  const methodArgs = command.build(args, options);
  if (!methodArgs) throw new CliUsageError(`control: usage: queue control ${command.usage}`);
  const app = await clientApp('control', options);
  try {
    const control = controlOf(app);
    await app.connect();
    if (method === 'shutdown') {
      await control.shutdown({ destination: options.destination });
      process.stderr.write(`shutdown sent to ${options.destination?.join(', ') ?? 'every worker'}\n`);
      return 0;
    }
    return await broadcastAndPrint(control, method, methodArgs, options);
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
