import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import Redis from 'ioredis';
import { App, type AppOptions } from '@queue/core';
import '../src';

/** The local Redis, database 0 (keys are unique per test and deleted after). */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** The local RabbitMQ, for the tests that run Python Celery workers beside ours. */
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

/** Deletes test queues (and the direct exchanges named after them) from RabbitMQ. */
export async function deleteQueues(...queues: string[]): Promise<void> {
  const model = await connect(AMQP_URL);
  model.on('error', () => undefined);
  const channel = await model.createChannel();
  for (const queue of queues) {
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.deleteExchange(queue).catch(() => undefined);
  }
  await model.close();
}

let counter = 0;

/** An App with the redis:// backend; Apps given the same `broker` name share the in-memory broker. */
export function redisApp(broker: string, options: Partial<AppOptions> = {}): App {
  counter += 1;
  return new App({
    name: `redis-test-${counter}`,
    broker: `memory://${broker}`,
    resultBackend: REDIS_URL,
    setAsCurrent: false,
    ...options,
  });
}

export function uniqueName(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

/** A plain Redis client for looking at what the backend stored. */
export function redisAdmin(): Redis {
  return new Redis(REDIS_URL);
}
