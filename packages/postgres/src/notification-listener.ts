import { Client } from 'pg';
import type { Logger } from '@queue/core/transport';
import { describeError } from './errors';
import { quoted } from './schema';
import type { PostgresSettings } from './settings';

export interface ListenerHandlers {
  /** A NOTIFY arrived on the channel (its payload: a task id, or '' for "read everything you follow"). */
  notified(payload: string): void;
  /**
   * LISTEN is in effect again (first time, or after a reconnect): whatever changed while it was not may have
   * been missed, so the followed tasks are read once.
   */
  listening(): void;
}

const INITIAL_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;
const END_WAIT_MS = 2_000;

/** pg's Client has `ref()`/`unref()` (its socket's); its type declarations do not list them. */
interface Referable {
  ref?: () => void;
  unref?: () => void;
}

/** Ends a client without waiting more than a moment for a dead socket. */
async function endQuietly(client: Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, END_WAIT_MS))),
  ]);
  clearTimeout(timer);
}

/**
 * One dedicated connection that LISTENs on the backend's channel (a pooled connection cannot: LISTEN belongs
 * to a session). Opened on `start()`; when it is lost it is opened again with capped exponential backoff
 * (jittered), LISTEN is sent again and `listening()` lets the backend catch up. It keeps the process alive
 * only while `hold(true)` (someone follows a task), so it never stops a script from ending.
 */
export class NotificationListener {
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lostAt: number | undefined;
  private started = false;
  private closed = false;
  private held = false;
  private ready = false;

  constructor(
    private readonly settings: PostgresSettings,
    private readonly handlers: ListenerHandlers,
    private readonly logger: Logger,
  ) {}

  /** Opens the connection (once; later calls do nothing). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.connect();
  }

  /** Whether the connection (and the reconnect timer) keep the process alive. */
  hold(held: boolean): void {
    this.held = held;
    this.applyHold();
  }

  /** True while LISTEN is in effect. */
  get listening(): boolean {
    return this.ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    this.ready = false;
    if (client) await endQuietly(client);
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    const client = new Client({
      connectionString: this.settings.connectionString,
      connectionTimeoutMillis: this.settings.connectTimeoutMs,
      query_timeout: this.settings.queryTimeoutMs,
      keepAlive: true,
      fallback_application_name: 'queue-postgres',
    });
    this.client = client;
    this.ready = false;
    this.applyHold();
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    client.on('notification', (message) => {
      if (this.client === client && message.channel === this.settings.tables.channel) {
        this.handlers.notified(message.payload ?? '');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoted(this.settings.tables.channel)}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return; // lost or closed meanwhile
    this.ready = true;
    if (this.lostAt !== undefined) {
      this.logger.info(
        `LISTEN connection to ${this.settings.displayUrl} restored after ${Date.now() - this.lostAt} ms`,
      );
    }
    this.lostAt = undefined;
    this.attempt = 0;
    this.handlers.listening();
  }

  private lost(client: Client, error: unknown): void {
    if (this.client !== client || this.closed) return; // an old connection, or closing
    this.client = undefined;
    this.ready = false;
    void endQuietly(client);
    const attempt = ++this.attempt;
    if (this.lostAt === undefined) {
      this.lostAt = Date.now();
      this.logger.warn(
        `LISTEN connection to ${this.settings.displayUrl} lost (${describeError(error)}); reconnecting`,
      );
    } else if (attempt % 10 === 0) {
      this.logger.warn(
        `LISTEN connection to ${this.settings.displayUrl}: reconnect attempt ${attempt} failed (${describeError(error)})`,
      );
    } else {
      this.logger.debug(
        `LISTEN connection to ${this.settings.displayUrl}: reconnect attempt ${attempt} failed (${describeError(error)})`,
      );
    }
    const ceiling = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** Math.min(attempt - 1, 16));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.applyHold();
  }

  private applyHold(): void {
    const socket = this.client as unknown as Referable | undefined;
    if (this.held) {
      socket?.ref?.();
      this.timer?.ref();
    } else {
      socket?.unref?.();
      this.timer?.unref();
    }
  }
}
