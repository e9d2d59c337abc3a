import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import {
  getTaskLogger,
  decodeStateMessage,
  encodeStateMessage,
  StateCache,
  StateListeners,
  type ReplyTarget,
  type ResultBackend,
  type StateMessage,
} from '@queue/core/transport';
import type { ManagedChannel } from '../connection/managed-channel';
import { toWireMessage } from '../transport/amqp-delivery';
import type { AmqpTransport } from '../transport/amqp-transport';

/**
 * Celery's `rpc://` backend: each App that sends tasks owns one reply queue (its name is the `reply_to` of
 * every task it sends); workers publish every state of a task there (`correlation_id` = task id, body
 * `{task_id, status, result, traceback, children}`). So only the sender sees a task's states.
 */
export class RpcResultBackend implements ResultBackend {
  /** This App's reply queue (a UUID, as Celery's `oid`). */
  readonly queue = randomUUID();
  private readonly cache: StateCache;
  private readonly listeners = new StateListeners();
  private consumer: ManagedChannel | undefined;
  private ready: Promise<void> | undefined;
  private readonly logger = getTaskLogger('queue.amqp.rpc');

  constructor(private readonly transport: AmqpTransport) {
    this.cache = new StateCache(transport.options.resultCacheSize);
  }

  /** Worker side: sends one state to the caller's reply queue (nothing when it gave none). */
  async report(target: ReplyTarget, state: StateMessage): Promise<void> {
    if (!target.replyTo) return;
    const message = encodeStateMessage(state);
    await this.transport.send(
      '',
      target.replyTo,
      {
        contentType: message.properties.contentType,
        contentEncoding: message.properties.contentEncoding,
        correlationId: target.correlationId || state.taskId,
        deliveryMode: 1,
      },
      message.body,
      Date.now() + this.transport.options.publishTimeoutMs,
    );
  }

  /**
   * Caller side: declares the reply queue and starts consuming it (once). After a reconnect it waits until
   * the queue is declared again: a non-durable reply queue does not outlive a broker restart, and a result
   * published before it is back would be dropped as unroutable.
   */
  async replyTo(): Promise<string> {
    this.ready ??= this.listen().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    if (this.consumer && !this.consumer.peek()) {
      await this.consumer.get(Date.now() + this.transport.options.publishTimeoutMs);
    }
    return this.queue;
  }

  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void {
    return this.listeners.add(taskId, listener);
  }

  latest(taskId: string): StateMessage | undefined {
    return this.cache.get(taskId);
  }

  /** Nothing is stored anywhere but in this process: what reached it, if anything. */
  async fetch(taskId: string): Promise<StateMessage | undefined> {
    return this.cache.get(taskId);
  }

  async forget(taskId: string): Promise<void> {
    this.cache.delete(taskId);
  }

  /** Stops listening and deletes the reply queue: nobody is left to read it. */
  async close(): Promise<void> {
    this.listeners.clear();
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    await consumer.close();
    if (this.transport.connection.isOpen) {
      await this.transport.topology.deleteQueue(this.queue, Date.now() + 2_000).catch(() => undefined);
    }
  }

  private async listen(): Promise<void> {
    const deadline = () => Date.now() + this.transport.options.publishTimeoutMs;
    this.consumer = this.transport.connection.channel(
      'plain',
      `replies:${this.queue}`,
      async (channel: Channel) => {
        await this.transport.topology.replyQueue(this.queue, deadline());
        await channel.consume(this.queue, (raw) => raw && this.receive(raw), { noAck: true });
      },
      true,
    );
    await this.consumer.get(deadline());
  }

  private receive(raw: ConsumeMessage): void {
    const state = decodeStateMessage(toWireMessage(raw));
    if (!state) {
      this.logger.warn(`ignored a message on reply queue ${this.queue} that is not a task state`);
      return;
    }
    if (!this.cache.set(state)) return;
    this.listeners.notify(state);
  }
}
