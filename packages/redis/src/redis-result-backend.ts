import Redis, { type RedisOptions } from 'ioredis';
import {
  decodeStateDocument,
  encodeStateDocument,
  getTaskLogger,
  READY_STATES,
  StateCache,
  StateListeners,
  TransportError,
  type ReplyTarget,
  type ResultBackend,
  type StateMessage,
} from '@queue/core/transport';
import { STORE_STATE_SCRIPT, taskKey } from './keys';
import { RedisChordStore } from './redis-chord-store';
import { parseRedisUrl, type RedisAddress } from './redis-url';

const TASK_KEY_PREFIX = taskKey('');

/** What tells two reads of a stored state apart (a stored document is rewritten only by a new state). */
function sameness(state: StateMessage): string {
  return `${state.state}\u0000${state.dateDone ?? ''}\u0000${JSON.stringify(state.result)}`;
}

/** ioredis with our script defined on it. */
type ScriptedRedis = Redis & {
  storeState(key: string, document: Buffer, expires: string, ready: string): Promise<number>;
};

function numberOption(options: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const value = options[name];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * `redis://`: task states in Celery's own layout, so that Celery and our workers and clients share them. A
 * worker stores each state under `celery-task-meta-<id>` (Celery's JSON document, expiring after
 * `resultExpires`) and publishes it on the channel of the same name; a caller reads the key (any process,
 * any time) and listens on the channel, no polling. Two connections: one for commands, one for pub/sub
 * (opened when something is first followed).
 */
export class RedisResultBackend implements ResultBackend {
  /** The backend's settings, read from its URL. */
  readonly address: RedisAddress;
  /** Chords joined as Celery's Redis backend joins them (Python and TypeScript header tasks together). */
  readonly chords: RedisChordStore;
  private readonly client: ScriptedRedis;
  private subscriber: Redis | undefined;
  private readonly listeners = new StateListeners();
  /** How many listeners follow each task (its channel is subscribed while there is one). */
  private readonly followers = new Map<string, number>();
  private readonly cache: StateCache;
  private readonly expires: string;
  private readonly redisOptions: RedisOptions;
  private readonly logger = getTaskLogger('queue.redis');
  private closed = false;

  /** `options`: the App's `transportOptions`, of which only the shared `resultCacheSize` is read. */
  constructor(url: string, options: Readonly<Record<string, unknown>>, resultExpires: number | null) {
    this.address = parseRedisUrl(url);
    this.expires = resultExpires === null ? '' : String(resultExpires);
    this.cache = new StateCache(numberOption(options, 'resultCacheSize', 10_000));
    const timeoutMs = this.address.timeoutMs;
    this.redisOptions = {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 3,
      // A worker or client outlives a Redis restart: reconnect for ever, at most every 2 s.
      retryStrategy: (times) => Math.min(times * 100, 2000),
    };
    this.client = new Redis(this.address.url, this.redisOptions) as ScriptedRedis;
    this.client.defineCommand('storeState', { numberOfKeys: 1, lua: STORE_STATE_SCRIPT });
    this.chords = new RedisChordStore(this.client, this.expires, (what, run) => this.command(what, run));
    this.watch(this.client, 'commands');
  }

  async report(_target: ReplyTarget, state: StateMessage): Promise<void> {
    const ready = READY_STATES.has(state.state);
    const document = encodeStateDocument(ready ? { ...state, dateDone: new Date().toISOString() } : state);
    await this.command('store a state', () =>
      this.client.storeState(taskKey(state.taskId), document, this.expires, ready ? '1' : '0'),
    );
  }

  /** No reply queue: states are stored under the task's id. */
  async replyTo(): Promise<string> {
    return '';
  }

  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void {
    const remove = this.listeners.add(taskId, listener);
    const count = this.followers.get(taskId) ?? 0;
    this.followers.set(taskId, count + 1);
    if (count === 0) this.follow(taskId);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      remove();
      const left = (this.followers.get(taskId) ?? 1) - 1;
      if (left > 0) {
        this.followers.set(taskId, left);
        return;
      }
      this.followers.delete(taskId);
      void this.subscriber?.unsubscribe(taskKey(taskId)).catch(() => undefined);
    };
  }

  latest(taskId: string): StateMessage | undefined {
    return this.cache.get(taskId);
  }

  async fetch(taskId: string): Promise<StateMessage | undefined> {
    return (await this.read(taskId)).state;
  }

  /** Reads the key; `news` tells whether it told this process something it did not know. */
  private async read(taskId: string): Promise<{ state: StateMessage | undefined; news: boolean }> {
    const before = this.cache.get(taskId);
    const stored = await this.command('read a state', () => this.client.getBuffer(taskKey(taskId)));
    // A state that came through the channel while the key was read is newer than what was read.
    if (this.cache.get(taskId) !== before) return { state: this.cache.get(taskId), news: false };
    if (stored === null) {
      this.cache.delete(taskId); // forgotten or expired: the store has the last word
      return { state: undefined, news: false };
    }
    const news = this.isNews(decodeStateDocument(stored, taskId));
    return { state: this.cache.get(taskId), news };
  }

  async forget(taskId: string): Promise<void> {
    await this.command('forget a state', () => this.client.del(taskKey(taskId)));
    this.cache.delete(taskId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.followers.clear();
    await Promise.all([this.client, this.subscriber].map((redis) => redis && this.quit(redis)));
  }

  /** Subscribes to the task's channel (opening the pub/sub connection on first use). */
  private follow(taskId: string): void {
    if (!this.subscriber) {
      this.subscriber = new Redis(this.address.url, { ...this.redisOptions, lazyConnect: false });
      this.watch(this.subscriber, 'pub/sub');
      this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) =>
        this.receive(channel, message),
      );
      // ioredis subscribes again after a reconnect; states published meanwhile are read from their keys.
      let connectedOnce = false;
      this.subscriber.on('ready', () => {
        if (connectedOnce) for (const id of this.followers.keys()) void this.refetch(id);
        connectedOnce = true;
      });
    }
    // A state stored before the subscription took effect was published to nobody: read the key once it has.
    this.subscriber.subscribe(taskKey(taskId)).then(
      () => (this.followers.has(taskId) ? this.refetch(taskId) : undefined),
      (error: unknown) => {
        this.logger.warn(`could not follow task ${taskId} on ${this.address.displayUrl}: ${String(error)}`);
      },
    );
  }

  private receive(channel: Buffer, message: Buffer): void {
    const name = channel.toString();
    if (!name.startsWith(TASK_KEY_PREFIX)) return;
    const taskId = name.slice(TASK_KEY_PREFIX.length);
    let state: StateMessage;
    try {
      state = decodeStateDocument(message, taskId);
    } catch (error) {
      this.logger.warn(`ignored a message on ${name} that is not a task state: ${(error as Error).message}`);
      return;
    }
    if (this.isNews(state)) this.listeners.notify(state);
  }

  /**
   * Records `state`; true when it is news for the listeners: the same stored document may reach this
   * process twice (read from its key when following starts, and published on its channel).
   */
  private isNews(state: StateMessage): boolean {
    const known = this.cache.get(state.taskId);
    if (known && sameness(known) === sameness(state)) return false;
    return this.cache.set(state);
  }

  private async refetch(taskId: string): Promise<void> {
    try {
      const { state, news } = await this.read(taskId);
      if (state && news) this.listeners.notify(state);
    } catch (error) {
      this.logger.warn(`could not read the state of task ${taskId}: ${(error as Error).message}`);
    }
  }

  /** Runs a command; a Redis that cannot be reached becomes a TransportError naming it (password masked). */
  private async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new TransportError(`the redis:// result backend is closed (could not ${what})`);
    try {
      return await run();
    } catch (error) {
      throw new TransportError(
        `Redis at ${this.address.displayUrl} could not ${what}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Without an 'error' listener ioredis would crash the process on a lost connection. */
  private watch(redis: Redis, role: string): void {
    let reported = false;
    redis.on('error', (error: Error) => {
      if (reported) return; // once per outage: ioredis retries every second or two
      reported = true;
      this.logger.warn(`Redis ${role} connection to ${this.address.displayUrl}: ${error.message}`);
    });
    redis.on('ready', () => (reported = false));
  }

  private async quit(redis: Redis): Promise<void> {
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  }
}
