import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  clock,
  isAddressedTo,
  parseJsonBody,
  type BroadcastOptions,
  type ControlChannel,
  type ControlCommand,
  type ControlReply,
  type JsonValue,
  type Logger,
  type QueueStats,
} from '@queue/core/transport';
import type { AmqpConnection } from '../connection/amqp-connection';
import { amqpReplyCode, NOT_FOUND } from '../errors';
import type { CompiledAmqpOptions } from '../options';
import { long } from '../transport/header-values';

/** kombu's Mailbox entities for the control namespace `celery` (PROTOCOL-2 §2.1). */
export const PIDBOX_EXCHANGE = 'celery.pidbox';
export const PIDBOX_REPLY_EXCHANGE = 'reply.celery.pidbox';
const PIDBOX_QUEUE_ARGUMENTS = { 'x-expires': 10_000, 'x-message-ttl': 300_000 };
/** A request is small; a reply (`stats`, `active` of a busy worker) can be larger. */
const REQUEST_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32 };
const REPLY_LIMITS = { maxBytes: 16 * 1024 * 1024, maxDepth: 64 };

type JsonObject = Record<string, JsonValue>;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(value: JsonValue): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function headerClock(message: ConsumeMessage): number {
  const value: unknown = (message.properties.headers as Record<string, unknown> | undefined)?.clock;
  return typeof value === 'number' ? value : Number(value) || 0;
}

/** A request as kombu sends it, or the reason it is not one. */
function decodeRequest(
  raw: ConsumeMessage,
): { command: ControlCommand; ticket?: string; replyTo?: { exchange: string; routingKey: string } } | string {
  let body: JsonValue;
  try {
    body = parseJsonBody(raw.content, REQUEST_LIMITS);
  } catch (error) {
    return (error as Error).message;
  }
  if (!isObject(body)) return 'the body is not a JSON object';
  const { method, destination, pattern, matcher } = body;
  if (typeof method !== 'string') return 'no method';
  if (destination !== null && destination !== undefined && !Array.isArray(destination))
    return 'destination is neither a list nor null';
  const command: ControlCommand = {
    method,
    arguments: isObject(body.arguments) ? body.arguments : {},
    destination: destination ? destination.filter((name): name is string => typeof name === 'string') : null,
    pattern: typeof pattern === 'string' ? pattern : null,
    matcher: matcher === 'glob' || matcher === 'pcre' ? matcher : null,
  };
  const replyTo = body.reply_to;
  if (typeof body.ticket !== 'string' || !isObject(replyTo)) return { command };
  const { exchange, routing_key: routingKey } = replyTo;
  if (typeof exchange !== 'string' || typeof routingKey !== 'string') return { command };
  return { command, ticket: body.ticket, replyTo: { exchange, routingKey } };
}

/**
 * Celery's remote control over RabbitMQ, as kombu's Mailbox does it (PROTOCOL-2 §2): each worker consumes
 * `<hostname>.celery.pidbox` bound to the fanout exchange `celery.pidbox`; a client publishes a command there
 * and, when it wants answers, a ticket and a `reply_to` naming its own queue on `reply.celery.pidbox`. So
 * `celery inspect`, `celery control` and Flower see our workers, and `queue inspect` sees Celery's.
 */
