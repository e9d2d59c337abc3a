import type { App, Worker } from '@queue/core';
import { CounterReader, readTransportCounters, readWorkerCounters } from './internals';
import type { Sample, SamplePhase } from './protocol';

/** `process.getActiveResourcesInfo()` counted by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Takes the worker process's samples: memory after a full GC, active handles, and leak counters. */
export class Sampler {
  constructor(
    private readonly app: App,
    private readonly worker: Worker,
    private readonly startedAt: number,
  ) {}

  take(phase: SamplePhase, done: number, failed: number): Sample {
    const collect = globalThis.gc;
    collect?.();
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const reader = new CounterReader();
    readWorkerCounters(reader, this.worker);
    readTransportCounters(reader, this.app);
    return {
      phase,
      elapsedMs: Date.now() - this.startedAt,
      done,
      failed,
      afterGc: collect !== undefined,
      memory: { rss, heapTotal, heapUsed, external, arrayBuffers },
      handles: activeResources(),
      counters: reader.counters,
      unreadable: reader.unreadable,
    };
  }
}
