import {
  decodeStateDocument,
  encodeStateDocument,
  getTaskLogger,
  READY_STATES,
  StateCache,
  StateListeners,
  type ReplyTarget,
  type ResultBackend,
  type StateMessage,
} from '@queue/core/transport';
import { PostgresChordStore } from './chord-store';
import { describeError } from './errors';
import { NotificationListener } from './notification-listener';
import { ResultStore, type StoredDocument } from './result-store';
import { parsePostgresUrl, type PostgresSettings, type TableNames } from './settings';

/**
 * Options of `new PostgresResultBackend(url, {...})` (an App passes its `resultExpires` and
 * `resultCacheSize`).
 */
export interface PostgresBackendOptions {
  /** Seconds a stored state lives (the App's `resultExpires`); null: until forgotten. @default 86400 */
  resultExpires?: number | null;
  /** States kept in this process for `latest()`. @default 10000 */
  cacheSize?: number;
  /** Least time between two deletions of expired rows by this process. @default 60000 */
  sweepIntervalMs?: number;
}

const DEFAULT_RESULT_EXPIRES = 86_400;
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** Expired rows deleted per statement, and statements per table per sweep. */
const SWEEP_BATCH = 5_000;
const SWEEP_MAX_BATCHES = 20;
/** Followed tasks read per statement when catching up. */
const READ_BATCH = 500;
/** Reads of one task in a row while notifications keep coming for it (then the next notification resumes). */
const MAX_REREADS = 1_000;

/**
 * The `postgresql://` result backend: each task's newest state document in one row of a table of our own
 * (Celery's key-value layout as `json`), readable by any process at any time. Writers announce a task id with
 * NOTIFY in the statement that stores it; followers LISTEN on one connection per backend and read the row.
 */
export class PostgresResultBackend implements ResultBackend {
  /** The backend's settings, read from its URL. */
  readonly settings: PostgresSettings;
  /** Chords joined in the tables, atomically across processes (a size per chord, a row per ended header task). */
  readonly chords: PostgresChordStore;
  private readonly store: ResultStore;
  private readonly resultExpires: number | null;
  private readonly sweepIntervalMs: number;
  private readonly cache: StateCache;
  private readonly listeners = new StateListeners();
  private readonly logger = getTaskLogger('queue.postgres');
  private readonly listener: NotificationListener;
  /** Followed task id -> number of subscriptions. */
  private readonly followed = new Map<string, number>();
  /** Followed task id -> row version last passed to its listeners. */
  private readonly delivered = new Map<string, string>();
  /** Task ids being read for their listeners -> whether another read was asked for meanwhile. */
  private readonly reading = new Map<string, boolean>();
  private lastSweep = 0;
  private sweeping: Promise<void> | undefined;
  private closed = false;

  constructor(url: string, options: PostgresBackendOptions = {}) {
    this.settings = parsePostgresUrl(url);
    this.resultExpires = options.resultExpires === undefined ? DEFAULT_RESULT_EXPIRES : options.resultExpires;
    this.sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.cache = new StateCache(options.cacheSize ?? DEFAULT_CACHE_SIZE);
    this.store = new ResultStore(this.settings, this.logger);
    this.chords = new PostgresChordStore(this.store, this.settings.tables, this.resultExpires, () =>
      this.sweepSometimes(),
    );
    this.listener = new NotificationListener(
      this.settings,
      {
        notified: (taskId) => this.readForListeners(taskId ? [taskId] : [...this.followed.keys()]),
        listening: () => this.readForListeners([...this.followed.keys()]),
      },
      this.logger,
    );
  }

  /** The tables (and NOTIFY channel) this backend uses. */
  get tables(): TableNames {
    return this.settings.tables;
  }

  /** Creates the tables when missing (done on first use anyway). */
  migrate(): Promise<void> {
    return this.store.migrate();
  }

  /**
   * Worker side: stores the state (a ready state gets `date_done` now) and announces it. A non-ready state
   * never replaces a stored ready one: a redelivered duplicate run may report STARTED after SUCCESS.
   */
  async report(_target: ReplyTarget, state: StateMessage): Promise<void> {
    const ready = READY_STATES.has(state.state);
    const dateDone = ready ? (state.dateDone ?? new Date().toISOString()) : null;
    await this.store.write({
      taskId: state.taskId,
      status: state.state,
      document: encodeStateDocument({ ...state, dateDone }).toString('utf8'),
      dateDone,
      expiresInSeconds: this.resultExpires,
    });
    this.sweepSometimes();
  }

