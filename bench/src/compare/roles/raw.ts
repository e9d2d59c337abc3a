/**
 * Raw amqplib: the practical limit of this broker for the same work. The client publishes on a confirm
 * channel (persistent messages to a durable classic queue, as ours and Celery's), the worker consumes with
 * prefetch 100 and manual acks; round trips go through an exclusive reply queue matched by correlation id.
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { RoleParams } from '../protocol';
import {
  checkSum,
  type ClientAdapter,
  type RunHooks,
  type SystemAdapter,
  type WorkerAdapter,
} from './adapter';

const PREFETCH = 100;

interface Body {
  args: [number, number];
}

function encode(i: number): Buffer {
  return Buffer.from(JSON.stringify({ args: [i, 1] } satisfies Body));
}

async function open(url: string): Promise<ChannelModel> {
  const model = await connect(url, { noDelay: true });
  model.on('error', () => undefined); // a lost connection fails the pending calls, and so the step
  return model;
}

class RawClient implements ClientAdapter {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private replyQueue = '';
  private readonly waiting = new Map<string, (body: unknown) => void>();
  private nextId = 0;

  constructor(
    private readonly params: RoleParams,
    private readonly roundTrips: boolean,
  ) {}

  async connect(): Promise<void> {
    this.model = await open(this.params.broker);
    const channel = await this.model.createConfirmChannel();
    this.channel = channel;
    await channel.assertQueue(this.params.queue, { durable: true });
    if (!this.roundTrips) return;
    this.replyQueue = (await channel.assertQueue('', { exclusive: true, autoDelete: true })).queue;
    await channel.consume(
      this.replyQueue,
      (message) => {
        const id = message?.properties.correlationId as string | undefined;
        const resolve = id === undefined ? undefined : this.waiting.get(id);
        if (!message || !resolve) return;
        this.waiting.delete(id!);
        resolve((JSON.parse(message.content.toString()) as { result: unknown }).result);
      },
      { noAck: true },
    );
  }

  private publish(i: number, extra: { replyTo?: string; correlationId?: string } = {}): Promise<void> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      channel.sendToQueue(
        this.params.queue,
        encode(i),
        { persistent: true, contentType: 'application/json', ...extra },
        (error: unknown) =>
          error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
      );
    });
  }

  send(i: number): Promise<void> {
    return this.publish(i);
  }

  async call(i: number): Promise<number> {
    const correlationId = String(this.nextId++);
    const reply = new Promise<unknown>((resolve) => this.waiting.set(correlationId, resolve));
    await this.publish(i, { replyTo: this.replyQueue, correlationId });
    return checkSum(i, await reply);
  }

  replyQueues(): string[] {
    return []; // exclusive: gone with the connection
  }

  async close(): Promise<void> {
    await this.model?.close().catch(() => undefined);
  }
}

class RawWorker implements WorkerAdapter {
  private model: ChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;

  constructor(private readonly params: RoleParams) {}

  async start(hooks: RunHooks): Promise<void> {
    this.model = await open(this.params.broker);
    this.model.on('close', () => hooks.failed('the AMQP connection closed'));
    const channel = await this.model.createChannel();
    this.channel = channel;
    await channel.assertQueue(this.params.queue, { durable: true });
    await channel.prefetch(PREFETCH);
    const onMessage = (message: ConsumeMessage | null) => {
      if (!message) return hooks.failed('the broker cancelled the consumer');
      hooks.started();
      const { args } = JSON.parse(message.content.toString()) as Body;
      const result = args[0] + args[1];
      const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
      if (replyTo) channel.sendToQueue(replyTo, Buffer.from(JSON.stringify({ result })), { correlationId });
      channel.ack(message);
      hooks.finished();
    };
    this.consumerTag = (await channel.consume(this.params.queue, onMessage, { noAck: false })).consumerTag;
  }

  async stop(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    model?.removeAllListeners('close');
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
    await model?.close().catch(() => undefined);
  }
}

export const rawAdapter: SystemAdapter = {
  client: (params, { roundTrips }) => new RawClient(params, roundTrips),
  worker: (params) => new RawWorker(params),
};
