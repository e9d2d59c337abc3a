import { connect, type ChannelModel } from 'amqplib';
import { TransportError, type Logger } from '@queue/core/transport';
import {
  BrokerAccessRefusedError,
  BrokerBlockedError,
  BrokerUnavailableError,
  describeConnectFailure,
  type ConnectFailure,
} from '../errors';
import { backoffDelay, type ReconnectPolicy } from './backoff';
import type { FailoverStrategy } from '../options';
import type { BrokerAddress } from './broker-url';
import { coalesceWrites } from './coalesced-writes';
import { ManagedChannel, type ChannelKind, type ChannelSetup } from './managed-channel';

type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionPolicy extends ReconnectPolicy {
  failover: FailoverStrategy;
  /** Publishes that may wait at once for a connection or for an alarm to clear; more fail at once. */
  maxWaitingPublishes: number;
}

interface Waiter {
  /** A publish: it also waits while RabbitMQ blocks publishing (memory or disk alarm). */
  writable: boolean;
  resolve: (model: ChannelModel) => void;
  reject: (error: Error) => void;
}

/** Timers here are deliberately ref'd: a process waiting to (re)connect has nothing else keeping it alive. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one AMQP connection of a process's App (RabbitMQ pays a file descriptor per connection), with the
 * channels built on it. When the broker drops it, it reconnects with capped backoff (to the next broker
 * when several URLs are given) and re-opens every long-lived channel (consumers, the reply queue),
 * re-running their setup (declares, qos, consume). It tracks RabbitMQ's `connection.blocked` so that
 * publishes wait for an alarm to clear instead of piling up in the socket.
 */
export class AmqpConnection {
  private state: State = 'idle';
  private model: ChannelModel | undefined;
  private firstConnect: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private waitingPublishes = 0;
  private readonly channels = new Set<ManagedChannel>();
  private lastFailure: string | undefined;
  /** Index in `addresses` of the broker in use (or tried last). */
  private current = 0;
  /** Why RabbitMQ blocks this connection's publishes right now (undefined: not blocked). */
  blockedReason: string | undefined;
  /** Incremented on every (re)connect; caches of declared topology are per generation. */
  generation = 0;
  private readonly generationListeners = new Set<() => void>();
  /** Told after a lost connection is back (not on the first connect). */
  private readonly restoredListeners = new Set<() => void>();
  /** Every broker URL, masked, `;`-separated. */
  readonly displayUrl: string;

  constructor(
    private readonly addresses: readonly BrokerAddress[],
    readonly policy: ConnectionPolicy,
    readonly logger: Logger,
  ) {
    this.displayUrl = addresses.map((address) => address.displayUrl).join(';');
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Open and not blocked by a broker alarm: a publish may be written now. */
  get isWritable(): boolean {
    return this.state === 'open' && this.blockedReason === undefined;
  }

  /** The masked URL of the broker in use (or tried last). */
  get currentUrl(): string {
    return this.addresses[this.current]!.displayUrl;
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

  /**
   * The open connection, waiting out a reconnect until `deadline` (epoch ms). With `writable` (publishes),
   * it also waits while RabbitMQ blocks publishing; at most `maxWaitingPublishes` such waits at once.
   */
  async whenOpen(deadline: number, { writable = false }: { writable?: boolean } = {}): Promise<ChannelModel> {
    if (this.state === 'open' && this.model && !(writable && this.blockedReason)) return this.model;
    if (this.state === 'closed') throw new TransportError('the AMQP transport is closed');
    if (writable && this.waitingPublishes >= this.policy.maxWaitingPublishes) {
      throw this.unavailable(`${this.waitingPublishes} publishes are already waiting`);
    }
    if (this.state === 'idle') void this.connect().catch(() => undefined);
    const remaining = Math.max(0, deadline - Date.now());
    if (writable) this.waitingPublishes++;
    return new Promise<ChannelModel>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (writable) this.waitingPublishes--;
      };
      const waiter: Waiter = {
        writable,
        resolve: (model) => {
          done();
          resolve(model);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.reject(this.unavailable(`waited ${remaining} ms`)), remaining);
      this.waiters.add(waiter);
    });
  }

