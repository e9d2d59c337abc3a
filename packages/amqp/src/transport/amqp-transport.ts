import type { Channel, ConfirmChannel, MessageProperties, Options } from 'amqplib';
import {
  getTaskLogger,
  LockLostError,
  publishFence,
  TransportError,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type Logger,
  type PublishOptions,
  type TransportLock,
  type Transport,
  type WireMessage,
} from '@queue/core/transport';
import { AmqpConnection } from '../connection/amqp-connection';
import { amqpReplyCode, BrokerUnavailableError, NOT_FOUND, PublishTimeoutError } from '../errors';
import { AmqpControl } from '../control/amqp-control';
import { AmqpEvents } from '../events/amqp-events';
import { AmqpLocks } from '../locks/amqp-locks';
import { parseBrokerUrls } from '../connection/broker-url';
import type { ManagedChannel } from '../connection/managed-channel';
import { compileAmqpOptions, type CompiledAmqpOptions } from '../options';
import { delayedRoutingKey, TOP_LEVEL_EXCHANGE } from '../topology/delayed-delivery';
import { deadLetterQueueName, Topology } from '../topology/topology';
import { AckBatcher } from './ack-batcher';
import { ConfirmDeadlines } from './confirm-deadlines';
import { AmqpDelivery, type DeadLetterer } from './amqp-delivery';
import { celeryHeaders } from './header-values';

/**
 * Header of a dead-lettered copy (next to the original headers): the stable reason code it was refused with.
 */
export const REJECT_REASON_HEADER = 'x-queue-reject-reason';
/** Header of a dead-lettered copy: the readable detail of why it was refused. */
export const REJECT_DETAIL_HEADER = 'x-queue-reject-detail';
/** Header of a dead-lettered copy: the queue the message was consumed from. */
export const ORIGINAL_QUEUE_HEADER = 'x-queue-original-queue';

/** A nacked publish goes out again on a fresh channel, at most once a second (see ManagedChannel.retire). */
const NACKED_CHANNEL_MIN_AGE_MS = 1000;

/** Ref'd: a publish retrying after a lost channel must keep its process alive until it settles. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function publishOptions(message: WireMessage, delayed: boolean): Options.Publish {
  const p = message.properties;
  return {
    headers: celeryHeaders(message.headers),
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    correlationId: p.correlationId,
    replyTo: p.replyTo || undefined,
    deliveryMode: p.deliveryMode ?? 2,
    priority: p.priority,
    // A per-message TTL would expire the message inside the delay levels and release it early.
    expiration: delayed ? undefined : p.expiration,
  };
}

/** The delivery's own properties, for a faithful dead-lettered copy. */
function copyOptions(properties: MessageProperties, headers: Record<string, unknown>): Options.Publish {
  const options: Options.Publish = { headers, deliveryMode: 2 };
  for (const key of [
    'contentType',
    'contentEncoding',
    'correlationId',
    'replyTo',
    'priority',
    'messageId',
    'timestamp',
    'type',
    'appId',
  ] as const) {
    if (properties[key] !== undefined) Object.assign(options, { [key]: properties[key] });
  }
  return options;
}

/** A fenced publish goes out only while its lock is held (on the connection that declared it). */
function checkFence(fence: TransportLock): void {
  if (!fence.held) throw new LockLostError(fence.name);
}

/**
 * `amqp://`, `amqps://`, `pyamqp://`: task messages through RabbitMQ, in Celery 5's topology (durable queue
 * per name, published through the default exchange), on one connection per App. Publishes wait for the
 * broker's confirm; deliveries are acked manually; delays live in the broker (see delayed-delivery.ts).
 */
export class AmqpTransport implements Transport {
  readonly displayUrl: string;
  /** The `transportOptions` in effect, defaults filled in. */
  readonly options: CompiledAmqpOptions;
  /** The connection to the broker (failover between URLs, reconnects by itself). */
  readonly connection: AmqpConnection;
  /** Declares the queues, exchanges and bindings in use, once per connection. */
  readonly topology: Topology;
  /** Remote control of running workers (`queue inspect`, `queue status`). */
  readonly control: AmqpControl;
  /** Celery's event stream (`celeryev`): worker and task events for monitors (`queue events`, Flower). */
  readonly events: AmqpEvents;
  /** Named locks as exclusive queues on this connection (one active `queue beat`). */
  readonly locks: AmqpLocks;
  private readonly publisher: ManagedChannel;
  private readonly confirmDeadlines = new ConfirmDeadlines();
  /** The ack batchers of the live consumer channels: flushed before the connection closes. */
  private readonly ackBatchers = new Set<AckBatcher>();
  private readonly logger: Logger;

