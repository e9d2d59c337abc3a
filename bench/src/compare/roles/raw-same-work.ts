/**
 * Raw amqplib doing the same work as ours, to tell the framework's cost from the work's: Celery's protocol-v2
 * messages (our codec: the same headers and body), every task's state published to the client's reply queue
 * on a confirm channel (as the rpc:// backend does), the delivery acked once that publish is confirmed, and
 * a client that consumes its reply queue all along. What it does not do: coalesce acks, skip empty headers,
 * check its input; everything else is the least code that does this work.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { decodeTaskMessage, encodeTaskMessage, type TaskEnvelope } from '@queue/core/transport';
import type { RoleParams } from '../protocol';
import {
  checkSum,
  TASK_NAME,
  type ClientAdapter,
  type RunHooks,
  type SystemAdapter,
  type WorkerAdapter,
} from './adapter';

const PREFETCH = 64; // as ours: concurrency 16 × 4

async function open(url: string): Promise<ChannelModel> {
  const model = await connect(url, { noDelay: true });
  model.on('error', () => undefined);
  return model;
}

function confirmed(channel: ConfirmChannel, queue: string, body: Buffer, options: object): Promise<void> {
  return new Promise((resolve, reject) =>
    channel.sendToQueue(queue, body, options, (error: unknown) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
    ),
  );
}

function envelopeFor(i: number, replyTo: string): TaskEnvelope {
  const id = randomUUID();
  return {
    id,
    task: TASK_NAME,
    args: [i, 1],
    kwargs: {},
    embed: { callbacks: null, errbacks: null, chain: null, chord: null },
    retries: 0,
    eta: null,
    expires: null,
    timelimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    argsrepr: `(${i}, 1)`,
    kwargsrepr: '{}',
    origin: 'bench',
    ignoreResult: false,
    lang: 'py',
    replyTo,
    correlationId: id,
    priority: 0,
    extraHeaders: {},
  };
}

class SameWorkClient implements ClientAdapter {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private readonly replyQueue = randomUUID();
  private readonly waiting = new Map<string, (value: unknown) => void>();

  constructor(private readonly params: RoleParams) {}

  async connect(): Promise<void> {
    this.model = await open(this.params.broker);
    const channel = await this.model.createConfirmChannel();
    this.channel = channel;
    await channel.assertQueue(this.params.queue, { durable: true });
    await channel.assertQueue(this.replyQueue, { durable: false, autoDelete: true });
    await channel.consume(
      this.replyQueue,
      (message) => {
        if (!message) return;
        const state = JSON.parse(message.content.toString()) as { status: string; result: unknown };
        const resolve = this.waiting.get(String(message.properties.correlationId));
        if (resolve && state.status === 'SUCCESS') {
          this.waiting.delete(String(message.properties.correlationId));
          resolve(state.result);
        }
      },
      { noAck: true },
    );
  }

  private publish(envelope: TaskEnvelope): Promise<void> {
    const message = encodeTaskMessage(envelope);
    return confirmed(this.channel!, this.params.queue, message.body, {
      headers: message.headers,
      contentType: message.properties.contentType,
      contentEncoding: message.properties.contentEncoding,
      correlationId: message.properties.correlationId,
      replyTo: this.replyQueue,
      deliveryMode: 2,
      priority: 0,
    });
  }

  send(i: number): Promise<void> {
    return this.publish(envelopeFor(i, this.replyQueue));
  }

  async call(i: number): Promise<number> {
    const envelope = envelopeFor(i, this.replyQueue);
    const result = new Promise<unknown>((resolve) => this.waiting.set(envelope.id, resolve));
    await this.publish(envelope);
    return checkSum(i, await result);
  }

  replyQueues(): string[] {
    return []; // auto-delete: gone with the connection
  }

  async close(): Promise<void> {
    await this.model?.close().catch(() => undefined);
  }
}

class SameWorkWorker implements WorkerAdapter {
  private model: ChannelModel | undefined;
  private consumer: Channel | undefined;
  private consumerTag: string | undefined;

  constructor(private readonly params: RoleParams) {}

  async start(hooks: RunHooks): Promise<void> {
    this.model = await open(this.params.broker);
    this.model.on('close', () => hooks.failed('the AMQP connection closed'));
    const consumer = await this.model.createChannel();
    const results = await this.model.createConfirmChannel();
    this.consumer = consumer;
    await consumer.assertQueue(this.params.queue, { durable: true });
    await consumer.prefetch(PREFETCH);
    const onMessage = (message: ConsumeMessage | null) => {
      if (!message) return hooks.failed('the broker cancelled the consumer');
      hooks.started();
      const envelope = decodeTaskMessage({
        headers: message.properties.headers ?? {},
        properties: {
          contentType: message.properties.contentType ?? '',
          contentEncoding: message.properties.contentEncoding ?? '',
          correlationId: message.properties.correlationId,
          replyTo: message.properties.replyTo,
        },
        body: message.content,
      });
      const [a, b] = envelope.args as [number, number];
      const state = { task_id: envelope.id, status: 'SUCCESS', result: a + b, traceback: null, children: [] };
      const body = Buffer.from(JSON.stringify(state));
      confirmed(results, envelope.replyTo, body, {
        correlationId: envelope.correlationId,
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 1,
      }).then(
        () => {
          consumer.ack(message);
          hooks.finished();
        },
        (error: unknown) => hooks.failed(String(error)),
      );
    };
    this.consumerTag = (await consumer.consume(this.params.queue, onMessage, { noAck: false })).consumerTag;
  }

  async stop(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    model?.removeAllListeners('close');
    if (this.consumer && this.consumerTag)
      await this.consumer.cancel(this.consumerTag).catch(() => undefined);
    await model?.close().catch(() => undefined);
  }
}

export const rawSameWorkAdapter: SystemAdapter = {
  client: (params) => new SameWorkClient(params),
  worker: (params) => new SameWorkWorker(params),
};
