import { App } from '@queue/core';

/**
 * The sample's App: the in-memory broker by default (web, worker and tasks in one process), RabbitMQ when
 * `AMQP_URL` is set.
 */
export const app = new App({
  name: 'hello_celery',
  broker: process.env.AMQP_URL ?? 'memory://',
  defaultQueue: process.env.QUEUE ?? 'celery',
});