  constructor(url: string, transportOptions: Readonly<Record<string, unknown>> = {}) {
    this.options = compileAmqpOptions(transportOptions);
    this.logger = getTaskLogger('queue.amqp');
    this.connection = new AmqpConnection(
      parseBrokerUrls(url, this.options),
      {
        connectTimeoutMs: this.options.connectTimeoutMs,
        initialDelayMs: this.options.reconnectInitialDelayMs,
        maxDelayMs: this.options.reconnectMaxDelayMs,
        failover: this.options.failoverStrategy,
        maxWaitingPublishes: this.options.maxWaitingPublishes,
      },
      this.logger,
    );
    this.displayUrl = this.connection.displayUrl;
    this.topology = new Topology(this.connection, this.options);
    this.publisher = this.connection.channel('confirm', 'publisher', async () => undefined, false);
    this.control = new AmqpControl(this.connection, this.options, this.logger);
    this.events = new AmqpEvents(this.connection, this.options, this.logger);
    this.locks = new AmqpLocks(this.connection, this.options.connectTimeoutMs, this.logger);
  }

  /**
   * Connects once, trying each broker URL in turn until `connectTimeoutMs`; later calls share the first
   * attempt. After that, the connection restores itself when lost.
   */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  onReconnect(listener: () => void): () => void {
    return this.connection.onRestored(listener);
  }

  async publish(message: WireMessage, { queue, delayMs = 0 }: PublishOptions): Promise<void> {
    const fence = publishFence();
    if (fence) checkFence(fence); // a lost lock fails at once, without waiting out a reconnect below
    const deadline = Date.now() + this.options.publishTimeoutMs;
    // Whole seconds go through the broker; the worker holds the remaining fraction (it checks the `eta`).
    const seconds = Math.floor(delayMs / 1000);
    if (seconds >= 1) {
      await this.topology.delayedDeliveryTo(queue, deadline);
      await this.send(
        TOP_LEVEL_EXCHANGE,
        delayedRoutingKey(seconds, queue),
        publishOptions(message, true),
        message.body,
        deadline,
      );
    } else {
      await this.topology.taskQueue(queue, deadline);
      await this.send('', queue, publishOptions(message, false), message.body, deadline);
    }
  }

  /**
   * Publishes on the confirm channel and resolves on the broker's confirm. If the channel dies first, or the
   * broker nacks the message (a quorum queue electing a new leader, a full `reject-publish` queue), it is
   * published again, on the next channel if need be (at-least-once), until `deadline`. While RabbitMQ
   * blocks publishing (alarm) nothing is written: the publish waits, bounded by `deadline` and
   * `maxWaitingPublishes`. Inside `whileHolding(lock, …)` it is written only on the connection that holds
   * `lock`: once that one is gone it fails with `LockLostError` instead of waiting or publishing again.
   */
  async send(
    exchange: string,
    routingKey: string,
    options: Options.Publish,
    body: Buffer,
    deadline: number,
  ): Promise<void> {
    const fence = publishFence();
    for (let attempt = 0; ; attempt++) {
      if (fence) checkFence(fence);
      // At full speed the connection is open and the channel there: no waiting, no extra promise.
      let channel = this.connection.isWritable
        ? (this.publisher.peek() as ConfirmChannel | undefined)
        : undefined;
      if (!channel) {
        await this.connection.whenOpen(deadline, { writable: true });
        channel = await this.publisher.getConfirm(deadline);
      }
      // Checked again after the waits, with nothing asynchronous before the write below.
      if (fence) checkFence(fence);
      try {
        await this.confirmed(channel, exchange, routingKey, options, body, deadline);
        return;
      } catch (error) {
        if (error instanceof BrokerUnavailableError) throw error;
        const text = (error as Error).message ?? String(error);
        if (error instanceof RangeError) throw new TransportError(`message cannot be encoded: ${text}`);
        const nacked = /nack/i.test(text);
        if (nacked) this.publisher.retire(channel, NACKED_CHANNEL_MIN_AGE_MS);
        const pause = Math.min(1000, 50 * 2 ** Math.min(attempt, 5));
        if (Date.now() + pause >= deadline) {
          throw new TransportError(
            nacked
              ? `RabbitMQ refused the message for ${routingKey || exchange} until the publish timeout (${text}): is the queue full (x-overflow reject-publish) or without a leader?`
              : `publish to ${routingKey || exchange} failed: ${text}`,
            { cause: error },
          );
        }
        await sleep(pause); // unconfirmed or refused for now: publish again (on the successor channel)
      }
    }
  }

