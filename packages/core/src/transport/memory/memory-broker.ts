import type { WireMessage } from '../../protocol/message';
import type { Delivery } from '../transport';
import { MemoryLockTable } from './memory-locks';
import { MemoryEventBus, MemoryMailbox } from './memory-mailbox';

/** A message refused by a consumer, with why. */
export interface DeadLetter {
  /** The queue it was consumed from. */
  queue: string;
  /** The message as it was delivered. */
  message: WireMessage;
  /** A stable reason code (`unknown-task`, `invalid-json`, `rejected-by-task`, …). */
  reason: string;
  /** A readable explanation. */
  detail: string;
}

interface QueuedMessage {
  message: WireMessage;
  redelivered: boolean;
}

interface MemoryConsumer {
  queue: string;
  prefetch: number;
  unsettled: Set<QueuedMessage>;
  handler: (delivery: Delivery) => void;
  active: boolean;
}

/**
 * An in-process broker with AMQP's delivery semantics: FIFO queues, per-consumer prefetch, manual acks,
 * requeue with the redelivered flag, delayed publishing and a dead-letter list. Shared by the memory
 * transport and the memory result backend of an App (or of several Apps, through a named `memory://name`).
 */
export class MemoryBroker {
  private readonly queues = new Map<string, QueuedMessage[]>();
  private readonly consumers: MemoryConsumer[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deadLetterList: DeadLetter[] = [];
  private dispatchScheduled = false;
  /** Remote control between the workers and clients on this broker. */
  readonly mailbox = new MemoryMailbox((queue) =>
    this.queues.has(queue)
      ? {
          messages: this.depth(queue),
          consumers: this.consumers.filter((consumer) => consumer.active && consumer.queue === queue).length,
        }
      : undefined,
  );
  /** Celery events between the Apps on this broker. */
  readonly events = new MemoryEventBus();
  /** Named locks (one holder each) between the Apps on this broker: what keeps two beats from both sending. */
  readonly locks = new MemoryLockTable();

  /** Puts a message on a queue, now or after `delayMs`. */
  enqueue(queue: string, message: WireMessage, delayMs = 0): void {
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.push(queue, { message, redelivered: false });
      }, delayMs);
      this.timers.add(timer);
      return;
    }
    this.push(queue, { message, redelivered: false });
  }

  /** Messages waiting in a queue (not counting delayed or unacked ones). */
  depth(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  /** The messages waiting in a queue, oldest first (for assertions in tests). */
  messages(queue: string): readonly WireMessage[] {
    return (this.queues.get(queue) ?? []).map((item) => item.message);
  }

  /** Messages that are scheduled for later delivery. */
  get delayedCount(): number {
    return this.timers.size;
  }

  /** Messages refused by consumers, oldest first. */
  deadLetters(queue?: string): readonly DeadLetter[] {
    return queue === undefined
      ? [...this.deadLetterList]
      : this.deadLetterList.filter((d) => d.queue === queue);
  }

  /** Starts delivering `queue` to `handler`; returns how to stop it and change its prefetch. */
  addConsumer(
    queue: string,
    prefetch: number,
    handler: (delivery: Delivery) => void,
  ): {
    /** Stops handing out messages to this consumer. */
    cancel(): void;
    /** Changes how many unsettled deliveries it may hold. */
    setPrefetch(prefetch: number): void;
  } {
    const consumer: MemoryConsumer = { queue, prefetch, unsettled: new Set(), handler, active: true };
    this.consumers.push(consumer);
    this.scheduleDispatch();
    return {
      cancel: () => {
        consumer.active = false;
      },
      setPrefetch: (next) => {
        consumer.prefetch = next;
        this.scheduleDispatch();
      },
    };
  }

  /** Returns every unsettled delivery to its queue and forgets the consumers (a channel closing). */
  closeConsumers(): void {
    for (const consumer of this.consumers.splice(0)) {
      consumer.active = false;
      // Back to the head of the queue in their original order (unshifting one by one would reverse them).
      for (const item of [...consumer.unsettled].reverse()) this.requeueFront(consumer.queue, item);
      consumer.unsettled.clear();
    }
  }

  /** Drops scheduled deliveries (their messages are lost, as with an in-memory broker that stops). */
  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private push(queue: string, item: QueuedMessage): void {
    let list = this.queues.get(queue);
    if (!list) this.queues.set(queue, (list = []));
    list.push(item);
    this.scheduleDispatch();
  }

  private requeueFront(queue: string, item: QueuedMessage): void {
    let list = this.queues.get(queue);
    if (!list) this.queues.set(queue, (list = []));
    list.unshift({ message: item.message, redelivered: true });
  }

  /** Dispatch runs on a microtask, never inside publish/ack, so handlers are not re-entered (and fake timers don't stall it). */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    void Promise.resolve().then(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const consumer of this.consumers) {
      const list = this.queues.get(consumer.queue);
      while (consumer.active && list && list.length > 0 && consumer.unsettled.size < consumer.prefetch) {
        const item = list.shift()!;
        consumer.unsettled.add(item);
        consumer.handler(this.deliveryFor(consumer, item));
      }
    }
  }

  private deliveryFor(consumer: MemoryConsumer, item: QueuedMessage): Delivery {
    const settle = (): boolean => {
      if (!consumer.unsettled.delete(item)) return false;
      this.scheduleDispatch();
      return true;
    };
    return {
      message: item.message,
      queue: consumer.queue,
      redelivered: item.redelivered,
      exchange: '',
      routingKey: consumer.queue,
      ack: () => {
        settle();
      },
      requeue: () => {
        if (settle()) this.requeueFront(consumer.queue, item);
      },
      deadLetter: (reason, detail) => {
        if (settle())
          this.deadLetterList.push({ queue: consumer.queue, message: item.message, reason, detail });
      },
    };
  }
}
