import type { NodeSystemId } from '../protocol';
import type { SystemAdapter } from './adapter';

/** Loads only the adapter asked for, so that a worker's memory holds no other system's code. */
export async function loadAdapter(system: NodeSystemId): Promise<SystemAdapter> {
  switch (system) {
    case 'raw':
      return (await import('./raw.js')).rawAdapter;
    case 'raw-same-work':
      return (await import('./raw-same-work.js')).rawSameWorkAdapter;
    case 'ours-async':
      return (await import('./ours.js')).oursAdapter('async');
    case 'ours-threads':
      return (await import('./ours.js')).oursAdapter('threads');
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqAdapter;
  }
}
