import { CliUsageError } from '../cli-error';
import { clientApp, type ClientAppOptions } from '../client-app';
import { confirm } from '../confirm';

export interface PurgeCommandOptions extends ClientAppOptions {
  queues?: string[];
  force: boolean;
}

const plural = (n: number) => `${n} message${n === 1 ? '' : 's'}`;

/**
 * `queue purge [-Q a,b] [-f]`: deletes the messages waiting in the queues (default: the App's
 * defaultQueue), as `celery purge`. Asks first on a terminal; without one it needs `-f`. Prints how many
 * messages each queue lost. Exit 0 when purged, 1 when the answer was no, 2 for usage errors.
 */
export async function runPurge(options: PurgeCommandOptions): Promise<number> {
  const app = await clientApp('purge', options);
  try {
    const transport = app.transport;
    if (!transport.purge || transport.displayUrl.startsWith('memory:')) {
      throw new CliUsageError(
        `the broker ${transport.displayUrl} cannot be purged from here (in-process memory:// queues live in their own process); use an amqp:// broker`,
      );
    }
    const queues = options.queues?.length ? options.queues : [app.defaultQueue];
    if (!options.force) {
      if (!process.stdin.isTTY) {
        throw new CliUsageError(
          `queue purge: not asking without a terminal; add -f to delete every waiting message in ${queues.join(', ')}`,
        );
      }
      const question = `Delete every waiting message in ${queues.join(', ')} on ${transport.displayUrl}? [y/N] `;
      if (!(await confirm(question))) {
        process.stderr.write('nothing purged\n');
        return 1;
      }
    }
    await app.connect();
    for (const queue of queues) {
      const purged = await transport.purge(queue);
      process.stdout.write(
        purged === undefined
          ? `no queue named ${queue}: nothing purged\n`
          : `purged ${plural(purged)} from ${queue}\n`,
      );
    }
    return 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
