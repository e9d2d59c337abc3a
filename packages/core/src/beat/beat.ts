import { EventEmitter } from 'node:events';
import { ConfigurationError, QueueError } from '../errors';
import { getTaskLogger, type Logger } from '../logging/logger';
import type { ApplyOptions } from '../task/apply-options';
import { whileHolding, type TransportLock } from '../transport/locks';
import type { Transport } from '../transport/transport';
import { compileBeatSchedule, type BeatEntry, type BeatScheduleEntry } from './entries';
import { isDue } from './schedule';
import { StateFile, type EntryState } from './state-file';

/** What the beat needs of an App (an `App` is one). */
export interface BeatApp {
  /** The App's name (the default lock is `<name>.beat.lock`). */
  readonly name: string;
  /** The settings the beat reads. */
  readonly conf: {
    /** The checked entries of `AppOptions.beatSchedule`. */
    readonly beatSchedule: Readonly<Record<string, BeatEntry>>;
    /** The IANA timezone crontabs are read in. */
    readonly timezone: string;
  };
  /** The broker connection (its lock service lets one beat send at a time). */
  readonly transport: Transport;
  /** Connects to the broker (and result backend). */
  connect(): Promise<void>;
  /** Sends one run of a task by name (`App.sendTask`). */
  sendTask(
    name: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
    options?: Omit<ApplyOptions, 'args' | 'kwargs'>,
  ): Promise<{
    /** The id of the task sent. */
    readonly id: string;
  }>;
}

/** Options of `new Beat(app, {...})` (the `queue beat` command sets them from its flags). */
export interface BeatOptions {
  /** Entries to run instead of the App's `beatSchedule`. @default the App's `beatSchedule` */
  schedule?: Record<string, BeatScheduleEntry>;
  /**
   * JSON file keeping each entry's last run and run count across restarts; `null` keeps nothing.
   * Beats that stand in for each other should share it (same host or volume). @default './queue-beat-schedule.json'
   */
  scheduleFile?: string | null;
  /** Longest sleep between two looks at the schedule, seconds (Celery's `beat_max_loop_interval`). @default 300 */
  maxInterval?: number;
  /** The broker lock that lets one beat send at a time. @default '<app name>.beat.lock' */
  lockName?: string;
  /** Seconds between tries to take the lock while another beat holds it. @default 5 */
  lockRetryInterval?: number;
}

/** One periodic run that was sent. */
export interface BeatRun {
  /** The entry's name in the schedule. */
  readonly entry: string;
  /** The task name sent. */
  readonly task: string;
  /** The id of the task sent. */
  readonly taskId: string;
  /** Epoch ms it was due and recorded as the entry's last run. */
  readonly at: number;
  /** Runs of this entry sent so far, this one included (kept across restarts in the state file). */
  readonly totalRunCount: number;
}

/** Events a beat emits, for logs, monitoring and tests. */
export interface BeatEvents {
  /** A periodic run was sent. */
  sent: [run: BeatRun];
  /** A run could not be sent; it is not tried again (the entry waits for its next time, as in Celery). */
  'send-failed': [entry: string, task: string, error: Error];
  /** This beat took the lock and sends from now on. */
  'lock-acquired': [name: string];
  /** The lock was lost (connection dropped); nothing is sent until it is taken again. */
  'lock-lost': [name: string, reason: string];
}

/** An entry with its state, for display. */
export interface BeatEntryStatus {
  /** The entry's name in the schedule. */
  readonly name: string;
  /** The task name it sends. */
  readonly task: string;
  /** The schedule's description (`every 30s`, `crontab 0 7 * * 1,2,3,4,5`). */
  readonly schedule: string;
  /** Epoch ms, or undefined before this beat first held the lock. */
  readonly lastRunAt: number | undefined;
  /** Runs of this entry sent so far. */
  readonly totalRunCount: number;
  /** Epoch ms of the next run, or undefined before this beat first held the lock. */
  readonly nextRunAt: number | undefined;
}