export class AmqpControl implements ControlChannel {
  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: CompiledAmqpOptions,
    private readonly logger: Logger,
  ) {}

  async serve(
    hostname: string,
    handler: (command: ControlCommand) => Promise<JsonValue | undefined>,
  ): Promise<() => Promise<void>> {
    const queue = `${hostname}.celery.pidbox`;
    const managed = this.connection.channel(
      'plain',
      `pidbox:${hostname}`,
      async (channel: Channel) => {
        await channel.assertExchange(PIDBOX_EXCHANGE, 'fanout', { durable: false, autoDelete: false });
        await channel.assertQueue(queue, {
          durable: false,
          autoDelete: true,
          exclusive: false,
          arguments: PIDBOX_QUEUE_ARGUMENTS,
        });
        await channel.bindQueue(queue, PIDBOX_EXCHANGE, '');
        await channel.assertExchange(PIDBOX_REPLY_EXCHANGE, 'direct', { durable: false });
        await channel.consume(queue, (raw) => raw && void this.answer(channel, hostname, raw, handler), {
          noAck: true,
        });
      },
      true,
    );
    await managed.get(Date.now() + this.options.connectTimeoutMs);
    return () => managed.close();
  }

  async broadcast(command: ControlCommand, options: BroadcastOptions): Promise<ControlReply[]> {
    return this.withChannel(async (channel) => {
      await channel.assertExchange(PIDBOX_EXCHANGE, 'fanout', { durable: false, autoDelete: false });
      const request: JsonObject = {
        method: command.method,
        arguments: command.arguments,
        destination: command.destination,
        pattern: command.pattern ?? null,
        matcher: command.matcher ?? null,
      };
      if (!options.reply) {
        this.publishRequest(channel, request, options.timeoutMs);
        return [];
      }
      // One reply queue per call (kombu's is per client object): concurrent calls never share replies.
      const oid = randomUUID();
      const ticket = randomUUID();
      const queue = `${oid}.reply.celery.pidbox`;
      await channel.assertExchange(PIDBOX_REPLY_EXCHANGE, 'direct', { durable: false });
      await channel.assertQueue(queue, {
        durable: false,
        autoDelete: true,
        arguments: PIDBOX_QUEUE_ARGUMENTS,
      });
      await channel.bindQueue(queue, PIDBOX_REPLY_EXCHANGE, oid);
      return this.collect(channel, queue, ticket, options, () =>
        this.publishRequest(
          channel,
          { ...request, ticket, reply_to: { exchange: PIDBOX_REPLY_EXCHANGE, routing_key: oid } },
          options.timeoutMs,
        ),
      );
    });
  }

  async queueDepth(queue: string): Promise<number | undefined> {
    return (await this.queueStats(queue))?.messages;
  }

  async queueStats(queue: string): Promise<QueueStats | undefined> {
    return this.withChannel(async (channel) => {
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        return { messages: messageCount, consumers: consumerCount };
      } catch (error) {
        if (amqpReplyCode(error) === NOT_FOUND || /NOT_FOUND/.test(String(error))) return undefined;
        throw error;
      }
    });
  }

  private publishRequest(channel: Channel, request: JsonObject, timeoutMs: number): void {
    channel.publish(PIDBOX_EXCHANGE, '', json(request), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 0,
      headers: { clock: long(clock.forward()), expires: (Date.now() + timeoutMs) / 1000 },
    });
  }

  /**
   * Kombu's `_collect`: replies carrying our ticket, until `limit` of them or until `timeoutMs` passes with
   * none (the wait restarts with each reply).
   */
  private async collect(
    channel: Channel,
    queue: string,
    ticket: string,
    { timeoutMs, limit }: BroadcastOptions,
    send: () => void,
  ): Promise<ControlReply[]> {
    const replies: ControlReply[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const wait = (): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, timeoutMs);
    };
    const { consumerTag } = await channel.consume(
      queue,
      (raw) => {
        const headers = raw?.properties.headers as Record<string, unknown> | undefined;
        if (!raw || headers?.ticket !== ticket) return;
        clock.adjust(headerClock(raw));
        let body: JsonValue;
        try {
          body = parseJsonBody(raw.content, REPLY_LIMITS);
        } catch (error) {
          this.logger.warn(`ignored an unreadable control reply: ${(error as Error).message}`);
          return;
        }
        if (!isObject(body)) return;
        for (const [hostname, reply] of Object.entries(body)) replies.push({ hostname, reply });
        if (limit !== undefined && replies.length >= limit) finish();
        else wait();
      },
      { noAck: true },
    );
    send();
    wait();
    await finished;
    clearTimeout(timer);
    await channel.cancel(consumerTag).catch(() => undefined);
    return replies;
  }

  /** A short-lived channel of its own: a 404 or a slow collection must not disturb the shared ones. */
  private async withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
    const model = await this.connection.whenOpen(Date.now() + this.options.connectTimeoutMs);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      return await use(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Kombu's `Node.handle_message`: clock, addressing, the handler, and the reply when one is wanted. */
  private async answer(
    channel: Channel,
    hostname: string,
    raw: ConsumeMessage,
    handler: (command: ControlCommand) => Promise<JsonValue | undefined>,
  ): Promise<void> {
    clock.forward();
    clock.adjust(headerClock(raw));
    const request = decodeRequest(raw);
    if (typeof request === 'string') {
      this.logger.warn(`${hostname}: dropped a control message: ${request}`);
      return;
    }
    const { command, ticket, replyTo } = request;
    if (!isAddressedTo(command, hostname)) return;
    let reply: JsonValue | undefined;
    try {
      reply = await handler(command);
    } catch (error) {
      reply = { error: String((error as Error).message) };
    }
    if (reply === undefined || !ticket || !replyTo) return;
    // Any other exchange may not exist or be of another type: publishing there would close this channel.
    if (replyTo.exchange !== PIDBOX_REPLY_EXCHANGE) {
      this.logger.warn(
        `${hostname}: no reply to ${command.method}: foreign reply exchange ${replyTo.exchange}`,
      );
      return;
    }
    try {
      channel.publish(replyTo.exchange, replyTo.routingKey, json({ [hostname]: reply }), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 1,
        priority: 0,
        headers: { ticket, clock: long(clock.forward()) },
      });
    } catch (error) {
      // the channel closed meanwhile: the client gets no answer from us
      this.logger.warn(`${hostname}: could not reply to ${command.method}: ${(error as Error).message}`);
    }
  }
}
