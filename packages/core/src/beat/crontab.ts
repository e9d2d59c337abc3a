import { InvalidScheduleError } from '../errors';
import { expandField, FIELDS, type CronField, type FieldSpec } from './crontab-field';
import type { Schedule } from './schedule';
import { fieldsOfNaive, instantsOf, naiveMs, wallMinute } from './wall-clock';

/** The fields of `crontab({...})`, as Celery's `crontab(minute, hour, day_of_week, day_of_month, month_of_year)`. */
export interface CrontabFields {
  /** 0–59. @default '*' */
  minute?: CronField;
  /** 0–23. @default '*' */
  hour?: CronField;
  /** 0–6, 0 = Sunday, or names (`mon-fri`, `sun`). @default '*' */
  dayOfWeek?: CronField;
  /** 1–31. @default '*' */
  dayOfMonth?: CronField;
  /** 1–12, or names (`jan`). @default '*' */
  monthOfYear?: CronField;
}

const MINUTE_MS = 60_000;
/** How far ahead a match is looked for; Feb 29 on a given weekday recurs within 28 years. */
const SEARCH_YEARS = 100;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function describe(values: readonly number[], field: FieldSpec): string {
  return values.length === field.max - field.min + 1 ? '*' : values.join(',');
}

/**
 * Celery's `crontab`: due at every minute whose minute, hour, day of week, day of month and month all match,
 * on the wall clock of the App's `timezone` (UTC by default). As in Celery, a day must match `dayOfWeek`
 * **and** `dayOfMonth` (`dayOfWeek: 1, dayOfMonth: '1-7'` is the first Monday of the month), unlike
 * Vixie cron's "either". Clock changes: a time skipped when clocks go forward runs as far after the jump
 * as it was after the jump's start (02:30 → 03:30); in the hour repeated when clocks go back, a matching
 * wall time runs once.
 */
export class CrontabSchedule implements Schedule {
  /** The minutes it matches (0–59), in order. */
  readonly minute: readonly number[];
  /** The hours it matches (0–23), in order. */
  readonly hour: readonly number[];
  /** The weekdays it matches (0–6, 0 = Sunday), in order. */
  readonly dayOfWeek: readonly number[];
  /** The days of the month it matches (1–31), in order. */
  readonly dayOfMonth: readonly number[];
  /** The months it matches (1–12), in order. */
  readonly monthOfYear: readonly number[];
  readonly key: string;
  private readonly sets: {
    minute: ReadonlySet<number>;
    hour: ReadonlySet<number>;
    dayOfWeek: ReadonlySet<number>;
    dayOfMonth: ReadonlySet<number>;
    monthOfYear: ReadonlySet<number>;
  };

  constructor(fields: CrontabFields = {}) {
    if (typeof fields !== 'object' || fields === null) {
      throw new InvalidScheduleError('crontab() takes an object of fields or a 5-field string');
    }
    const unknown = Object.keys(fields).filter((key) => !(key in FIELDS));
    if (unknown.length > 0) {
      throw new InvalidScheduleError(
        `crontab: unknown field ${unknown.map((key) => `'${key}'`).join(', ')} (fields: ${Object.keys(FIELDS).join(', ')})`,
      );
    }
    this.minute = expandField(FIELDS.minute, fields.minute ?? '*');
    this.hour = expandField(FIELDS.hour, fields.hour ?? '*');
    this.dayOfWeek = expandField(FIELDS.dayOfWeek, fields.dayOfWeek ?? '*');
    this.dayOfMonth = expandField(FIELDS.dayOfMonth, fields.dayOfMonth ?? '*');
    this.monthOfYear = expandField(FIELDS.monthOfYear, fields.monthOfYear ?? '*');
    const possible = this.monthOfYear.some((month) =>
      this.dayOfMonth.some((day) => day <= DAYS_IN_MONTH[month - 1]!),
    );
    if (!possible) {
      throw new InvalidScheduleError(
        `crontab: day ${this.dayOfMonth.join(',')} of month ${this.monthOfYear.join(',')} never occurs`,
      );
    }
    this.sets = {
      minute: new Set(this.minute),
      hour: new Set(this.hour),
      dayOfWeek: new Set(this.dayOfWeek),
      dayOfMonth: new Set(this.dayOfMonth),
      monthOfYear: new Set(this.monthOfYear),
    };
    this.key = `crontab ${[
      describe(this.minute, FIELDS.minute),
      describe(this.hour, FIELDS.hour),
      describe(this.dayOfMonth, FIELDS.dayOfMonth),
      describe(this.monthOfYear, FIELDS.monthOfYear),
      describe(this.dayOfWeek, FIELDS.dayOfWeek),
    ].join(' ')}`;
  }

  /** The first matching minute strictly after `lastRunAt`, on the wall clock of `timezone`. */
  nextRunAfter(lastRunAt: number, timezone: string): number {
    const { minute, hour, dayOfWeek, dayOfMonth, monthOfYear } = this.sets;
    let t = wallMinute(lastRunAt, timezone) + MINUTE_MS;
    const end = t + SEARCH_YEARS * 366 * 86_400_000;
    // Skips whole months, days and hours that cannot match: a few hundred steps at most per year searched.
    while (t < end) {
      const f = fieldsOfNaive(t);
      if (!monthOfYear.has(f.month)) {
        t = naiveMs(f.year, f.month + 1, 1, 0, 0);
      } else if (!dayOfMonth.has(f.day) || !dayOfWeek.has(f.weekday)) {
        t = naiveMs(f.year, f.month, f.day + 1, 0, 0);
      } else if (!hour.has(f.hour)) {
        t = naiveMs(f.year, f.month, f.day, f.hour + 1, 0);
      } else if (!minute.has(f.minute)) {
        t += MINUTE_MS;
      } else {
        const instant = instantsOf(t, timezone).find((candidate) => candidate > lastRunAt);
        if (instant !== undefined) return instant;
        t += MINUTE_MS;
      }
    }
    throw new InvalidScheduleError(`${this.key} matches no time in the next ${SEARCH_YEARS} years`);
  }

  toString(): string {
    return `<${this.key}>`;
  }
}

/**
 * A crontab schedule, from fields (`crontab({ minute: 0, hour: '*\/3', dayOfWeek: 'mon-fri' })`) or from
 * a 5-field string in cron's order, `'minute hour dayOfMonth monthOfYear dayOfWeek'` (Celery 5.5's
 * `crontab.from_string`). Unset fields are `*`.
 * @throws InvalidScheduleError naming the field that is wrong.
 */
export function crontab(spec: CrontabFields | string = {}): CrontabSchedule {
  if (typeof spec !== 'string') return new CrontabSchedule(spec);
  const parts = spec.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new InvalidScheduleError(
      `crontab ${JSON.stringify(spec)}: expected 5 fields 'minute hour dayOfMonth monthOfYear dayOfWeek', got ${parts.length}`,
    );
  }
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  return new CrontabSchedule({ minute, hour, dayOfMonth, monthOfYear, dayOfWeek });
}