/** The state file a beat keeps when `scheduleFile` is not given (relative to the working directory). */
export const DEFAULT_SCHEDULE_FILE = './queue-beat-schedule.json';
const DEFAULT_MAX_INTERVAL_S = 300;
const DEFAULT_LOCK_RETRY_S = 5;

function seconds(value: number | undefined, fallback: number, what: string): number {
  const s = value ?? fallback;
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
    throw new ConfigurationError(`beat ${what} must be a number of seconds > 0 (got ${String(value)})`);
  }
  return s * 1000;
}

/**
 * Celery's beat: sends each entry of the App's `beatSchedule` when it is due, as an ordinary task message
 * (`app.sendTask`, so entries may name tasks this process does not import).
 *
 * - **One sender at a time.** On a transport with locks (`amqp://`, `memory://`) the beat sends only while
 *   it holds the broker lock `lockName`; other beats stand by and retry every `lockRetryInterval` seconds,
 *   and one takes over when the holder's connection goes. Every publish is fenced by the lock: a beat that
 *   lost it (a reconnect) fails its publishes instead of sending them later.
 * - **Missed runs.** An entry overdue after downtime (or a takeover) is sent **once**, at once; the runs
 *   missed meanwhile are not caught up. Its next run counts from that send.
 * - **State.** Each entry's last run and run count are kept in `scheduleFile` (written whole, atomically,
 *   before each batch of sends, so a crash may lose a run but never repeats one). A restarted beat, or the
 *   next holder of the lock, reads it: a recent run is not sent again. An entry whose task or schedule
 *   changed starts afresh, as does every entry when the timezone changes.
 *
 * @example
 * ```ts
 * const app = new App({
 *   name: 'reports',
 *   broker: 'amqp://localhost',
 *   beatSchedule: {
 *     'cleanup-every-30s': { task: 'reports.cleanup', schedule: 30 },
 *     'digest-weekdays': { task: 'reports.digest', schedule: crontab({ minute: 0, hour: 7, dayOfWeek: 'mon-fri' }), args: ['daily'] },
 *   },
 * });
 * const beat = new Beat(app, { scheduleFile: '/var/lib/reports/beat.json' });
 * await beat.start();
 * // … on SIGTERM:
 * await beat.stop();
 * ```
 */
export class Beat extends EventEmitter<BeatEvents> {
  /** The broker lock this beat sends under. */
  readonly lockName: string;
  /** The longest sleep between two looks at the schedule, in ms (`maxInterval`). */
  readonly maxIntervalMs: number;
  /** The pause between tries to take the lock, in ms (`lockRetryInterval`). */
  readonly lockRetryMs: number;
  private readonly entries: readonly BeatEntry[];
  private readonly states = new Map<string, EntryState>();
  private readonly file: StateFile | undefined;
  private readonly logger: Logger;
  private lock: TransportLock | undefined;
  private standingBy = false;
  /** Transports without locks: the state was loaded and the beat sends. */
  private loaded = false;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  /** Resolves when `stop()` is called: a try for the lock that waits for a reconnect is not waited for. */
  private readonly stopped: Promise<undefined>;
  private signalStop: () => void = () => undefined;

  constructor(
    /** The App whose schedule is sent (any {@link BeatApp}). */
    readonly app: BeatApp,
    options: BeatOptions = {},
  ) {
    super();
    const entries = options.schedule ? compileBeatSchedule(options.schedule) : app.conf.beatSchedule;
    this.entries = Object.values(entries);
    const file = options.scheduleFile === undefined ? DEFAULT_SCHEDULE_FILE : options.scheduleFile;
    this.file = file === null ? undefined : new StateFile(file);
    this.maxIntervalMs = seconds(options.maxInterval, DEFAULT_MAX_INTERVAL_S, 'maxInterval');
    this.lockRetryMs = seconds(options.lockRetryInterval, DEFAULT_LOCK_RETRY_S, 'lockRetryInterval');
    this.lockName = options.lockName ?? `${app.name}.beat.lock`;
    if (typeof this.lockName !== 'string' || this.lockName === '') {
      throw new ConfigurationError('beat lockName must be a non-empty string');
    }
    this.logger = getTaskLogger('queue.beat');
    this.stopped = new Promise((resolve) => (this.signalStop = () => resolve(undefined)));
  }

