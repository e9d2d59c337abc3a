import { leastSquaresSlope, MB } from '../lib/stats';
import type { Sample } from './protocol';

/** Memory at one point of the run, in MB. */
export interface MemoryPoint {
  done: number;
  elapsedMs: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/**
 * One counter over the run. At rest (worker idle) after warm-up and at the end, every counter should be
 * equal: a larger value at the end is growth. Under load, per-message counters (in flight, timers of
 * running tasks) move with the load; their peaks are shown, not judged.
 */
export interface CounterCourse {
  name: string;
  start: number | null;
  restAfterWarmup: number | null;
  restAtEnd: number | null;
  peakToWarmup: number | null;
  peakAfterWarmup: number | null;
  afterClose: number | null;
  /** Higher at rest at the end than at rest after warm-up. */
  grew: boolean;
}

export interface SoakSummary {
  tasks: number;
  warmupTasks: number;
  samples: number;
  start: MemoryPoint | null;
  warmup: MemoryPoint | null;
  end: MemoryPoint | null;
  afterClose: MemoryPoint | null;
  /** Least-squares slopes over the samples from warm-up to the end, MB per 100,000 tasks. */
  rssMbPer100k: number | null;
  heapUsedMbPer100k: number | null;
  externalMbPer100k: number | null;
  /** Tasks per second over the whole run, and from warm-up to the end (the pause at warm-up included). */
  tasksPerSecond: number | null;
  tasksPerSecondAfterWarmup: number | null;
  counters: CounterCourse[];
  /** Counters higher at rest at the end than at rest after warm-up. */
  grown: string[];
  /** Counters that could not be read in some sample. */
  unreadable: string[];
}

function point(sample: Sample | undefined): MemoryPoint | null {
  if (!sample) return null;
  return {
    done: sample.done,
    elapsedMs: sample.elapsedMs,
    rssMb: sample.memory.rss / MB,
    heapUsedMb: sample.memory.heapUsed / MB,
    externalMb: sample.memory.external / MB,
  };
}

/** Every counter of a sample, active handles included as `handles.<type>`. */
export function countersOf(sample: Sample): Record<string, number> {
  const all: Record<string, number> = { ...sample.counters };
  for (const [type, count] of Object.entries(sample.handles)) all[`handles.${type}`] = count;
  return all;
}

function max(values: Array<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? Math.max(...present) : null;
}

function slopePer100k(samples: readonly Sample[], value: (s: Sample) => number): number | null {
  const slope = leastSquaresSlope(samples.map((s) => ({ x: s.done, y: value(s) / MB })));
  return slope === undefined ? null : slope * 100_000;
}

/** Samples taken while the worker ran (before `app.close()`), in order. */
export function runSamples(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.phase !== 'closed').sort((a, b) => a.elapsedMs - b.elapsedMs);
}

/** Index (in `run`) of the warm-up sample: the one at rest, else the first at or past the warm-up count. */
export function warmupIndex(run: readonly Sample[], warmupTasks: number): number {
  const atRest = run.findIndex((s) => s.phase === 'warm');
  return atRest >= 0 ? atRest : run.findIndex((s) => s.done >= warmupTasks && s.done > 0);
}

/** Index (in `run`) of the end sample: the one at rest once every task was done, else the last. */
export function endIndex(run: readonly Sample[]): number {
  const atRest = run.findIndex((s) => s.phase === 'done');
  return atRest >= 0 ? atRest : run.length - 1;
}

export function summarize(samples: readonly Sample[], tasks: number, warmupPercent: number): SoakSummary {
  const warmupTasks = Math.ceil((tasks * warmupPercent) / 100);
  const run = runSamples(samples);
  const closed = samples.find((s) => s.phase === 'closed');
  const w = warmupIndex(run, warmupTasks);
  const e = endIndex(run);
  const toWarmup = w < 0 ? run : run.slice(0, w + 1);
  const afterWarmup = w < 0 ? [] : run.slice(w);
  const first = run[0];
  const warm = w < 0 ? undefined : run[w];
  const last = e < 0 ? undefined : run[e];

  const names = new Set<string>();
  for (const sample of samples) for (const name of Object.keys(countersOf(sample))) names.add(name);
  const valueAt = (sample: Sample | undefined, name: string): number | null => {
    if (!sample) return null;
    // A handle type absent from a sample means none of it; other counters absent were unreadable.
    return countersOf(sample)[name] ?? (name.startsWith('handles.') ? 0 : null);
  };
  const counters = [...names].sort().map((name): CounterCourse => {
    const restAfterWarmup = valueAt(warm, name);
    const restAtEnd = valueAt(last, name);
    return {
      name,
      start: valueAt(first, name),
      restAfterWarmup,
      restAtEnd,
      peakToWarmup: max(toWarmup.map((s) => valueAt(s, name))),
      peakAfterWarmup: max(afterWarmup.map((s) => valueAt(s, name))),
      afterClose: valueAt(closed, name),
      grew: restAfterWarmup !== null && restAtEnd !== null && restAtEnd > restAfterWarmup,
    };
  });

  const seconds = (a: Sample | undefined, b: Sample | undefined) =>
    a && b && b.elapsedMs > a.elapsedMs ? (b.elapsedMs - a.elapsedMs) / 1000 : undefined;
  const total = seconds(first, last);
  const warmSpan = seconds(warm, last);
  return {
    tasks,
    warmupTasks,
    samples: samples.length,
    start: point(first),
    warmup: point(warm),
    end: point(last),
    afterClose: point(closed),
    rssMbPer100k: slopePer100k(afterWarmup, (s) => s.memory.rss),
    heapUsedMbPer100k: slopePer100k(afterWarmup, (s) => s.memory.heapUsed),
    externalMbPer100k: slopePer100k(afterWarmup, (s) => s.memory.external),
    tasksPerSecond: total && last ? last.done / total : null,
    tasksPerSecondAfterWarmup: warmSpan && last && warm ? (last.done - warm.done) / warmSpan : null,
    counters,
    grown: counters.filter((c) => c.grew).map((c) => c.name),
    unreadable: [...new Set(samples.flatMap((s) => s.unreadable))].sort(),
  };
}
