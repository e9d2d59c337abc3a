import { App } from '@queue/core';

const amqpUrl = process.env.AMQP_URL || undefined;
/** `quorum` for a RabbitMQ cluster (docker/compose.cluster.yaml): replicated task queues. */
const queueType = process.env.QUEUE_TYPE || undefined;
/** Seconds the first connection may take before the start fails. */
const connectTimeout = Number(process.env.AMQP_CONNECT_TIMEOUT) || undefined;

/**
 * The sample's App: the in-memory broker by default (web, worker and tasks in one process). With `AMQP_URL`
 * it publishes to RabbitMQ and receives states over Celery's `rpc://` backend, which delivers a task's
 * states only to the App that sent it. `AMQP_URL` may list several brokers, `;`-separated, for failover.
 */
export const app = new App({
  name: 'hello_celery',
  broker: amqpUrl ?? 'memory://',
  resultBackend: amqpUrl ? 'rpc://' : 'memory://',
  defaultQueue: process.env.QUEUE ?? 'celery',
  transportOptions: amqpUrl
    ? {
        ...(queueType ? { queueType } : {}),
        ...(connectTimeout ? { connectTimeoutMs: Math.round(connectTimeout * 1000) } : {}),
      }
    : {},
});