  /** The state file's absolute path (undefined: none). */
  get scheduleFile(): string | undefined {
    return this.file?.path;
  }

  /** True while this beat may send: it holds the lock (or its transport has none). */
  get isActive(): boolean {
    return this.app.transport.locks ? this.lock?.held === true : this.loaded;
  }

  /** Every entry with its last and next run. */
  status(): BeatEntryStatus[] {
    return this.entries.map((entry) => {
      const state = this.states.get(entry.name);
      return {
        name: entry.name,
        task: entry.task,
        schedule: entry.schedule.key,
        lastRunAt: state?.lastRunAt,
        totalRunCount: state?.totalRunCount ?? 0,
        nextRunAt: state ? entry.schedule.nextRunAfter(state.lastRunAt, this.app.conf.timezone) : undefined,
      };
    });
  }

  /**
   * Checks the state file's folder, connects (failing fast when the broker cannot be reached), then runs
   * the schedule in the background until `stop()`.
   */
  async start(): Promise<void> {
    if (this.loop) throw new ConfigurationError('this beat was started already');
    await this.file?.checkWritable();
    await this.app.connect();
    if (!this.app.transport.locks) {
      this.logger.warn(
        `the broker ${this.app.transport.displayUrl} offers no lock: run only one beat for this schedule, or each due run is sent by every beat`,
      );
    }
    this.loop = this.run();
  }

