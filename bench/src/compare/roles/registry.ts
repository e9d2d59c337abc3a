import type { NodeSystemId } from '../protocol';
import type { SystemAdapter } from './adapter';

const REDIS_RESULTS = 'redis://127.0.0.1:6379/0';
const POSTGRES_RESULTS = 'postgresql://postgres@127.0.0.1:5432/test';

/** Loads only the adapter asked for, so that a worker's memory holds no other system's code. */
export async function loadAdapter(system: NodeSystemId): Promise<SystemAdapter> {
  switch (system) {
    case 'raw':
      return (await import('./raw.js')).rawAdapter;
    case 'raw-same-work':
      return (await import('./raw-same-work.js')).rawSameWorkAdapter;
    case 'ours-async':
      return (await import('./ours.js')).oursAdapter('async');
    case 'ours-redis':
      return (await import('./ours.js')).oursAdapter(
        'async',
        process.env.BENCH_REDIS_RESULTS ?? REDIS_RESULTS,
      );
    case 'ours-postgres':
      return (await import('./ours.js')).oursAdapter(
        'async',
        process.env.BENCH_POSTGRES_RESULTS ?? POSTGRES_RESULTS,
      );
    case 'ours-threads':
      return (await import('./ours.js')).oursAdapter('threads');
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqAdapter;
  }
}
