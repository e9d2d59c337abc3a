import type { Channel, ConfirmChannel } from 'amqplib';
import type { AmqpConnection } from './amqp-connection';
import { backoffDelay } from './backoff';

export type ChannelKind = 'plain' | 'confirm';
/** Runs on every fresh channel before it is used (declares, qos, consume). */
export type ChannelSetup = (channel: Channel) => Promise<void>;

/**
 * One logical channel that survives losses: after the broker closes it (a channel error) or the connection
 * drops, the next `get()` (or, for `keepOpen` channels such as consumers, the connection itself) opens a new
 * one and runs `setup` again. Settling a delivery checks `isCurrent`, so an ack for a dead channel's delivery
 * is dropped instead of being sent on the new channel (where its tag would be unknown and close it).
 */
export class ManagedChannel {
  private current: Channel | undefined;
  private currentSince = 0;
  private opening: Promise<Channel> | undefined;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly kind: ChannelKind,
    readonly label: string,
    private readonly setup: ChannelSetup,
    /** Re-open by itself after a loss (consumers); otherwise only when next asked for (publishers). */
    private keepOpen: boolean,
    private readonly onClosed: () => void,
  ) {}

  /** The live channel, opening one if needed; waits out a reconnect until `deadline` (epoch ms). */
  async get(deadline: number): Promise<Channel> {
    if (this.current) return this.current;
    if (this.closed) throw new Error(`channel ${this.label} is closed`);
    const model = await this.connection.whenOpen(deadline);
    this.opening ??= this.open(model).finally(() => (this.opening = undefined));
    // Opening needs the broker to read our frames, which it stops doing while it blocks this connection
    // (alarm): the wait is bounded; the opening itself goes on and serves later callers.
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.connection.unavailable(`channel ${this.label} not opened in time`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([this.opening, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A confirm channel (for channels created with kind `confirm`). */
  async getConfirm(deadline: number): Promise<ConfirmChannel> {
    return (await this.get(deadline)) as ConfirmChannel;
  }

  /** The live channel, if there is one now (no waiting). */
  peek(): Channel | undefined {
    return this.current;
  }

  isCurrent(channel: Channel): boolean {
    return this.current === channel;
  }

  /**
   * Drops `channel` if it is still the live one and has been for at least `minAgeMs`, so that the next
   * `get()` opens a fresh one. For a channel the broker keeps refusing: RabbitMQ 3.x nacks every later
   * publish of a channel whose first publish to a quorum queue met a leader election, while a new channel
   * is confirmed at once. The age bound keeps a queue that refuses everything from churning channels.
   */
  retire(channel: Channel, minAgeMs: number): void {
    if (this.current !== channel || Date.now() - this.currentSince < minAgeMs) return;
    this.current = undefined;
    void channel.close().catch(() => undefined);
  }

  /** Stop re-opening after losses (a cancelled consumer keeps its channel only to settle what it holds). */
  stopRecovering(): void {
    this.keepOpen = false;
    clearTimeout(this.retryTimer);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopRecovering();
    this.onClosed();
    const channel = this.current ?? (await this.opening?.catch(() => undefined));
    this.current = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }

  /** Called by the connection after each (re)connect. */
  connectionOpened(): void {
    if (this.keepOpen && !this.closed) this.recover();
  }

  /** Called by the connection when it drops: every channel on it is gone. */
  connectionLost(): void {
    this.current = undefined;
    clearTimeout(this.retryTimer);
  }

  private async open(model: Awaited<ReturnType<AmqpConnection['whenOpen']>>): Promise<Channel> {
    const channel =
      this.kind === 'confirm' ? await model.createConfirmChannel() : await model.createChannel();
    // Without an 'error' listener a channel error would be thrown as an uncaught exception.
    channel.on('error', (error: Error) =>
      this.connection.logger.warn(`AMQP channel ${this.label} error: ${error.message}`),
    );
    let dead = false;
    channel.on('close', () => {
      dead = true;
      this.lost(channel);
    });
    try {
      await this.setup(channel);
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    // The channel (or its whole connection) may have died while its setup ran: adopting it then would
    // leave a dead channel as the live one, and a consumer that never consumes again.
    if (dead || this.closed) {
      await channel.close().catch(() => undefined);
      throw new Error(`channel ${this.label} ${this.closed ? 'is closed' : 'closed while being set up'}`);
    }
    this.current = channel;
    this.currentSince = Date.now();
    this.failures = 0;
    return channel;
  }

  private lost(channel: Channel): void {
    if (this.current !== channel) return;
    this.current = undefined;
    if (this.closed || !this.keepOpen || !this.connection.isOpen) return;
    this.recover();
  }

  /** Re-opens a keep-open channel: at once, then with capped backoff while its setup keeps failing. */
  private recover(): void {
    clearTimeout(this.retryTimer);
    const delay = this.failures === 0 ? 0 : backoffDelay(this.failures - 1, this.connection.policy);
    this.retryTimer = setTimeout(() => {
      if (this.closed || !this.keepOpen || this.current || !this.connection.isOpen) return;
      this.get(Date.now() + this.connection.policy.connectTimeoutMs).catch((error: unknown) => {
        this.failures++;
        this.connection.logger.warn(
          `could not re-open AMQP channel ${this.label}: ${(error as Error).message}`,
        );
        if (this.connection.isOpen) this.recover();
      });
    }, delay);
    this.retryTimer.unref();
  }
}
