import { InvalidScheduleError } from '../errors';
import type { Schedule } from './schedule';

/**
 * Celery's `schedule(run_every)`: due `seconds` after the last run. A new entry's last run is the moment
 * the beat starts, so the first run comes one interval later; each run counts from when it was sent (the
 * interval drifts by the sending time, as in Celery).
 */
export class IntervalSchedule implements Schedule {
  readonly key: string;
  private readonly ms: number;

  constructor(
    /** The interval between runs, in seconds. */
    readonly seconds: number,
  ) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new InvalidScheduleError(`an interval must be a number of seconds > 0 (got ${String(seconds)})`);
    }
    this.ms = Math.round(seconds * 1000);
    if (this.ms < 1) throw new InvalidScheduleError(`an interval must be at least 1 ms (got ${seconds} s)`);
    this.key = `every ${seconds}s`;
  }

  nextRunAfter(lastRunAt: number): number {
    return lastRunAt + this.ms;
  }

  toString(): string {
    return `<freq: ${this.seconds}s>`;
  }
}

/** An interval of `seconds` (a bare number in `beatSchedule` means the same). */
export function every(seconds: number): IntervalSchedule {
  return new IntervalSchedule(seconds);
}
