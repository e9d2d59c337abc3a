/**
 * When a periodic entry runs. Implemented by `every(seconds)` (a plain number means the same) and
 * `crontab(...)`; times are epoch milliseconds.
 */
export interface Schedule {
  /** The first time the entry is due after a run at `lastRunAt` (crontabs read the clock of `timezone`). */
  nextRunAfter(lastRunAt: number, timezone: string): number;
  /**
   * A stable description that changes exactly when the schedule does (`every 10s`, `crontab 0 9 * * 1-5`).
   * It is kept in the state file: an entry whose schedule changed starts afresh.
   */
  readonly key: string;
}

/** Celery's `is_due`: whether the entry is due now, and in how many ms to look at it again. */
export interface DueState {
  /** The entry should be sent now. */
  readonly due: boolean;
  /** When due: until the run after this one; else: until this one. Never negative. */
  readonly nextInMs: number;
}

/**
 * Due when the next run after `lastRunAt` has come. However many runs were missed (the beat was down), it
 * is due once: the caller records `now` as the last run, and the next one is counted from there.
 */
export function isDue(schedule: Schedule, lastRunAt: number, now: number, timezone: string): DueState {
  const next = schedule.nextRunAfter(lastRunAt, timezone);
  if (next > now) return { due: false, nextInMs: next - now };
  return { due: true, nextInMs: Math.max(0, schedule.nextRunAfter(now, timezone) - now) };
}
