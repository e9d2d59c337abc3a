import type { CeleryEvent } from '../protocol/celery-events';

export type { CeleryEvent };

/**
 * An optional transport capability: Celery's event stream (over RabbitMQ, the topic exchange `celeryev`),
 * so that `celery events`, Flower and `queue events` see our workers and tasks, and we see theirs.
 */
export interface EventChannel {
  /** Publishes one event (routing key: its type with `-` → `.`, as Celery). */
  publish(event: CeleryEvent): Promise<void>;
  /**
   * Receives every event (a private queue bound with `#`); Celery's batched `task.multi` list bodies are
   * unpacked. Returns the function that stops listening.
   */
  listen(handler: (event: CeleryEvent) => void): Promise<() => Promise<void>>;
}