  /** Nothing to reply to: workers store states, any process reads them. */
  async replyTo(): Promise<string> {
    return '';
  }

  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void {
    const remove = this.listeners.add(taskId, listener);
    this.followed.set(taskId, (this.followed.get(taskId) ?? 0) + 1);
    this.listener.hold(true);
    // States stored from now on are announced once LISTEN is in effect; until then (the first subscription,
    // a reconnect) nothing is missed either: every followed task is read when it takes effect.
    this.listener.start();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      remove();
      const count = (this.followed.get(taskId) ?? 1) - 1;
      if (count > 0) {
        this.followed.set(taskId, count);
        return;
      }
      this.followed.delete(taskId);
      this.delivered.delete(taskId);
      if (this.followed.size === 0) this.listener.hold(false);
    };
  }

  latest(taskId: string): StateMessage | undefined {
    return this.cache.get(taskId);
  }

  /** @throws CorruptResultError when the row holds something else than a state document. */
  async fetch(taskId: string): Promise<StateMessage | undefined> {
    const row = await this.store.read(taskId);
    if (!row) {
      this.cache.delete(taskId);
      return undefined;
    }
    let state: StateMessage;
    try {
      state = decodeStateDocument(row.document, taskId);
    } catch (error) {
      this.cache.delete(taskId);
      throw error;
    }
    this.cache.set(state);
    return state;
  }

  async forget(taskId: string): Promise<void> {
    await this.store.delete(taskId);
    this.cache.delete(taskId);
  }

  /**
   * Deletes expired rows now (workers do it by themselves at most once per `sweepIntervalMs`, after a
   * write). Returns how many rows went.
   */
  async sweepExpired(): Promise<number> {
    this.lastSweep = Date.now();
    return this.store.sweep(SWEEP_BATCH, SWEEP_MAX_BATCHES);
  }

  /** Closes the LISTEN connection and the pool; nothing is left to keep the process alive. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.followed.clear();
    this.delivered.clear();
    await this.listener.close();
    await this.sweeping;
    await this.store.end();
  }

  private sweepSometimes(): void {
    if (this.sweeping || this.closed || Date.now() - this.lastSweep < this.sweepIntervalMs) return;
    this.sweeping = this.sweepExpired()
      .then(
        (deleted) => {
          if (deleted > 0) {
            const { results, groups, chordParts } = this.tables;
            this.logger.debug(`deleted ${deleted} expired rows of ${results}, ${groups} and ${chordParts}`);
          }
        },
        (error: unknown) => this.logger.warn(`deleting expired results failed: ${describeError(error)}`),
      )
      .finally(() => (this.sweeping = undefined));
  }

  /**
   * Reads followed tasks and passes new states to their listeners. A task already being read is read once
   * more afterwards (never two reads of one task at once, so its listeners see its states in order).
   */
  private readForListeners(taskIds: readonly string[]): void {
    const start: string[] = [];
    for (const taskId of taskIds) {
      if (!this.followed.has(taskId)) continue;
      if (this.reading.has(taskId)) this.reading.set(taskId, true);
      else {
        this.reading.set(taskId, false);
        start.push(taskId);
      }
    }
    for (let index = 0; index < start.length; index += READ_BATCH) {
      void this.readLoop(start.slice(index, index + READ_BATCH));
    }
  }

  private async readLoop(taskIds: string[]): Promise<void> {
    let batch = taskIds;
    for (let round = 0; batch.length > 0 && round < MAX_REREADS && !this.closed; round++) {
      try {
        const rows =
          batch.length === 1 ? [await this.store.read(batch[0]!)] : await this.store.readMany(batch);
        for (const row of rows) if (row) this.deliver(row);
      } catch (error) {
        // The connection is down: LISTEN is lost too, and its return reads every followed task.
        this.logger.warn(`reading followed results failed: ${describeError(error)}`);
      }
      const again = batch.filter((taskId) => this.reading.get(taskId) === true && this.followed.has(taskId));
      for (const taskId of batch) this.reading.delete(taskId);
      for (const taskId of again) this.reading.set(taskId, false);
      batch = again;
    }
    for (const taskId of batch) this.reading.delete(taskId);
  }

  private deliver(row: StoredDocument): void {
    if (!this.followed.has(row.taskId) || this.delivered.get(row.taskId) === row.version) return;
    this.delivered.set(row.taskId, row.version);
    let state: StateMessage;
    try {
      state = decodeStateDocument(row.document, row.taskId);
    } catch (error) {
      // Its listeners get nothing; a fetch() or get() of it rejects with the CorruptResultError.
      this.logger.warn(`ignored the stored result of task ${row.taskId}: ${(error as Error).message}`);
      return;
    }
    if (!this.cache.set(state)) return;
    try {
      this.listeners.notify(state);
    } catch (error) {
      this.logger.warn(`a listener of task ${row.taskId} threw: ${describeError(error)}`);
    }
  }
}
