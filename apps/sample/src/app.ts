import { App } from '@queue/core';

const amqpUrl = process.env.AMQP_URL || undefined;

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
