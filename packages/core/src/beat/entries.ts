import { InvalidScheduleError, QueueError } from '../errors';
import { validateApplyOptions, type ApplyOptions } from '../task/apply-options';
import { IntervalSchedule } from './interval';
import type { Schedule } from './schedule';

/** Call options of a periodic run (Celery's entry `options`, passed to the send unchanged). */
export type BeatEntryOptions = Omit<ApplyOptions, 'args' | 'kwargs' | 'taskId'>;

/** One periodic task, as declared in `AppOptions.beatSchedule` (Celery's `beat_schedule` entry). */
export interface BeatScheduleEntry {
  /** The task name to send; it may be registered in no process of this App (a Python worker's task). */
  task: string;
  /** Seconds between runs (`every(seconds)`), or `crontab(...)`. */
  schedule: number | Schedule;
  /** Positional arguments of every run. @default `[]` */
  args?: unknown[];
  /** Keyword arguments of every run. @default `{}` */
  kwargs?: Record<string, unknown>;
  /** `queue`, `priority`, `expires`, `headers`, `countdown`, … as for `app.sendTask`. @default `{}` */
  options?: BeatEntryOptions;
}

/** A checked entry, as the beat runs it. */
export interface BeatEntry {
  /** The entry's name (its key in `beatSchedule`). */
  readonly name: string;
  /** The task name to send. */
  readonly task: string;
  /** When it runs (a bare number of seconds became an {@link IntervalSchedule}). */
  readonly schedule: Schedule;
  /** Positional arguments of every run. */
  readonly args: readonly unknown[];
  /** Keyword arguments of every run. */
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** Call options of every run. */
  readonly options: Readonly<BeatEntryOptions>;
}

const ENTRY_KEYS = new Set(['task', 'schedule', 'args', 'kwargs', 'options']);

function isSchedule(value: unknown): value is Schedule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Schedule).nextRunAfter === 'function' &&
    typeof (value as Schedule).key === 'string'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compileEntry(name: string, raw: unknown): BeatEntry {
  const fail = (why: string, cause?: unknown): never => {
    throw new InvalidScheduleError(`beatSchedule entry '${name}': ${why}`, { cause });
  };
  if (!isPlainObject(raw)) return fail('must be an object { task, schedule, args?, kwargs?, options? }');
  const unknown = Object.keys(raw).filter((key) => !ENTRY_KEYS.has(key));
  if (unknown.length > 0) {
    fail(`unknown key ${unknown.map((key) => `'${key}'`).join(', ')} (keys: ${[...ENTRY_KEYS].join(', ')})`);
  }
  const { task, schedule, args = [], kwargs = {}, options = {} } = raw as Partial<BeatScheduleEntry>;
  if (typeof task !== 'string' || task.trim() === '') fail('task must be a task name');
  let compiled: Schedule;
  try {
    if (typeof schedule === 'number') compiled = new IntervalSchedule(schedule);
    else if (isSchedule(schedule)) compiled = schedule;
    else return fail('schedule must be a number of seconds, every(seconds) or crontab(...)');
  } catch (error) {
    return fail((error as Error).message, error);
  }
  if (!Array.isArray(args)) fail('args must be an array');
  if (!isPlainObject(kwargs)) fail('kwargs must be an object');
  if (!isPlainObject(options)) fail('options must be an object');
  if ('taskId' in options) fail('options.taskId cannot be set: each run gets its own id');
  try {
    validateApplyOptions(task!, options);
  } catch (error) {
    if (error instanceof QueueError) fail(error.message, error);
    throw error;
  }
  return Object.freeze({
    name,
    task: task!,
    schedule: compiled,
    args: Object.freeze([...args]),
    kwargs: Object.freeze({ ...kwargs }),
    options: Object.freeze({ ...options }),
  });
}

/**
 * Checks every entry of a `beatSchedule` and returns them frozen, by name.
 * @throws InvalidScheduleError naming the entry and what is wrong with it.
 */
export function compileBeatSchedule(schedule: unknown): Readonly<Record<string, BeatEntry>> {
  if (schedule === undefined) return Object.freeze({});
  if (!isPlainObject(schedule)) {
    throw new InvalidScheduleError('beatSchedule must be an object of entries by name');
  }
  const entries: Record<string, BeatEntry> = {};
  for (const [name, raw] of Object.entries(schedule)) entries[name] = compileEntry(name, raw);
  return Object.freeze(entries);
}
