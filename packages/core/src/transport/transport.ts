import type { WireMessage } from '../protocol/message';
import type { ControlChannel } from './control';
import type { EventChannel } from './events';
import type { LockService } from './locks';

/** One message handed to a consumer. Exactly one of `ack`, `requeue`, `deadLetter` settles it; later calls are ignored. */
export interface Delivery {
  /** The message as received. */
  readonly message: WireMessage;
  /** The queue it was consumed from. */
  readonly queue: string;
  /** The broker delivered it before (the previous consumer died or gave it back). */
  readonly redelivered: boolean;
  /** The exchange it was published to ('' for the default exchange). */
  readonly exchange: string;
  /** Its routing key (the queue name for direct sends). */
  readonly routingKey: string;
  /** Done with it: the broker forgets it. */
  ack(): void;
  /** Give it back to its queue, to be delivered again. */
  requeue(): void;
  /** Refuse it for good: it goes to the dead-letter queue, with a stable reason code and a readable detail. */
  deadLetter(reason: string, detail: string): void;
}

/** Options of `Transport.consume()`. */
export interface ConsumeOptions {
  /** Most deliveries held unsettled at once (AMQP `basic.qos` prefetch). */
  prefetch: number;
}

/** A running subscription to one queue. */
export interface Consumer {
  /** Stop receiving; deliveries already handed out can still be settled. */
  cancel(): Promise<void>;
  /** Changes how many unsettled deliveries it may hold (`pool_grow`/`pool_shrink`), when the transport can. */
  setPrefetch?(prefetch: number): Promise<void>;
}

/** Options of `Transport.publish()`. */
export interface PublishOptions {
  /** Destination queue (through the default exchange, as Celery publishes). */
  queue: string;
  /** Deliver no sooner than this many ms from now (countdown, ETA, retry delay); kept by the broker, not in memory. */
  delayMs?: number;
}

/**
 * What moves task messages. `memory://` is built in; `@queue/amqp` adds `amqp://`, `amqps://`, `pyamqp://`.
 * Connection management (and reconnecting) is the transport's own business.
 */
export interface Transport {
  /** The broker URL with any password masked, for logs. */
  readonly displayUrl: string;
  /** Opens the connection; resolves once the broker can be used (rejects when it cannot be reached). */
  connect(): Promise<void>;
  /** Resolves once the broker has the message (for AMQP: publisher confirm received). */
  publish(message: WireMessage, options: PublishOptions): Promise<void>;
  /** Each delivery is passed to `handler`, which settles it later (manual acks). */
  consume(queue: string, handler: (delivery: Delivery) => void, options: ConsumeOptions): Promise<Consumer>;
  /** Unsettled deliveries go back to their queues. */
  close(): Promise<void>;
  /** Remote control of running workers, when the transport can carry it (see `ControlChannel`). */
  readonly control?: ControlChannel;
  /** Celery's event stream, when the transport can carry it (see `EventChannel`). */
  readonly events?: EventChannel;
  /** Named locks held through the transport's connection, when it has them (see `LockService`); the beat uses one. */
  readonly locks?: LockService;
  /**
   * Drops the messages ready in `queue` (not those delivered and unacked, nor delayed ones) and resolves
   * with how many there were; undefined when the queue does not exist. For transports whose queues other
   * processes share (`queue purge`).
   */
  purge?(queue: string): Promise<number | undefined>;
  /**
   * Calls `listener` each time the transport restores its connection after losing it (not on the first
   * connect), for transports that reconnect by themselves; returns the function that removes the listener.
   * Worker metrics count broker reconnects with it.
   */
  onReconnect?(listener: () => void): () => void;
}