  /** Stops the loop after the sends in progress, saves the state (if this beat is the active one) and frees the lock. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.wake?.();
    await this.loop;
    if (this.isActive) await this.persist();
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release().catch((error: unknown) => {
      this.logger.warn(`could not release the lock ${this.lockName}: ${(error as Error).message}`);
    });
  }

  /**
   * One look at the schedule at time `now`: takes the lock if needed (one try), sends every due entry, and
   * returns the ms until the next look. The loop calls it; tests may call it with their own clock instead
   * of `start()`.
   */
  async tick(now: number = Date.now()): Promise<number> {
    if (!this.isActive && !(await this.activate(now))) return this.lockRetryMs;
    const timezone = this.app.conf.timezone;
    const due: BeatEntry[] = [];
    let next = this.maxIntervalMs;
    for (const entry of this.entries) {
      const state = this.states.get(entry.name)!;
      const check = isDue(entry.schedule, state.lastRunAt, now, timezone);
      if (check.due) {
        due.push(entry);
        this.states.set(entry.name, { ...state, lastRunAt: now, totalRunCount: state.totalRunCount + 1 });
      }
      next = Math.min(next, check.nextInMs);
    }
    if (due.length === 0) return next;
    // Recorded before sending: a crash in between loses a run rather than sending it twice.
    await this.persist();
    for (const entry of due) await this.send(entry, now);
    return next;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const now = Date.now();
      let delay: number;
      try {
        delay = await this.tick(now);
      } catch (error) {
        this.logger.error(`beat: ${(error as Error).message}`);
        delay = this.lockRetryMs;
      }
      // The delay counts from `now`: the time the sends took is not added to the next interval.
      if (!this.stopping) await this.sleep(Math.max(1, delay - (Date.now() - now)));
    }
  }

  /** Sleeps up to `ms`; `stop()` and a lost lock wake it at once. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Takes the lock (one try) and loads the state it guards; false while another beat holds it. */
  private async activate(now: number): Promise<boolean> {
    const locks = this.app.transport.locks;
    if (locks) {
      let lock: TransportLock | undefined;
      try {
        const trying = locks.tryAcquire(this.lockName);
        lock = await Promise.race([trying, this.stopped]);
        if (this.stopping && !lock) {
          // Stopped while the try waits (a reconnect): a lock it still gets is given back at once.
          void trying.then((late) => late?.release()).catch(() => undefined);
          return false;
        }
      } catch (error) {
        this.logger.warn(`beat: cannot take the lock ${this.lockName} now: ${(error as Error).message}`);
        return false;
      }
      if (!lock) {
        if (!this.standingBy) {
          this.logger.info(
            `beat: another beat holds the lock ${this.lockName}; standing by (trying again every ${this.lockRetryMs / 1000}s)`,
          );
        }
        this.standingBy = true;
        return false;
      }
      if (this.stopping) {
        await lock.release();
        return false;
      }
      this.lock = lock;
      this.standingBy = false;
      lock.onLost((reason) => {
        this.logger.warn(
          `beat: lost the lock ${this.lockName} (${reason}); sending nothing until it is taken again`,
        );
        this.emit('lock-lost', this.lockName, reason);
        this.wake?.();
      });
      this.logger.info(`beat: holding the lock ${this.lockName}; sending due entries`);
    }
    await this.loadState(now);
    this.loaded = true;
    if (locks) this.emit('lock-acquired', this.lockName);
    return true;
  }

  /**
   * Entry states from the file (written by the previous holder, or by this beat before a restart), merged
   * with what this process knows: for each entry the later last run wins. New entries count from `now`.
   */
  private async loadState(now: number): Promise<void> {
    const timezone = this.app.conf.timezone;
    const stored = await this.file?.read((why) =>
      this.logger.warn(`beat: ignoring the schedule file ${this.file!.path}: ${why}`),
    );
    const fromFile = stored && stored.timezone === timezone ? stored.entries : {};
    if (stored && stored.timezone !== timezone) {
      this.logger.info(
        `beat: the timezone changed (${stored.timezone} → ${timezone}): every entry starts afresh`,
      );
    }
    for (const entry of this.entries) {
      const candidates = [fromFile[entry.name], this.states.get(entry.name)].filter(
        (state): state is EntryState =>
          state !== undefined && state.task === entry.task && state.schedule === entry.schedule.key,
      );
      const latest = candidates.sort((a, b) => b.lastRunAt - a.lastRunAt)[0];
      this.states.set(
        entry.name,
        latest ?? { task: entry.task, schedule: entry.schedule.key, lastRunAt: now, totalRunCount: 0 },
      );
    }
    await this.persist();
  }

  /** Writes the state file; a failure is logged (the beat goes on, only a restart would forget). */
  private async persist(): Promise<void> {
    if (!this.file) return;
    const entries: Record<string, EntryState> = {};
    for (const entry of this.entries) {
      const state = this.states.get(entry.name);
      if (state) entries[entry.name] = state;
    }
    try {
      await this.file.write({ timezone: this.app.conf.timezone, entries });
    } catch (error) {
      this.logger.error(
        `beat: could not save the schedule file ${this.file.path}: ${(error as Error).message}`,
      );
    }
  }

  private async send(entry: BeatEntry, at: number): Promise<void> {
    this.logger.info(`Scheduler: Sending due task ${entry.name} (${entry.task})`);
    const lock = this.lock;
    const options = { ...entry.options };
    try {
      const sending = () => this.app.sendTask(entry.task, [...entry.args], { ...entry.kwargs }, options);
      const result = lock ? await whileHolding(lock, sending) : await sending();
      const totalRunCount = this.states.get(entry.name)?.totalRunCount ?? 0;
      this.emit('sent', { entry: entry.name, task: entry.task, taskId: result.id, at, totalRunCount });
    } catch (error) {
      const failure = error instanceof Error ? error : new QueueError(String(error));
      this.logger.error(`beat: sending ${entry.name} (${entry.task}) failed: ${failure.message}`);
      this.emit('send-failed', entry.name, entry.task, failure);
    }
  }
}
