import type { Channel } from 'amqplib';
import type { AmqpConnection } from '../connection/amqp-connection';
import type { ManagedChannel } from '../connection/managed-channel';
import { amqpReplyCode, PRECONDITION_FAILED, QueueDeclarationError } from '../errors';
import { queueArgumentsOf, queueTypeOf, type CompiledAmqpOptions } from '../options';
import { bindToDelivery, declareDelayLevels } from './delayed-delivery';

/** Where a poisoned message of `queue` is kept, with the reason in its headers. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/** Turns the broker's 406 into an error naming the queue and the differing argument. */
function declarationError(error: unknown, queue: string): unknown {
  if (amqpReplyCode(error) !== PRECONDITION_FAILED && !/PRECONDITION[_-]FAILED/.test(String(error)))
    return error;
  const text = (error as Error).message;
  const detail = /"([^"]+)"/.exec(text)?.[1] ?? text;
  const argument = /inequivalent arg '([^']+)'/.exec(detail)?.[1];
  const named = /for queue '([^']+)'/.exec(detail)?.[1] ?? queue;
  return new QueueDeclarationError(named, argument, detail, { cause: error });
}

/**
 * Declares queues, exchanges and bindings once per connection (never per message), on a channel of its
 * own: a refused declaration (406) closes that channel, not the publisher's or a consumer's.
 */
export class Topology {
  /** Task queues by name: looked up on every publish, so keyed without building a string. */
  private readonly taskQueues = new Map<string, Promise<void>>();
  /** Everything else, by `kind:name`. */
  private readonly declared = new Map<string, Promise<void>>();
  private readonly channel: ManagedChannel;

  constructor(
    connection: AmqpConnection,
    private readonly options: CompiledAmqpOptions,
  ) {
    this.channel = connection.channel('plain', 'topology', async () => undefined, false);
    connection.onReconnect(() => {
      this.taskQueues.clear();
      this.declared.clear();
    });
  }

  /**
   * Declare arguments for a task queue: `queueArguments`, plus for a quorum queue Celery 5.5's
   * `x-queue-type` and our poison-message guard: after `deliveryLimit` deliveries RabbitMQ dead-letters the
   * message to `<queue>.dlq` (at-least-once, which needs `reject-publish` overflow) instead of looping.
   */
  argumentsFor(queue: string): Record<string, unknown> {
    const given = queueArgumentsOf(this.options, queue);
    if (queueTypeOf(this.options, queue) !== 'quorum') return given;
    return {
      'x-queue-type': 'quorum',
      'x-delivery-limit': this.options.deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueueName(queue),
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      ...given,
    };
  }

  /** A task queue as Celery 5 declares it: durable, with a direct exchange of its name bound by its name. */
  taskQueue(queue: string, deadline: number): Promise<void> {
    return this.once(this.taskQueues, queue, queue, deadline, async (channel) => {
      const args = this.argumentsFor(queue);
      // A quorum queue dead-letters by itself: its target must exist first.
      if (args['x-dead-letter-routing-key'] === deadLetterQueueName(queue)) {
        await this.declareDeadLetterQueue(channel, queue);
      }
      await channel.assertExchange(queue, 'direct', { durable: true });
      await channel.assertQueue(queue, { durable: true, arguments: args });
      await channel.bindQueue(queue, queue, queue);
    });
  }

  /** The delay levels, and `queue` bound to their end. */
  async delayedDeliveryTo(queue: string, deadline: number): Promise<void> {
    await this.taskQueue(queue, deadline);
    await this.once(this.declared, 'delay-levels', 'celery_delayed_*', deadline, (channel) =>
      declareDelayLevels(channel, this.options.delayedQueueType ?? this.options.queueType),
    );
    await this.once(this.declared, `delayed:${queue}`, queue, deadline, (channel) =>
      bindToDelivery(channel, queue),
    );
  }

  deadLetterQueue(queue: string, deadline: number): Promise<void> {
    const name = deadLetterQueueName(queue);
    return this.once(this.declared, `dlq:${name}`, name, deadline, (channel) =>
      this.declareDeadLetterQueue(channel, queue),
    );
  }

  /** `<queue>.dlq`, of the same type as `queue` (a quorum queue's dead letters survive a node loss too). */
  private async declareDeadLetterQueue(channel: Channel, queue: string): Promise<void> {
    const quorum = queueTypeOf(this.options, queue) === 'quorum';
    await channel.assertQueue(deadLetterQueueName(queue), {
      durable: true,
      arguments: quorum ? { 'x-queue-type': 'quorum' } : {},
    });
  }

  /**
   * An rpc reply queue. Not auto-delete, unlike Celery's: auto-delete would drop the queue, and every
   * result in it, on a mere connection blip; `x-expires` still removes it once unused, and `close()` deletes it.
   */
  replyQueue(name: string, deadline: number): Promise<void> {
    return this.once(this.declared, `reply:${name}`, name, deadline, async (channel) => {
      await channel.assertQueue(name, {
        durable: false,
        autoDelete: false,
        arguments: { 'x-expires': this.options.resultExpiresMs },
      });
    });
  }

  /** Declare `queue` again on next use (the broker deleted it under us). */
  forget(queue: string): void {
    this.taskQueues.delete(queue);
    for (const key of [...this.declared.keys()]) if (key.endsWith(`:${queue}`)) this.declared.delete(key);
  }

  async deleteQueue(name: string, deadline: number): Promise<void> {
    const channel = await this.channel.get(deadline);
    await channel.deleteQueue(name);
    this.forget(name);
  }

  private once(
    cache: Map<string, Promise<void>>,
    key: string,
    queue: string,
    deadline: number,
    declare: (channel: Channel) => Promise<void>,
  ) {
    let done = cache.get(key);
    if (!done) {
      done = this.channel
        .get(deadline)
        .then(declare)
        .catch((error: unknown) => {
          cache.delete(key);
          throw declarationError(error, queue);
        });
      cache.set(key, done);
    }
    return done;
  }
}
