import type { WireMessage } from '../../protocol/message';
import type { ConsumeOptions, Consumer, Delivery, PublishOptions, Transport } from '../transport';
import type { ControlChannel } from '../control';
import type { EventChannel } from '../events';
import { publishFence, type LockService } from '../locks';
import { LockLostError } from '../../errors';
import { MemoryBroker } from './memory-broker';

const namedBrokers = new Map<string, MemoryBroker>();

/**
 * The broker behind a `memory://` URL: `memory://` alone is private to one App; `memory://<name>` is shared
 * by every App of this process that uses the same name (e.g. a caller App and a worker App in one test).
 */
export function memoryBrokerFor(url: string): MemoryBroker {
  const name = url.replace(/^memory:\/\//, '').replace(/\/+$/, '');
  if (!name) return new MemoryBroker();
  let broker = namedBrokers.get(name);
  if (!broker) namedBrokers.set(name, (broker = new MemoryBroker()));
  return broker;
}

/** The `memory://` transport: the same encoded messages as RabbitMQ, moved inside this process. */
export class MemoryTransport implements Transport {
  readonly displayUrl: string;

  constructor(
    url: string,
    /** The broker holding the queues: inspect it in tests (`depth`, `deadLetters`). */
    readonly broker: MemoryBroker = memoryBrokerFor(url),
  ) {
    this.displayUrl = url;
  }

  /** Remote control among the Apps of this process on the same broker (`memory://name`). */
  get control(): ControlChannel {
    return this.broker.mailbox;
  }

  /** Celery events among the Apps of this process on the same broker. */
  get events(): EventChannel {
    return this.broker.events;
  }

  /** Named locks among the Apps of this process on the same broker; closing this transport loses its own. */
  get locks(): LockService {
    return { tryAcquire: async (name) => this.broker.locks.acquire(name, this) };
  }

  /** Nothing to open: the in-process broker is always there. */
  async connect(): Promise<void> {}

  async publish(message: WireMessage, options: PublishOptions): Promise<void> {
    const fence = publishFence();
    if (fence && !fence.held) throw new LockLostError(fence.name);
    this.broker.enqueue(options.queue, message, options.delayMs ?? 0);
  }

  async consume(
    queue: string,
    handler: (delivery: Delivery) => void,
    options: ConsumeOptions,
  ): Promise<Consumer> {
    const consumer = this.broker.addConsumer(queue, options.prefetch, handler);
    return {
      cancel: async () => consumer.cancel(),
      setPrefetch: async (prefetch) => consumer.setPrefetch(prefetch),
    };
  }

  async close(): Promise<void> {
    this.broker.locks.breakAllOf(this, 'the transport was closed');
    this.broker.closeConsumers();
    this.broker.clearTimers();
  }
}
