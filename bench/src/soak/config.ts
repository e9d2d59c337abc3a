import { DEFAULT_BROKER_URL } from '../lib/broker';
import type { FlagSpecs, FlagValues } from '../lib/args';

/** The soak's command line (`node bench/dist/soak/main.js --help`). */
export const SOAK_FLAGS = {
  tasks: { description: 'tasks sent through the one worker', default: 300_000, min: 1, integer: true },
  'max-minutes': { description: 'give up (exit 1) after this long', default: 15, min: 0.1 },
  concurrency: { description: 'the worker’s concurrency', default: 16, min: 1, integer: true },
  'in-flight': {
    description: 'publishes awaiting their confirm at once',
    default: 200,
    min: 1,
    integer: true,
  },
  backlog: {
    description: 'most tasks sent and not yet done (bounds the queue on the broker)',
    default: 5_000,
    min: 1,
    integer: true,
  },
  'sample-seconds': { description: 'seconds between two samples of the worker', default: 2, min: 0.2 },
  'warmup-percent': { description: 'share of the tasks that counts as warm-up', default: 10, min: 0 },
  rows: {
    description: 'rows of the printed table (samples are thinned)',
    default: 20,
    min: 3,
    integer: true,
  },
  broker: { description: 'RabbitMQ URL', default: DEFAULT_BROKER_URL },
} satisfies FlagSpecs;

export type SoakConfig = FlagValues<typeof SOAK_FLAGS>;
