/** What the soak's two processes tell each other over the IPC channel (and the sample format). */

export interface MemorySample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * `start`: worker started, nothing sent yet. `running`: periodic, under load. `warm`: the warm-up tasks done
 * and the worker idle (the client pauses for it). `done`: every task done, the worker idle but still running.
 * `closed`: after `app.close()`. `warm` and `done` are taken at rest, so their counters compare exactly.
 */
export type SamplePhase = 'start' | 'running' | 'warm' | 'done' | 'closed';

export interface Sample {
  phase: SamplePhase;
  /** ms since the worker process started its worker. */
  elapsedMs: number;
  /** Tasks the worker reported as succeeded so far. */
  done: number;
  failed: number;
  /** Taken right after a full `gc()` (node --expose-gc), so it is retained memory, not garbage. */
  afterGc: boolean;
  memory: MemorySample;
  /** `process.getActiveResourcesInfo()` counted by type (Timeout, TCPSocketWrap, PipeWrap, …). */
  handles: Record<string, number>;
  /** Listener counts, channel counts, process holds and the sizes of the framework's internal collections. */
  counters: Record<string, number>;
  /** Counters that could not be read (a private field was renamed): they are missing, not zero. */
  unreadable: string[];
}

/** argv[2] of the worker process, as JSON. */
export interface WorkerArgs {
  broker: string;
  queue: string;
  hostname: string;
  tasks: number;
  concurrency: number;
  sampleMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; pid: number; sample: Sample }
  | { type: 'progress'; done: number; failed: number }
  | { type: 'sample'; sample: Sample }
  | { type: 'failed'; message: string };

/** `rest-sample`: the client has paused; sample (phase `warm`) once the worker is idle. */
export type ParentMessage = { type: 'stop' } | { type: 'rest-sample' };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  return ['ready', 'progress', 'sample', 'failed'].includes(String(value.type));
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  return value.type === 'stop' || value.type === 'rest-sample';
}
