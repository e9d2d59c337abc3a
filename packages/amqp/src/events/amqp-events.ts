import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  clock,
  parseJsonBody,
  TransportError,
  type CeleryEvent,
  type EventChannel,
  type JsonValue,
  type Logger,
} from '@queue/core/transport';
import type { AmqpConnection } from '../connection/amqp-connection';
import type { ManagedChannel } from '../connection/managed-channel';
import type { CompiledAmqpOptions } from '../options';

/** Celery's `event_exchange` on AMQP: topic and durable, as kombu declares it (PROTOCOL-2 §3.1). */
export const EVENT_EXCHANGE = 'celeryev';
/** `event_queue_ttl` 5 s and `event_queue_expires` 60 s, as Celery's `EventReceiver` declares its queue (§3.6). */
const RECEIVER_QUEUE_ARGUMENTS = { 'x-message-ttl': 5000, 'x-expires': 60_000 };
/**
 * Events are flat (a `task.multi` list adds one level); reprs of big arguments make them long, not deep.
 * Generous enough for a batch of a busy worker, small enough that a hostile body cannot hurt.
 */
const EVENT_LIMITS = { maxBytes: 4 * 1024 * 1024, maxDepth: 32 };

function isEvent(value: JsonValue): value is CeleryEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Record<string, JsonValue>).type === 'string'
  );
}

/** Celery's routing key for an event published on its own: `task-succeeded` → `task.succeeded`. */
export function eventRoutingKey(type: string): string {
  return type.replace(/-/g, '.');
}

/**
 * Celery's event stream over RabbitMQ (PROTOCOL-2 §3): events go to the topic exchange `celeryev`, one
 * message each, so `celery events`, Flower and `queue events` see our workers; `listen` reads everything
 * there through a private `celeryev.<uuid>` queue, Python workers' `task.multi` batches included.
 */
export class AmqpEvents implements EventChannel {
  /** One channel for every publish, opened on the first one; its setup declares the exchange once per channel. */
  private publisher: ManagedChannel | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: CompiledAmqpOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Writes the event as the caller built it (clock and timestamp included). Best-effort, as Celery's
   * dispatcher: no confirm, not persistent. Rejects (typed) when no connection is usable within
   * `connectTimeoutMs`, and at once while RabbitMQ blocks publishers: waiting out an alarm would only pile
   * heartbeats up in the socket, and queue them ahead of the task publishes that matter.
   */
  async publish(event: CeleryEvent): Promise<void> {
    if (this.connection.blockedReason) {
      throw this.connection.unavailable(`event ${event.type} not published`);
    }
    const deadline = Date.now() + this.options.connectTimeoutMs;
    const body = Buffer.from(JSON.stringify(event));
    const hostname = event.hostname;
    const properties = {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 1,
      priority: 0,
      headers: typeof hostname === 'string' ? { hostname } : {},
    };
    // Two tries: a channel that died between `get` and the write is replaced once, then we give up.
    for (let attempt = 0; ; attempt++) {
      let channel: Channel;
      try {
        channel = this.publisherChannel().peek() ?? (await this.publisherChannel().get(deadline));
      } catch (error) {
        if (error instanceof TransportError) throw error;
        throw new TransportError(`event ${event.type} not published: ${(error as Error).message}`, {
          cause: error,
        });
      }
      try {
        const written = channel.publish(EVENT_EXCHANGE, eventRoutingKey(event.type), body, properties);
        if (!written) await drained(channel, deadline);
        return;
      } catch (error) {
        if (attempt >= 1 || Date.now() >= deadline) {
          throw new TransportError(`event ${event.type} not published: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
    }
  }

  async listen(handler: (event: CeleryEvent) => void): Promise<() => Promise<void>> {
    const queue = `celeryev.${randomUUID()}`;
    const managed = this.connection.channel(
      'plain',
      `events:${queue}`,
      async (channel: Channel) => {
        await assertEventExchange(channel);
        // Auto-delete: the queue goes with its consumer; after a reconnect this setup declares it again.
        await channel.assertQueue(queue, {
          durable: false,
          autoDelete: true,
          exclusive: false,
          arguments: RECEIVER_QUEUE_ARGUMENTS,
        });
        await channel.bindQueue(queue, EVENT_EXCHANGE, '#');
        await channel.consume(
          queue,
          (raw) => {
            if (raw === null) return this.cancelledByBroker(queue, channel);
            this.receive(raw, handler);
          },
          { noAck: true },
        );
      },
      true,
    );
    try {
      await managed.get(Date.now() + this.options.connectTimeoutMs);
    } catch (error) {
      await managed.close();
      throw error;
    }
    return () => managed.close();
  }

  private publisherChannel(): ManagedChannel {
    this.publisher ??= this.connection.channel('plain', 'events-publisher', assertEventExchange, false);
    return this.publisher;
  }

  /** One message: an event, or (Celery 4+ `task.multi`) a list of them, possibly empty. */
  private receive(raw: ConsumeMessage, handler: (event: CeleryEvent) => void): void {
    const contentType = raw.properties.contentType as string | undefined;
    if (contentType !== undefined && contentType !== 'application/json') {
      this.logger.warn(
        `dropped an event message (${raw.fields.routingKey}) in ${contentType}: only JSON is read`,
      );
      return;
    }
    let body: JsonValue;
    try {
      body = parseJsonBody(raw.content, EVENT_LIMITS);
    } catch (error) {
      this.logger.warn(
        `dropped an unreadable event message (${raw.fields.routingKey}): ${(error as Error).message}`,
      );
      return;
    }
    for (const item of Array.isArray(body) ? body : [body]) {
      if (!isEvent(item)) continue;
      if (typeof item.clock === 'number') clock.adjust(item.clock);
      try {
        handler(item);
      } catch (error) {
        // The consumer must outlive a faulty handler: the next event is as welcome as this one was.
        this.logger.warn(`event handler failed on ${item.type}: ${(error as Error).message}`);
      }
    }
  }

  /** The queue was deleted (or the consumer cancelled by an operator): a new channel declares it again. */
  private cancelledByBroker(queue: string, channel: Channel): void {
    this.logger.warn(`the broker cancelled the event consumer of ${queue}; re-subscribing`);
    void channel.close().catch(() => undefined);
  }
}

function assertEventExchange(channel: Channel): Promise<void> {
  return channel
    .assertExchange(EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false })
    .then(() => undefined);
}

/** amqplib asks writers to wait for `drain` when its buffer is full; bounded, since events are best-effort. */
function drained(channel: Channel, deadline: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
    channel.once('drain', done);
    channel.once('close', done);
  });
}
