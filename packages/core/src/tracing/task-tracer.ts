import { ConfigurationError } from '../errors';
import type { TaskEnvelope, WireMessage } from '../protocol/message';
import type { DeliveryInfo } from '../task/request';

/** How one run ended, as far as its span cares (the worker's `Outcome`, kept apart to avoid an import circle). */
export type TracedOutcome =
  | { kind: 'success' | 'ignored' }
  | { kind: 'failure' | 'retry' | 'requeue'; error: Error }
  | { kind: 'rejected'; reason: string; requeue: boolean }
  | { kind: 'terminated'; signum: number };

/**
 * Spans around sending and running tasks. An App has one only with `tracing: true`; otherwise it holds
 * `undefined` and sends and runs pay one property check. @internal
 */
export interface TaskTracer {
  /** Runs `send` inside a producer span whose context is injected into `message.headers`. */
  publish(
    envelope: TaskEnvelope,
    message: WireMessage,
    queue: string,
    send: () => Promise<void>,
  ): Promise<void>;
  /** Runs `execute` inside a consumer span that continues the context the message carries. */
  run<T extends TracedOutcome>(
    envelope: TaskEnvelope,
    delivery: DeliveryInfo | null,
    hostname: string,
    execute: () => Promise<T>,
  ): Promise<T>;
}

/** `messaging.system` for a broker URL: RabbitMQ for the AMQP schemes, else the scheme itself. */
export function messagingSystemOf(broker: string): string {
  const scheme = broker.split(':')[0]?.toLowerCase() ?? '';
  return ['amqp', 'amqps', 'pyamqp'].includes(scheme) ? 'rabbitmq' : scheme || 'unknown';
}

/**
 * The tracer of an App with `tracing: true`, or undefined. `@opentelemetry/api` is loaded only here, so
 * an App without tracing never needs it installed.
 * @throws ConfigurationError when tracing is asked for and `@opentelemetry/api` is not installed.
 */
export function createTaskTracer(enabled: boolean, broker: string): TaskTracer | undefined {
  if (!enabled) return undefined;
  try {
    require.resolve('@opentelemetry/api');
  } catch (error) {
    throw new ConfigurationError(
      'tracing: true needs the @opentelemetry/api package (npm install @opentelemetry/api), plus an SDK to record spans',
      { cause: error },
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OtelTaskTracer } = require('./otel-task-tracer') as typeof import('./otel-task-tracer');
  return new OtelTaskTracer(messagingSystemOf(broker));
}
