import {
  App,
  crontab,
  CrontabSchedule,
  every,
  InvalidScheduleError,
  isDue,
  type CrontabFields,
} from '@queue/core';

/** Schedules of periodic tasks: Celery's interval (`schedule`) and `crontab` semantics. */

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('interval', () => {
  test('first run one interval after start, then one interval after each send', () => {
    const start = at('2026-01-05T10:00:00.000Z');
    const schedule = every(10);
    expect(isDue(schedule, start, start + 9_999, 'UTC')).toEqual({ due: false, nextInMs: 1 });
    expect(isDue(schedule, start, start + 10_000, 'UTC')).toEqual({ due: true, nextInMs: 10_000 });
    expect(schedule.nextRunAfter(start + 10_050)).toBe(start + 20_050); // drifts by the send time, as Celery
  });

  test('an entry overdue after downtime is due once, and the next run counts from now (no catch-up)', () => {
    const lastRun = at('2026-01-05T10:00:00.000Z');
    const now = lastRun + 3_600_000; // 360 runs missed
    expect(isDue(every(10), lastRun, now, 'UTC')).toEqual({ due: true, nextInMs: 10_000 });
    // once recorded at `now`, nothing more is due until one interval later
    expect(isDue(every(10), now, now + 1, 'UTC').due).toBe(false);
  });

  test('fractions of a second, and a stable key', () => {
    expect(every(0.25).nextRunAfter(1000)).toBe(1250);
    expect(every(2).key).toBe('every 2s');
  });

  test.each([0, -1, NaN, Infinity, '5' as unknown as number])('every(%p) is refused', (value) => {
    expect(() => every(value)).toThrow(InvalidScheduleError);
  });
});

describe('crontab fields (Celery’s crontab_parser)', () => {
  const fields = (spec: CrontabFields) => new CrontabSchedule(spec);

  test('*, */n, a-b, a-b/n and lists', () => {
    expect(fields({ minute: '*/15' }).minute).toEqual([0, 15, 30, 45]);
    expect(fields({ minute: '1,13,30-45,50-59/2' }).minute).toEqual([
      1, 13, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 50, 52, 54, 56, 58,
    ]);
    expect(fields({ hour: '0,8-17/2' }).hour).toEqual([0, 8, 10, 12, 14, 16]);
    expect(fields({ hour: '*' }).hour).toHaveLength(24);
    expect(fields({ dayOfMonth: '*/3' }).dayOfMonth).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31]);
    expect(fields({ monthOfYear: '*/2' }).monthOfYear).toEqual([1, 3, 5, 7, 9, 11]);
    expect(fields({ monthOfYear: '2-12/2' }).monthOfYear).toEqual([2, 4, 6, 8, 10, 12]);
    expect(fields({ minute: 7 }).minute).toEqual([7]);
    expect(fields({ minute: [30, 0, 30] }).minute).toEqual([0, 30]);
    expect(fields({ minute: ' 5 , 10 ' }).minute).toEqual([5, 10]);
  });

  test('day names, 0 = Sunday, ranges that wrap around, month names', () => {
    expect(fields({ dayOfWeek: 'mon-fri' }).dayOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(fields({ dayOfWeek: 'sun' }).dayOfWeek).toEqual([0]);
    expect(fields({ dayOfWeek: 'Sunday,saturday' }).dayOfWeek).toEqual([0, 6]);
    expect(fields({ dayOfWeek: 'fri-mon' }).dayOfWeek).toEqual([0, 1, 5, 6]);
    expect(fields({ dayOfWeek: '*/2' }).dayOfWeek).toEqual([0, 2, 4, 6]); // days divisible by two, as Celery
    expect(fields({ hour: '22-2' }).hour).toEqual([0, 1, 2, 22, 23]);
    expect(fields({ monthOfYear: 'jan,jul-aug' }).monthOfYear).toEqual([1, 7, 8]);
  });

  test('a 5-field string is minute hour dayOfMonth monthOfYear dayOfWeek', () => {
    const schedule = crontab('0 9 1-7 * mon');
    expect(schedule.minute).toEqual([0]);
    expect(schedule.hour).toEqual([9]);
    expect(schedule.dayOfMonth).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(schedule.monthOfYear).toHaveLength(12);
    expect(schedule.dayOfWeek).toEqual([1]);
    expect(schedule.key).toBe('crontab 0 9 1,2,3,4,5,6,7 * 1');
    // the same schedule written differently has the same key (so the state file is not reset)
    expect(crontab({ minute: 0, hour: 9, dayOfMonth: '1-7', dayOfWeek: 1 }).key).toBe(schedule.key);
  });

  test.each<[CrontabFields | string, RegExp]>([
    [{ minute: 60 }, /minute 60: 60 is outside 0–59/],
    [{ minute: '*/0' }, /minute "\*\/0": step '0' must be a whole number ≥ 1/],
    [{ minute: '*/' }, /step '' must be/],
    [{ minute: '5/15' }, /minute "5\/15": cannot read '5\/15'/],
    [{ minute: '' }, /minute "": empty/],
    [{ minute: '1,,2' }, /empty part/],
    [{ minute: 'mon' }, /minute "mon": 'mon' is not a valid value/],
    [{ minute: '-1' }, /negative numbers are not supported/],
    [{ minute: 1.5 }, /1.5 is not a whole number/],
    [{ minute: [] }, /an empty list matches nothing/],
    [{ hour: '24' }, /hour "24": 24 is outside 0–23/],
    [{ hour: '9-25' }, /25 is outside 0–23/],
    [{ dayOfWeek: 7 }, /dayOfWeek 7: 7 is outside 0–6/],
    [{ dayOfWeek: 'funday' }, /'funday' is not a valid value \(a number 0–6 or a name such as mon\)/],
    [{ dayOfMonth: 0 }, /dayOfMonth 0: 0 is outside 1–31/],
    [{ monthOfYear: '13' }, /13 is outside 1–12/],
    [{ dayOfMonth: '30-31', monthOfYear: 'feb' }, /day 30,31 of month 2 never occurs/],
    [{ minutes: 5 } as CrontabFields, /unknown field 'minutes'/],
    ['0 9 * *', /expected 5 fields/],
    ['0 9 * * * *', /got 6/],
  ])('crontab(%p) is refused with a message naming the field', (spec, message) => {
    const make = () => crontab(spec);
    expect(make).toThrow(InvalidScheduleError);
    expect(make).toThrow(message);
  });
});