  /** The error for an operation that could not reach a usable connection in time. */
  unavailable(what: string): BrokerUnavailableError {
    if (this.state === 'open' && this.blockedReason) {
      return new BrokerBlockedError(
        `RabbitMQ at ${this.currentUrl} is blocking publishers (${this.blockedReason}): ${what}; the broker has a memory or disk alarm (rabbitmqctl status shows it), free memory or disk there`,
        this.blockedReason,
      );
    }
    return new BrokerUnavailableError(
      `no connection to ${this.displayUrl} (${what})` + (this.lastFailure ? `: ${this.lastFailure}` : ''),
    );
  }

  /** A channel that this connection re-opens (and re-sets-up) after every loss while it is in use. */
  channel(kind: ChannelKind, label: string, setup: ChannelSetup, keepOpen: boolean): ManagedChannel {
    const channel = new ManagedChannel(this, kind, label, setup, keepOpen, () =>
      this.channels.delete(channel),
    );
    this.channels.add(channel);
    return channel;
  }

  /** How many channels this connection manages (for leak checks). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Calls `listener` after every reconnect (declared-topology caches reset there). */
  onReconnect(listener: () => void): void {
    this.generationListeners.add(listener);
  }

  /** A listener that throws must neither stop the others nor count as a failed reconnect. */
  private tellRestored(): void {
    for (const listener of this.restoredListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn(`a reconnect listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** Calls `listener` each time a lost connection is restored; returns the function that removes it. */
  onRestored(listener: () => void): () => void {
    this.restoredListeners.add(listener);
    return () => {
      this.restoredListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const waiter of [...this.waiters])
      waiter.reject(new TransportError('the AMQP transport was closed'));
    await Promise.allSettled([...this.channels].map((channel) => channel.close()));
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }

  private async connectFirst(): Promise<void> {
    this.state = 'connecting';
    this.current = 0; // the first broker that answers, in the order given
    const deadline = Date.now() + this.policy.connectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const address = this.addresses[this.current]!;
      try {
        await this.open(address, deadline - Date.now());
        return;
      } catch (error) {
        if ((this.state as State) === 'closed')
          throw new TransportError('the AMQP transport was closed while connecting');
        const failure = this.describe(error, address);
        if (failure.final) {
          throw new BrokerAccessRefusedError(
            `RabbitMQ at ${address.displayUrl} refused us: ${failure.text}`,
            {
              cause: error,
            },
          );
        }
        this.lastFailure = this.at(address, failure.text);
        // Every broker gets a try before the backoff grows (the first that answers wins).
        const delay = this.advance(attempt)
          ? backoffDelay(Math.floor(attempt / this.addresses.length), this.policy)
          : 0;
        if (Date.now() + delay >= deadline) {
          throw new BrokerUnavailableError(
            `could not connect to ${this.displayUrl} within ${this.policy.connectTimeoutMs} ms: ${this.lastFailure}`,
            { cause: error },
          );
        }
        if (delay > 0) await sleep(delay);
      }
    }
  }

  /** Moves to the next broker; true when a whole round of brokers failed (time to back off). */
  private advance(attempt: number): boolean {
    this.current = (this.current + 1) % this.addresses.length;
    return (attempt + 1) % this.addresses.length === 0;
  }

  /** A failure text, prefixed with the broker's URL when there are several. */
  private at(address: BrokerAddress, text: string): string {
    return this.addresses.length > 1 ? `${address.displayUrl}: ${text}` : text;
  }

  private describe(error: unknown, address: BrokerAddress): ConnectFailure {
    const { hostname, port, username, vhost } = address.connect;
    return describeConnectFailure(error, {
      host: hostname ?? '',
      port: port ?? 5672,
      username: username ?? 'guest',
      vhost: vhost ?? '/',
    });
  }

  private async open(address: BrokerAddress, timeoutMs: number): Promise<void> {
    // A socket timeout too: a host that swallows packets must not outlive the connect deadline.
    const socket = { ...address.socket, timeout: Math.max(1000, Math.round(timeoutMs)) };
    const model = await connect(address.connect, socket);
    if (this.state === 'closed') {
      await model.close().catch(() => undefined);
      throw new TransportError('the AMQP transport was closed while connecting');
    }
    coalesceWrites(model);
    model.on('error', (error: Error) => {
      this.lastFailure = this.at(address, error.message);
      this.logger.warn(`AMQP connection error: ${error.message}`);
    });
    model.on('blocked', (reason: string) => this.blocked(model, reason));
    model.on('unblocked', () => this.unblocked(model));
    model.on('close', (error?: Error) => this.onClose(model, error));
    this.model = model;
    this.blockedReason = undefined;
    this.state = 'open';
    this.generation++;
    for (const listener of this.generationListeners) listener();
    this.releaseWaiters();
    for (const channel of this.channels) channel.connectionOpened();
  }

  private blocked(model: ChannelModel, reason: string): void {
    if (this.model !== model) return;
    this.blockedReason = reason || 'resource alarm';
    this.logger.warn(
      `RabbitMQ at ${this.currentUrl} blocks publishing (${this.blockedReason}); publishes wait up to the publish timeout`,
    );
  }

  private unblocked(model: ChannelModel): void {
    if (this.model !== model) return;
    this.blockedReason = undefined;
    this.logger.info(`RabbitMQ at ${this.currentUrl} unblocked publishing`);
    this.releaseWaiters();
  }

  /** Hands the open connection to everyone waiting for it (publishes only while not blocked). */
  private releaseWaiters(): void {
    const model = this.model;
    if (!model) return;
    for (const waiter of [...this.waiters]) {
      if (!waiter.writable || !this.blockedReason) waiter.resolve(model);
    }
  }

  private onClose(model: ChannelModel, error: Error | undefined): void {
    if (this.model !== model || this.state === 'closed') return;
    this.model = undefined;
    this.blockedReason = undefined;
    this.lastFailure = this.at(
      this.addresses[this.current]!,
      error?.message ?? 'connection closed by the broker',
    );
    this.logger.warn(`AMQP connection to ${this.currentUrl} lost (${this.lastFailure}); reconnecting`);
    for (const channel of this.channels) channel.connectionLost();
    this.state = 'reconnecting';
    if (this.policy.failover === 'in-order') this.current = 0;
    else this.current = (this.current + 1) % this.addresses.length;
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; this.state === 'reconnecting'; attempt++) {
      const round = Math.floor(attempt / this.addresses.length);
      // The first try of each round waits (backoff); the other brokers of the round are tried at once.
      if (attempt % this.addresses.length === 0) await sleep(backoffDelay(round, this.policy));
      if (this.state !== 'reconnecting') return;
      const address = this.addresses[this.current]!;
      this.logger.info(`AMQP reconnect attempt ${attempt + 1} to ${address.displayUrl}`);
      try {
        await this.open(address, this.policy.connectTimeoutMs);
        this.logger.info(
          `AMQP connection to ${address.displayUrl} restored after ${Date.now() - started} ms (${attempt + 1} attempts)`,
        );
        this.tellRestored();
        return;
      } catch (error) {
        if ((this.state as State) !== 'reconnecting') return;
        this.lastFailure = this.at(address, this.describe(error, address).text);
        this.logger.warn(`AMQP reconnect attempt ${attempt + 1} failed: ${this.lastFailure}`);
        this.current = (this.current + 1) % this.addresses.length;
      }
    }
  }
}