  /** One publish and its confirm, given up at `deadline` (the confirm may still come: at-least-once). */
  private confirmed(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    options: Options.Publish,
    body: Buffer,
    deadline: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const confirmed = this.confirmDeadlines.track(deadline, () => {
        const what = `publish to ${routingKey || exchange} not confirmed within ${this.options.publishTimeoutMs} ms`;
        reject(
          this.connection.blockedReason
            ? this.connection.unavailable(what)
            : new PublishTimeoutError(`RabbitMQ at ${this.connection.currentUrl}: ${what}`),
        );
      });
      channel.publish(exchange, routingKey, body, options, (error: unknown) => {
        confirmed();
        if (error) reject(error as Error);
        else resolve();
      });
    });
  }

  async consume(
    queue: string,
    handler: (delivery: Delivery) => void,
    options: ConsumeOptions,
  ): Promise<Consumer> {
    let { prefetch } = options;
    // Declared first on the topology channel: a queue with other arguments fails here, once, clearly.
    await this.topology.taskQueue(queue, Date.now() + this.options.connectTimeoutMs);
    let consumerTag: string | undefined;
    const managed: ManagedChannel = this.connection.channel(
      'plain',
      `consumer:${queue}`,
      async (channel: Channel) => {
        await this.topology.taskQueue(queue, Date.now() + this.options.connectTimeoutMs);
        await channel.prefetch(prefetch);
        const acks = new AckBatcher(channel, () => managed.isCurrent(channel));
        this.ackBatchers.add(acks);
        channel.once('close', () => this.ackBatchers.delete(acks));
        const reply = await channel.consume(
          queue,
          (raw) => {
            if (raw === null) return this.cancelledByBroker(queue, channel);
            acks.delivered(raw.fields.deliveryTag);
            handler(new AmqpDelivery(managed, channel, acks, raw, queue, this.deadLetter));
          },
          { noAck: false },
        );
        consumerTag = reply.consumerTag;
      },
      true,
    );
    await managed.get(Date.now() + this.options.connectTimeoutMs);
    return {
      cancel: async () => {
        managed.stopRecovering();
        const channel = managed.peek();
        if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
      },
      // basic.qos on the live channel; a channel opened after a reconnect takes the new value in its setup.
      setPrefetch: async (next: number) => {
        prefetch = next;
        await managed.peek()?.prefetch(next);
      },
    };
  }

  /** `queue.purge` on a short-lived channel of its own (a missing queue closes it: undefined, not an error). */
  async purge(queue: string): Promise<number | undefined> {
    const model = await this.connection.whenOpen(Date.now() + this.options.connectTimeoutMs);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.purgeQueue(queue)).messageCount;
    } catch (error) {
      if (amqpReplyCode(error) === NOT_FOUND || /NOT_FOUND/.test(String(error))) return undefined;
      throw new TransportError(`purging ${queue} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Acks of finished runs go out first; unacked deliveries return to their queues when the channels close. */
  async close(): Promise<void> {
    for (const acks of this.ackBatchers) acks.flush();
    await this.connection.close();
  }

  /** The queue was deleted (or the consumer cancelled by an operator): re-declare and re-subscribe. */
  private cancelledByBroker(queue: string, channel: Channel): void {
    this.logger.warn(`the broker cancelled the consumer of ${queue}; re-subscribing`);
    this.topology.forget(queue);
    void channel.close().catch(() => undefined);
  }

  /** Keeps a copy, with the reason in its headers, in `<queue>.dlq` (confirmed before the original is acked). */
  private readonly deadLetter: DeadLetterer = async (delivery, reason, detail) => {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    await this.topology.deadLetterQueue(delivery.queue, deadline);
    const headers = {
      ...((delivery.raw.properties.headers as Record<string, unknown> | undefined) ?? {}),
      [REJECT_REASON_HEADER]: reason,
      [REJECT_DETAIL_HEADER]: detail.slice(0, 1000),
      [ORIGINAL_QUEUE_HEADER]: delivery.queue,
    };
    await this.send(
      '',
      deadLetterQueueName(delivery.queue),
      copyOptions(delivery.raw.properties, headers),
      delivery.raw.content,
      deadline,
    );
  };
}