describe('crontab next run', () => {
  test('every 15 minutes, from a time between matches and from a match itself', () => {
    const schedule = crontab({ minute: '*/15' });
    expect(iso(schedule.nextRunAfter(at('2026-01-05T10:07:31Z'), 'UTC'))).toBe('2026-01-05T10:15:00.000Z');
    expect(iso(schedule.nextRunAfter(at('2026-01-05T10:15:00.004Z'), 'UTC'))).toBe(
      '2026-01-05T10:30:00.000Z',
    );
    expect(iso(schedule.nextRunAfter(at('2026-01-05T23:59:00Z'), 'UTC'))).toBe('2026-01-06T00:00:00.000Z');
  });

  test('dayOfWeek 0 is Sunday', () => {
    // 2026-01-07 is a Wednesday
    const sunday = crontab({ minute: 0, hour: 9, dayOfWeek: 0 });
    expect(iso(sunday.nextRunAfter(at('2026-01-07T12:00:00Z'), 'UTC'))).toBe('2026-01-11T09:00:00.000Z');
    expect(new Date(sunday.nextRunAfter(at('2026-01-07T12:00:00Z'), 'UTC')).getUTCDay()).toBe(0);
    const weekdays = crontab('30 7 * * mon-fri');
    expect(iso(weekdays.nextRunAfter(at('2026-01-09T08:00:00Z'), 'UTC'))).toBe('2026-01-12T07:30:00.000Z'); // Fri → Mon
  });

  test('a day must match dayOfWeek AND dayOfMonth (Celery), not either (Vixie cron)', () => {
    const firstMonday = crontab({ minute: 0, hour: 0, dayOfWeek: 'mon', dayOfMonth: '1-7' });
    const runs: string[] = [];
    let t = at('2026-01-01T00:00:00Z');
    for (let i = 0; i < 4; i++) runs.push(iso((t = firstMonday.nextRunAfter(t, 'UTC'))));
    expect(runs).toEqual([
      '2026-01-05T00:00:00.000Z',
      '2026-02-02T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-04-06T00:00:00.000Z',
    ]);
  });

  test('months and leap days: Feb 29 is found years ahead', () => {
    expect(iso(crontab('0 12 29 2 *').nextRunAfter(at('2026-03-01T00:00:00Z'), 'UTC'))).toBe(
      '2028-02-29T12:00:00.000Z',
    );
    expect(iso(crontab('0 0 1 jan,jul *').nextRunAfter(at('2026-02-10T00:00:00Z'), 'UTC'))).toBe(
      '2026-07-01T00:00:00.000Z',
    );
  });

  test('an overdue crontab is due once, then due again at its next time after now', () => {
    const hourly = crontab({ minute: 0 });
    const lastRun = at('2026-01-05T01:00:00Z');
    const now = at('2026-01-05T10:20:00Z');
    expect(isDue(hourly, lastRun, now, 'UTC')).toEqual({ due: true, nextInMs: 40 * 60_000 });
    expect(isDue(hourly, now, now + 1000, 'UTC')).toEqual({ due: false, nextInMs: 40 * 60_000 - 1000 });
  });

  test('in the App’s timezone: 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer', () => {
    const nine = crontab({ minute: 0, hour: 9 });
    expect(iso(nine.nextRunAfter(at('2026-01-05T15:00:00Z'), 'America/New_York'))).toBe(
      '2026-01-06T14:00:00.000Z',
    );
    expect(iso(nine.nextRunAfter(at('2026-07-05T15:00:00Z'), 'America/New_York'))).toBe(
      '2026-07-06T13:00:00.000Z',
    );
    // Monday 00:30 in Tokyo is still Sunday in UTC: the day fields are read on Tokyo's clock
    expect(iso(crontab('30 0 * * mon').nextRunAfter(at('2026-01-07T00:00:00Z'), 'Asia/Tokyo'))).toBe(
      '2026-01-11T15:30:00.000Z',
    );
  });

  test('clock changes: a skipped time runs after the jump; a repeated wall time runs once', () => {
    // Paris, 2026-03-29: 02:00 CET → 03:00 CEST. 02:30 does not exist: it runs at 03:30 CEST (01:30Z).
    const twoThirty = crontab('30 2 * * *');
    const spring = twoThirty.nextRunAfter(at('2026-03-28T23:00:00Z'), 'Europe/Paris');
    expect(iso(spring)).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(twoThirty.nextRunAfter(spring, 'Europe/Paris'))).toBe('2026-03-30T00:30:00.000Z');
    // 2026-10-25: 03:00 CEST → 02:00 CET. 02:30 happens twice; the job runs at the first one only.
    const autumn = twoThirty.nextRunAfter(at('2026-10-24T23:00:00Z'), 'Europe/Paris');
    expect(iso(autumn)).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(twoThirty.nextRunAfter(autumn, 'Europe/Paris'))).toBe('2026-10-26T01:30:00.000Z');
  });

  test('agrees with a minute-by-minute scan of the wall clock (UTC and Paris, across the year)', () => {
    const formats = new Map<string, Intl.DateTimeFormat>();
    const format = (timeZone: string) =>
      formats.get(timeZone) ??
      formats
        .set(
          timeZone,
          new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            weekday: 'short',
          }),
        )
        .get(timeZone)!;
    const wall = (ms: number, timeZone: string) => {
      const parts: Record<string, string> = Object.fromEntries(
        format(timeZone)
          .formatToParts(new Date(ms))
          .map((part) => [part.type, part.value]),
      );
      const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!);
      return { minute: parts.minute, hour: parts.hour, day: parts.day, month: parts.month, weekday };
    };
    const specs = ['*/7 3-5 * * *', '0 0 * * sun', '15 */6 1,15 * *', '0 12 * */4 mon-wed', '59 23 31 * *'];
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const spec of specs) {
      const schedule = crontab(spec);
      for (const timezone of ['UTC', 'Europe/Paris']) {
        for (let sample = 0; sample < 6; sample++) {
          const from = at('2026-01-01T00:00:00Z') + Math.floor(random() * 360 * 86_400_000);
          // Scan forward minute by minute (bounded: two months) for the first minute whose wall clock matches.
          let expected: number | undefined;
          for (let t = Math.floor(from / 60_000) * 60_000 + 60_000; t < from + 62 * 86_400_000; t += 60_000) {
            // Paris is a whole number of hours off UTC: the UTC minute must match (cheap) before the full check.
            if (!schedule.minute.includes(new Date(t).getUTCMinutes())) continue;
            const w = wall(t, timezone);
            if (
              schedule.minute.includes(Number(w.minute)) &&
              schedule.hour.includes(Number(w.hour)) &&
              schedule.dayOfMonth.includes(Number(w.day)) &&
              schedule.monthOfYear.includes(Number(w.month)) &&
              schedule.dayOfWeek.includes(w.weekday)
            ) {
              expected = t;
              break;
            }
          }
          if (expected === undefined) continue; // '59 23 31' may be further than two months
          expect([spec, timezone, iso(schedule.nextRunAfter(from, timezone))]).toEqual([
            spec,
            timezone,
            iso(expected),
          ]);
        }
      }
    }
  });
});

