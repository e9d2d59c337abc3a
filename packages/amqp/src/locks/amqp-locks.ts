import type { Channel } from 'amqplib';
import { TransportError, type LockService, type Logger, type TransportLock } from '@queue/core/transport';
import type { AmqpConnection } from '../connection/amqp-connection';

/** AMQP's reply code for an exclusive queue owned by another connection. */
const RESOURCE_LOCKED = 405;

/**
 * A lock held as an exclusive queue on the transport's connection: held exactly as long as that connection
 * (RabbitMQ deletes the queue when it closes, SIGKILL included). Its channel stays open to hear of the
 * connection's end ('close'); a reconnect is a new connection, which does not hold it.
 */
class AmqpLock implements TransportLock {
  private state: 'held' | 'released' | 'lost' = 'held';
  private readonly listeners = new Set<(reason: string) => void>();

  constructor(
    readonly name: string,
    private readonly connection: AmqpConnection,
    /** The connection generation that declared the queue: only its publishes are fenced in. */
    readonly generation: number,
    private readonly channel: Channel,
  ) {
    channel.on('close', () => this.lose('the connection holding it closed'));
  }

  get held(): boolean {
    return this.state === 'held' && this.connection.isOpen && this.connection.generation === this.generation;
  }

  onLost(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async release(): Promise<void> {
    if (this.state !== 'held') return;
    this.state = 'released';
    // Deleting frees the name at once; closing the channel alone would not (the queue belongs to the connection).
    await this.channel.deleteQueue(this.name).catch(() => undefined);
    await this.channel.close().catch(() => undefined);
  }

  private lose(reason: string): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    for (const listener of [...this.listeners]) listener(reason);
    this.listeners.clear();
  }
}

/**
 * Named locks over RabbitMQ: `tryAcquire(name)` declares the exclusive, non-durable queue `name` on a
 * channel of its own. RabbitMQ refuses the declare to every other connection (405 RESOURCE_LOCKED, which
 * closes that channel: each try uses a fresh one) until the holder deletes the queue or its connection
 * ends. No other service is needed, and a dead holder frees the lock by itself.
 */
export class AmqpLocks implements LockService {
  constructor(
    private readonly connection: AmqpConnection,
    private readonly connectTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async tryAcquire(name: string): Promise<TransportLock | undefined> {
    const model = await this.connection.whenOpen(Date.now() + this.connectTimeoutMs);
    const generation = this.connection.generation;
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw new TransportError(
        `could not open a channel to take the lock ${name}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    // The refusal arrives as a channel error too: without a listener amqplib would throw it.
    channel.on('error', (error: Error & { code?: number }) => {
      if (error.code !== RESOURCE_LOCKED)
        this.logger.warn(`AMQP lock channel ${name} error: ${error.message}`);
    });
    try {
      await channel.assertQueue(name, { exclusive: true, durable: false, autoDelete: false });
    } catch (error) {
      await channel.close().catch(() => undefined);
      if ((error as { code?: number }).code === RESOURCE_LOCKED) return undefined;
      throw new TransportError(`could not take the lock ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // Declared on a connection that has since dropped: that queue is gone with it.
    if (this.connection.generation !== generation || !this.connection.isOpen) {
      await channel.close().catch(() => undefined);
      return undefined;
    }
    return new AmqpLock(name, this.connection, generation, channel);
  }
}
