import { InvalidScheduleError } from '../errors';

/** A time as a clock on the wall of some timezone shows it (month 1–12, weekday 0 = Sunday). */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly weekday: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True for `UTC` and its aliases: no conversion needed (and no ICU data). */
function isUtc(timezone: string): boolean {
  return /^(utc|etc\/utc|gmt|etc\/gmt|z)$/i.test(timezone);
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** @throws InvalidScheduleError unless `timezone` is an IANA name this Node knows (`UTC`, `Europe/Paris`). */
export function checkTimezone(timezone: string): void {
  if (typeof timezone !== 'string' || timezone === '') {
    throw new InvalidScheduleError(`timezone must be an IANA name such as 'UTC' or 'Europe/Paris'`);
  }
  if (isUtc(timezone)) return;
  try {
    formatterFor(timezone);
  } catch (error) {
    throw new InvalidScheduleError(
      `unknown timezone ${JSON.stringify(timezone)} (use an IANA name such as 'UTC' or 'Europe/Paris')`,
      { cause: error },
    );
  }
}

/** The naive minute (a UTC-based epoch used only as a calendar) for wall-clock fields. */
export function naiveMs(year: number, month: number, day: number, hour: number, minute: number): number {
  return Date.UTC(year, month - 1, day, hour, minute);
}

/** Reads a naive epoch back as wall-clock fields. */
export function fieldsOfNaive(naive: number): WallTime {
  const date = new Date(naive);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    weekday: date.getUTCDay(),
  };
}

/** The wall-clock minute of instant `ms` in `timezone`, as a naive epoch (seconds dropped). */
export function wallMinute(ms: number, timezone: string): number {
  if (isUtc(timezone)) return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return naiveMs(parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!);
}

/** Minutes `timezone` is ahead of UTC at instant `ms` (whole minutes: every zone in use today). */
function offsetMs(ms: number, timezone: string): number {
  const floored = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  return wallMinute(floored, timezone) - floored;
}

/**
 * The instants at which the wall clock of `timezone` shows `naive`, earliest first: one, two in the hour
 * repeated when clocks go back, and none in the gap when they go forward (then the instant the clock would
 * show it with the offset in force before the jump, i.e. as far after the jump as `naive` is after its start).
 */
export function instantsOf(naive: number, timezone: string): number[] {
  if (isUtc(timezone)) return [naive];
  // A day on either side: no zone changes its offset twice within two days.
  const before = naive - offsetMs(naive - DAY_MS, timezone);
  const after = naive - offsetMs(naive + DAY_MS, timezone);
  const found = [...new Set([before, after])]
    .filter((instant) => wallMinute(instant, timezone) === naive)
    .sort((a, b) => a - b);
  return found.length > 0 ? found : [before];
}
