import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ServerProperties } from 'amqplib';

type Step = [what: string, run: (channel: Channel) => Promise<unknown>];

/** The local RabbitMQ every benchmark uses unless told otherwise. */
export const DEFAULT_BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672//';

/** A queue name no other run or test uses, e.g. `bench.soak.3f9a1c2e`. */
export function uniqueQueueName(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

/** The URL with its password masked, for printing. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Deletes queues and exchanges a benchmark declared (Celery's topology gives each task queue a direct
 * exchange of the same name), on a connection of its own, each on its own channel (a refusal closes only
 * that one). Missing ones count as deleted. Returns one line per failure (empty: all gone).
 */
export async function deleteTopology(
  url: string,
  { queues = [], exchanges = [] }: { queues?: string[]; exchanges?: string[] },
  timeoutMs = 10_000,
): Promise<string[]> {
  const failures: string[] = [];
  const work = async () => {
    const model = await connect(url, { timeout: Math.min(timeoutMs, 5_000) });
    model.on('error', () => undefined);
    try {
      const steps: Step[] = [
        ...queues.map((name): Step => [`queue ${name}`, (channel) => channel.deleteQueue(name)]),
        ...exchanges.map((name): Step => [`exchange ${name}`, (channel) => channel.deleteExchange(name)]),
      ];
      for (const [what, step] of steps) {
        const channel = await model.createChannel();
        channel.on('error', () => undefined);
        try {
          await step(channel);
        } catch (error) {
          if (!/NOT_FOUND/.test(String(error))) failures.push(`${what}: ${(error as Error).message}`);
        } finally {
          await channel.close().catch(() => undefined);
        }
      }
    } finally {
      await model.close().catch(() => undefined);
    }
  };
  try {
    await withTimeout(work(), timeoutMs, 'deleting the benchmark topology');
  } catch (error) {
    failures.push((error as Error).message);
  }
  return failures;
}

/** What RabbitMQ says of itself when a connection opens (`product`, `version`, …). */
export async function rabbitServerProperties(url: string, timeoutMs = 10_000): Promise<ServerProperties> {
  const work = async () => {
    const model = await connect(url, { timeout: Math.min(timeoutMs, 5_000) });
    model.on('error', () => undefined);
    try {
      return { ...model.connection.serverProperties };
    } finally {
      await model.close().catch(() => undefined);
    }
  };
  return withTimeout(work(), timeoutMs, 'reading the RabbitMQ server properties');
}
