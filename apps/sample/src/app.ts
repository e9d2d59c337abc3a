import { App } from '@queue/core';

const amqpUrl = process.env.AMQP_URL || undefined;
/** `quorum` for a RabbitMQ cluster (docker/compose.cluster.yaml): replicated task queues. */
const queueType = process.env.QUEUE_TYPE || undefined;
/** Seconds the first connection may take before the start fails. */
const connectTimeout = Number(process.env.AMQP_CONNECT_TIMEOUT) || undefined;

/**
 * Where task states are kept: `RESULT_BACKEND` when set (`redis://…`, `postgresql://…`, `rpc://`), else the
 * records' PostgreSQL (`DATABASE_URL`: every process, and a restarted one, reads every task's state), else
 * `rpc://` with RabbitMQ (only the sending process sees the states), else in memory.
 */
export function resultBackendFor(env: NodeJS.ProcessEnv): string {
  if (env.RESULT_BACKEND) return env.RESULT_BACKEND;
  if (env.DATABASE_URL) return env.DATABASE_URL;
  return env.AMQP_URL ? 'rpc://' : 'memory://';
}

/**
 * The sample's App: the in-memory broker by default (web, worker and tasks in one process). With `AMQP_URL`
 * it publishes to RabbitMQ; `AMQP_URL` may list several brokers, `;`-separated, for failover.
 */
export const app = new App({
  name: 'hello_celery',
  broker: amqpUrl ?? 'memory://',
  resultBackend: resultBackendFor(process.env),
  defaultQueue: process.env.QUEUE ?? 'celery',
  transportOptions: amqpUrl
    ? {
        ...(queueType ? { queueType } : {}),
        ...(connectTimeout ? { connectTimeoutMs: Math.round(connectTimeout * 1000) } : {}),
      }
    : {},
});
