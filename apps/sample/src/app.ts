import { App } from '@queue/core';

const amqpUrl = process.env.AMQP_URL || undefined;

if (amqpUrl) {
  // Registers amqp:// and rpc://. Core would load it by itself only from the working directory or from its
  // own folder, and under pnpm neither has it: the dependency is this app's. Not loaded on the memory broker.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@queue/amqp');
}

/**
 * The sample's App: the in-memory broker by default (web, worker and tasks in one process). With `AMQP_URL`
 * it publishes to RabbitMQ and receives states over Celery's `rpc://` backend, which delivers a task's
 * states only to the App that sent it.
 */
export const app = new App({
  name: 'hello_celery',
  broker: amqpUrl ?? 'memory://',
  resultBackend: amqpUrl ? 'rpc://' : 'memory://',
  defaultQueue: process.env.QUEUE ?? 'celery',
});
