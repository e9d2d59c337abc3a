import { InvalidScheduleError } from '../errors';

/** One crontab field: its name (for errors), its range, and the names it accepts. */
export interface FieldSpec {
  readonly name: 'minute' | 'hour' | 'dayOfWeek' | 'dayOfMonth' | 'monthOfYear';
  readonly min: number;
  readonly max: number;
  /** Three-letter names → numbers (Celery matches on the first three letters: `mon`, `monday`). */
  readonly names?: Readonly<Record<string, number>>;
}

const DAY_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MONTH_NAMES = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

export const FIELDS = {
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dayOfWeek: { name: 'dayOfWeek', min: 0, max: 6, names: DAY_NAMES },
  dayOfMonth: { name: 'dayOfMonth', min: 1, max: 31 },
  monthOfYear: { name: 'monthOfYear', min: 1, max: 12, names: MONTH_NAMES },
} as const satisfies Record<string, FieldSpec>;

/** What a field may be given as: a Celery pattern string, one number, or a list of numbers. */
export type CronField = string | number | readonly number[];

function fail(field: FieldSpec, spec: unknown, why: string): never {
  throw new InvalidScheduleError(`crontab ${field.name} ${JSON.stringify(spec)}: ${why}`);
}

function checkRange(field: FieldSpec, spec: unknown, value: number): number {
  if (!Number.isInteger(value)) fail(field, spec, `${value} is not a whole number`);
  if (value < field.min || value > field.max) {
    fail(field, spec, `${value} is outside ${field.min}–${field.max}`);
  }
  return value;
}

/** A number or a name (`mon`, `monday`, `jan`), as Celery's `_expand_number`. */
function expandNumber(field: FieldSpec, spec: string, token: string): number {
  if (/^\d+$/.test(token)) return checkRange(field, spec, Number(token));
  const named = field.names?.[token.slice(0, 3).toLowerCase()];
  if (named === undefined || !/^[a-z]+$/i.test(token)) {
    const hint = field.names
      ? ` (a number ${field.min}–${field.max} or a name such as ${Object.keys(field.names)[1]})`
      : '';
    fail(field, spec, `'${token}' is not a valid value${hint}`);
  }
  return named;
}

/** `a-b`; a range whose end is below its start wraps around (`fri-mon`, `22-2`), as Celery. */
function expandRange(field: FieldSpec, spec: string, from: string, to: string): number[] {
  const start = expandNumber(field, spec, from);
  const end = expandNumber(field, spec, to);
  const values: number[] = [];
  if (end >= start) {
    for (let v = start; v <= end; v++) values.push(v);
  } else {
    for (let v = start; v <= field.max; v++) values.push(v);
    for (let v = field.min; v <= end; v++) values.push(v);
  }
  return values;
}

function everyNth(field: FieldSpec, spec: string, values: number[], step: string): number[] {
  if (!/^\d+$/.test(step) || Number(step) < 1) fail(field, spec, `step '${step}' must be a whole number ≥ 1`);
  return values.filter((_, index) => index % Number(step) === 0);
}

function expandPart(field: FieldSpec, spec: string, part: string): number[] {
  const all = (): number[] => expandRange(field, spec, String(field.min), String(field.max));
  let match = /^(\w+)-(\w+)\/(\w*)$/.exec(part);
  if (match) return everyNth(field, spec, expandRange(field, spec, match[1]!, match[2]!), match[3]!);
  match = /^(\w+)-(\w+)$/.exec(part);
  if (match) return expandRange(field, spec, match[1]!, match[2]!);
  match = /^\*\/(\w*)$/.exec(part);
  if (match) return everyNth(field, spec, all(), match[1]!);
  if (part === '*') return all();
  if (/^\w+$/.test(part)) return [expandNumber(field, spec, part)];
  if (part.startsWith('-')) fail(field, spec, 'negative numbers are not supported');
  return fail(field, spec, `cannot read '${part}' (use *, */n, a-b, a-b/n, a list a,b or a name)`);
}

/**
 * Celery's `crontab_parser`: expands a field to the sorted values it matches. Strings take `*`, `*\/n`,
 * `a-b`, `a-b/n` and lists of those (`1,13,30-45,50-59/2`); `dayOfWeek` also takes day names (0 = Sunday,
 * 7 is refused as in Celery) and `monthOfYear` month names. A number or a list of numbers is taken as is.
 * @throws InvalidScheduleError naming the field and what is wrong.
 */
export function expandField(field: FieldSpec, spec: CronField): number[] {
  let values: number[];
  if (typeof spec === 'number') {
    values = [checkRange(field, spec, spec)];
  } else if (Array.isArray(spec)) {
    if (spec.length === 0) fail(field, spec, 'an empty list matches nothing');
    values = spec.map((value: unknown) =>
      typeof value === 'number'
        ? checkRange(field, spec, value)
        : fail(field, spec, 'lists hold numbers only'),
    );
  } else if (typeof spec === 'string') {
    const text = spec.trim();
    if (text === '') fail(field, spec, 'empty');
    values = text.split(',').flatMap((part) => {
      const trimmed = part.trim();
      if (trimmed === '') fail(field, spec, 'empty part in the list');
      return expandPart(field, spec, trimmed);
    });
  } else {
    return fail(field, spec, 'must be a pattern string, a number or a list of numbers');
  }
  return [...new Set(values)].sort((a, b) => a - b);
}
