import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  parseJsonBody,
  type ControlChannel,
  type ControlCommand,
  type ControlReply,
  type JsonValue,
  type Logger,
} from '@queue/core/transport';
import type { AmqpConnection } from '../connection/amqp-connection';
import { amqpReplyCode, NOT_FOUND } from '../errors';
import type { CompiledAmqpOptions } from '../options';

/** Fanout exchange every worker's control queue is bound to (ours, not Celery's `celery.pidbox`). */
export const CONTROL_EXCHANGE = 'queue.control';
const CONTROL_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32 };

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parse(message: ConsumeMessage): Record<string, JsonValue> | undefined {
  try {
    const body = parseJsonBody(message.content, CONTROL_LIMITS);
    return body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remote control over RabbitMQ, as Celery's pidbox in spirit: each worker consumes a private queue
 * `<hostname>.queue.control` (auto-delete, messages live 5 min) bound to the fanout exchange `queue.control`;
 * a client publishes a command there with a private reply queue and collects answers for a short while.
 */
export class AmqpControl implements ControlChannel {
  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: CompiledAmqpOptions,
    private readonly logger: Logger,
  ) {}

  async serve(
    hostname: string,
    handler: (command: ControlCommand) => Promise<JsonValue>,
  ): Promise<() => Promise<void>> {
    const queue = `${hostname}.queue.control`;
    const managed = this.connection.channel(
      'plain',
      `control:${hostname}`,
      async (channel: Channel) => {
        await channel.assertExchange(CONTROL_EXCHANGE, 'fanout', { durable: false });
        await channel.assertQueue(queue, {
          durable: false,
          autoDelete: true,
          arguments: { 'x-message-ttl': 300_000, 'x-expires': 10_000 },
        });
        await channel.bindQueue(queue, CONTROL_EXCHANGE, '');
        await channel.consume(queue, (raw) => raw && void this.answer(channel, hostname, raw, handler), {
          noAck: true,
        });
      },
      true,
    );
    await managed.get(Date.now() + this.options.connectTimeoutMs);
    return () => managed.close();
  }

  async broadcast(command: ControlCommand, timeoutMs: number): Promise<ControlReply[]> {
    return this.withChannel(async (channel) => {
      await channel.assertExchange(CONTROL_EXCHANGE, 'fanout', { durable: false });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      const ticket = randomUUID();
      const replies: ControlReply[] = [];
      await channel.consume(
        queue,
        (raw) => {
          const body = raw && raw.properties.correlationId === ticket ? parse(raw) : undefined;
          if (body && typeof body.hostname === 'string') replies.push(body as unknown as ControlReply);
        },
        { noAck: true },
      );
      channel.publish(CONTROL_EXCHANGE, '', json(command), {
        replyTo: queue,
        correlationId: ticket,
        contentType: 'application/json',
        expiration: String(Math.max(1000, timeoutMs)),
      });
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return replies;
    });
  }

  async queueDepth(queue: string): Promise<number | undefined> {
    return this.withChannel(async (channel) => {
      try {
        return (await channel.checkQueue(queue)).messageCount;
      } catch (error) {
        if (amqpReplyCode(error) === NOT_FOUND || /NOT_FOUND/.test(String(error))) return undefined;
        throw error;
      }
    });
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

  private async answer(
    channel: Channel,
    hostname: string,
    raw: ConsumeMessage,
    handler: (command: ControlCommand) => Promise<JsonValue>,
  ): Promise<void> {
    const body = parse(raw);
    const replyTo = raw.properties.replyTo as string | undefined;
    if (!body || typeof body.method !== 'string') {
      this.logger.warn('ignored a malformed control message');
      return;
    }
    const destination = Array.isArray(body.destination) ? body.destination : [];
    if (destination.length > 0 && !destination.includes(hostname)) return;
    const command: ControlCommand = {
      method: body.method,
      arguments:
        body.arguments && typeof body.arguments === 'object' && !Array.isArray(body.arguments)
          ? body.arguments
          : {},
      destination: destination.filter((d): d is string => typeof d === 'string'),
    };
    let reply: ControlReply;
    try {
      reply = { hostname, ok: await handler(command) };
    } catch (error) {
      reply = { hostname, error: (error as Error).message };
    }
    if (!replyTo) return;
    try {
      channel.publish('', replyTo, json(reply), {
        correlationId: raw.properties.correlationId as string | undefined,
        contentType: 'application/json',
      });
    } catch {
      // the channel closed meanwhile: the client simply gets no answer from us
    }
  }
}