describe('declaring schedules in the App', () => {
  test('beatSchedule entries are checked and frozen; a number means seconds', () => {
    const app = new App({
      name: 'beat-conf',
      setAsCurrent: false,
      timezone: 'Europe/Paris',
      beatSchedule: {
        every5: {
          task: 'x.tick',
          schedule: 5,
          args: [1],
          kwargs: { a: 2 },
          options: { queue: 'q', priority: 3 },
        },
        daily: { task: 'x.daily', schedule: crontab('0 7 * * *') },
      },
    });
    expect(app.conf.timezone).toBe('Europe/Paris');
    expect(Object.keys(app.conf.beatSchedule)).toEqual(['every5', 'daily']);
    expect(app.conf.beatSchedule.every5).toMatchObject({
      name: 'every5',
      task: 'x.tick',
      args: [1],
      kwargs: { a: 2 },
      options: { queue: 'q', priority: 3 },
    });
    expect(app.conf.beatSchedule.every5!.schedule.key).toBe('every 5s');
    expect(Object.isFrozen(app.conf.beatSchedule.every5)).toBe(true);
    expect(new App({ name: 'beat-default', setAsCurrent: false }).conf).toMatchObject({
      beatSchedule: {},
      timezone: 'UTC',
    });
  });

  test.each<[string, unknown, RegExp]>([
    ['no task', { bad: { schedule: 5 } }, /beatSchedule entry 'bad': task must be a task name/],
    ['no schedule', { bad: { task: 't' } }, /entry 'bad': schedule must be a number of seconds/],
    [
      'a zero interval',
      { bad: { task: 't', schedule: 0 } },
      /entry 'bad': an interval must be a number of seconds > 0/,
    ],
    ['a string schedule', { bad: { task: 't', schedule: '* * * * *' } }, /entry 'bad': schedule must be/],
    [
      'an unknown key',
      { bad: { task: 't', schedule: 1, relative: true } },
      /entry 'bad': unknown key 'relative'/,
    ],
    ['args not a list', { bad: { task: 't', schedule: 1, args: 5 } }, /entry 'bad': args must be an array/],
    [
      'bad call options',
      { bad: { task: 't', schedule: 1, options: { priority: 300 } } },
      /entry 'bad': .*priority/,
    ],
    [
      'a fixed task id',
      { bad: { task: 't', schedule: 1, options: { taskId: 'x' } } },
      /entry 'bad': options.taskId/,
    ],
    ['an entry that is not an object', { bad: 3 }, /entry 'bad': must be an object/],
  ])('%s: a ConfigurationError naming the entry', (_, beatSchedule, message) => {
    const make = () =>
      new App({ name: 'beat-bad', setAsCurrent: false, beatSchedule: beatSchedule as Record<string, never> });
    expect(make).toThrow(InvalidScheduleError);
    expect(make).toThrow(message);
  });

  test('an unknown timezone is refused', () => {
    expect(() => new App({ name: 'tz', setAsCurrent: false, timezone: 'Mars/Olympus' })).toThrow(
      /unknown timezone "Mars\/Olympus"/,
    );
  });
});
