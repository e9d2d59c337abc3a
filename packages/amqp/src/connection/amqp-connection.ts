import { connect, type ChannelModel } from 'amqplib';
import { TransportError, type Logger } from '@queue/core';
import { ACCESS_REFUSED, amqpReplyCode, BrokerAccessRefusedError, BrokerUnavailableError } from '../errors';
import { backoffDelay, type ReconnectPolicy } from './backoff';
import type { BrokerAddress } from './broker-url';
import { ManagedChannel, type ChannelKind, type ChannelSetup } from './managed-channel';

type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

interface Waiter {
  resolve: (model: ChannelModel) => void;
  reject: (error: Error) => void;
}

/** Wrong credentials or vhost: no retry can fix those. */
function isAccessRefused(error: unknown): boolean {
  const text = (error as Error | undefined)?.message ?? '';
  return amqpReplyCode(error) === ACCESS_REFUSED || /ACCESS_REFUSED|NOT_ALLOWED/.test(text);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The one AMQP connection of a process's App (RabbitMQ pays a file descriptor per connection), with the
 * channels built on it. When the broker drops it, it reconnects with capped backoff and re-opens every
 * long-lived channel (consumers, the reply queue), re-running their setup (declares, qos, consume).
 */
export class AmqpConnection {
  private state: State = 'idle';
  private model: ChannelModel | undefined;
  private firstConnect: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly channels = new Set<ManagedChannel>();
  private lastError: Error | undefined;
  /** Incremented on every (re)connect; caches of declared topology are per generation. */
  generation = 0;
  private readonly generationListeners = new Set<() => void>();

  constructor(
    private readonly address: BrokerAddress,
    readonly policy: ReconnectPolicy,
    readonly logger: Logger,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Connects once (retrying until `connectTimeoutMs`); later calls share the first attempt. */
  connect(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new TransportError('the AMQP transport is closed'));
    this.firstConnect ??= this.connectFirst().catch((error: unknown) => {
      this.firstConnect = undefined;
      if (this.state === 'connecting') this.state = 'idle';
      throw error;
    });
    return this.firstConnect;
  }

  /** The open connection, waiting for a reconnect until `deadline` (epoch ms). */
  async whenOpen(deadline: number): Promise<ChannelModel> {
    if (this.state === 'open' && this.model) return this.model;
    if (this.state === 'closed') throw new TransportError('the AMQP transport is closed');
    if (this.state === 'idle') void this.connect().catch(() => undefined);
    const remaining = deadline - Date.now();
    return new Promise<ChannelModel>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (model) => {
          clearTimeout(timer);
          resolve(model);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => {
          this.waiters.delete(waiter);
          reject(
            new BrokerUnavailableError(
              `no connection to ${this.address.displayUrl} within ${Math.max(0, remaining)} ms` +
                (this.lastError ? ` (last error: ${this.lastError.message})` : ''),
            ),
          );
        },
        Math.max(0, remaining),
      );
      this.waiters.add(waiter);
    });
  }

  /** A channel that this connection re-opens (and re-sets-up) after every loss while it is in use. */
  channel(kind: ChannelKind, label: string, setup: ChannelSetup, keepOpen: boolean): ManagedChannel {
    const channel = new ManagedChannel(this, kind, label, setup, keepOpen, () =>
      this.channels.delete(channel),
    );
    this.channels.add(channel);
    return channel;
  }

  /** Calls `listener` after every reconnect (declared-topology caches reset there). */
  onReconnect(listener: () => void): void {
    this.generationListeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const waiter of this.waiters) waiter.reject(new TransportError('the AMQP transport was closed'));
    this.waiters.clear();
    await Promise.allSettled([...this.channels].map((channel) => channel.close()));
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }

  private async connectFirst(): Promise<void> {
    this.state = 'connecting';
    const deadline = Date.now() + this.policy.connectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.open();
        return;
      } catch (error) {
        if ((this.state as State) === 'closed')
          throw new TransportError('the AMQP transport was closed while connecting');
        if (isAccessRefused(error)) {
          throw new BrokerAccessRefusedError(
            `${this.address.displayUrl} refused the connection: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const delay = backoffDelay(attempt, this.policy);
        if (Date.now() + delay > deadline) {
          throw new BrokerUnavailableError(
            `could not connect to ${this.address.displayUrl} within ${this.policy.connectTimeoutMs} ms: ${
              (error as Error).message
            }`,
            { cause: error },
          );
        }
        await sleep(delay);
      }
    }
  }

  private async open(): Promise<void> {
    const model = await connect(this.address.connect, this.address.socket);
    if (this.state === 'closed') {
      await model.close().catch(() => undefined);
      throw new TransportError('the AMQP transport was closed while connecting');
    }
    model.on('error', (error: Error) => {
      this.lastError = error;
      this.logger.warn(`AMQP connection error: ${error.message}`);
    });
    model.on('blocked', (reason: string) => this.logger.warn(`RabbitMQ blocked publishing: ${reason}`));
    model.on('unblocked', () => this.logger.info('RabbitMQ unblocked publishing'));
    model.on('close', (error?: Error) => this.onClose(model, error));
    this.model = model;
    this.state = 'open';
    this.generation++;
    for (const listener of this.generationListeners) listener();
    for (const waiter of this.waiters) waiter.resolve(model);
    this.waiters.clear();
    for (const channel of this.channels) channel.connectionOpened();
  }

  private onClose(model: ChannelModel, error: Error | undefined): void {
    if (this.model !== model || this.state === 'closed') return;
    this.model = undefined;
    this.lastError = error ?? new TransportError('connection closed by the broker');
    this.logger.warn(
      `AMQP connection to ${this.address.displayUrl} lost (${this.lastError.message}); reconnecting`,
    );
    for (const channel of this.channels) channel.connectionLost();
    this.state = 'reconnecting';
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; this.state === 'reconnecting'; attempt++) {
      await sleep(backoffDelay(attempt, this.policy));
      if (this.state !== 'reconnecting') return;
      try {
        await this.open();
        this.logger.info(`AMQP connection to ${this.address.displayUrl} restored`);
        return;
      } catch (error) {
        this.lastError = error as Error;
        this.logger.warn(`AMQP reconnect attempt ${attempt + 1} failed: ${(error as Error).message}`);
      }
    }
  }
}
