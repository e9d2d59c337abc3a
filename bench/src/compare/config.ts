import type { FlagSpecs, FlagValues } from '../lib/args';
import { DEFAULT_BROKER_URL } from '../lib/broker';
import { DEFAULT_REDIS_URL } from '../lib/redis';
import { SYSTEM_IDS } from './systems';

export const SCENARIO_IDS = ['enqueue', 'drain', 'pipeline', 'roundtrip', 'latency', 'fanin'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** The comparison's command line (`node bench/dist/compare/main.js --help`). */
export const COMPARE_FLAGS = {
  systems: { description: 'systems to measure, comma-separated', default: SYSTEM_IDS.join(',') },
  scenarios: { description: 'scenarios to run, comma-separated', default: SCENARIO_IDS.join(',') },
  reps: {
    description: 'repetitions of every step (the table shows their median)',
    default: 3,
    min: 1,
    integer: true,
  },
  smoke: {
    description: 'tiny N, 1 repetition, short time limits: checks that every step still runs (CI)',
    default: false,
  },
  'n-enqueue': { description: 'tasks sent by the enqueue scenario', default: 40_000, min: 1, integer: true },
  'n-drain': { description: 'tasks drained by one worker', default: 40_000, min: 1, integer: true },
  'n-pipeline': { description: 'tasks sent to a running worker', default: 40_000, min: 1, integer: true },
  'n-roundtrip': { description: 'round trips (send + result)', default: 20_000, min: 1, integer: true },
  'n-fanin': {
    description: 'tasks sent by all fan-in clients together',
    default: 40_000,
    min: 1,
    integer: true,
  },
  'n-latency': {
    description: 'sequential round trips timed one by one (every system)',
    default: 500,
    min: 1,
    integer: true,
  },
  'n-celery': {
    description:
      "Celery's N for enqueue, drain, pipeline, round trip and fan-in (its prefork worker is far slower)",
    default: 5_000,
    min: 1,
    integer: true,
  },
  'in-flight': {
    description: 'sends awaiting their confirm at once (enqueue, pipeline; split over fan-in clients)',
    default: 200,
    min: 1,
    integer: true,
  },
  'rt-in-flight': {
    description: 'round trips awaiting their result at once',
    default: 100,
    min: 1,
    integer: true,
  },
  'fanin-clients': {
    description: 'client processes of the fan-in scenario',
    default: 4,
    min: 1,
    integer: true,
  },
  'celery-threads': {
    description: "publishing threads of each Celery client (Python's way to have sends in flight)",
    default: 8,
    min: 1,
    integer: true,
  },
  'step-timeout': {
    description: 'seconds one step (one system, one scenario, one repetition) may take',
    default: 60,
    min: 1,
  },
  'max-minutes': {
    description: 'steps not started within this many minutes are skipped',
    default: 15,
    min: 0.1,
  },
  broker: { description: 'RabbitMQ URL', default: DEFAULT_BROKER_URL },
  redis: { description: 'Redis URL (BullMQ)', default: DEFAULT_REDIS_URL },
  python: { description: 'the Python that has Celery', default: '/usr/bin/python3' },
  out: { description: 'result file (default: bench/results/compare-<ISO date>.json)', default: '' },
} satisfies FlagSpecs;

export type CompareConfig = FlagValues<typeof COMPARE_FLAGS>;

/** What `--smoke` changes (flags given on the command line still win). */
const SMOKE_DEFAULTS: Partial<Record<keyof typeof COMPARE_FLAGS, number>> = {
  reps: 1,
  'n-enqueue': 300,
  'n-drain': 300,
  'n-pipeline': 300,
  'n-roundtrip': 200,
  'n-fanin': 400,
  'n-latency': 20,
  'n-celery': 60,
  'step-timeout': 30,
  'max-minutes': 3,
};

/** The flag specs for this command line: with `--smoke`, its defaults replace the full run's. */
export function flagsFor(argv: readonly string[]): typeof COMPARE_FLAGS {
  if (!argv.some((arg) => arg === '--smoke' || arg === '--smoke=true')) return COMPARE_FLAGS;
  const specs: Record<string, FlagSpecs[string]> = { ...COMPARE_FLAGS };
  for (const [name, value] of Object.entries(SMOKE_DEFAULTS))
    specs[name] = { ...specs[name]!, default: value };
  return specs as typeof COMPARE_FLAGS;
}

/** `enqueue,drain` → the scenarios in their fixed order; throws on an unknown one. */
export function parseScenarios(list: string): ScenarioId[] {
  const wanted = new Set(
    list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const id of wanted)
    if (!(SCENARIO_IDS as readonly string[]).includes(id))
      throw new Error(`unknown scenario "${id}" (known: ${SCENARIO_IDS.join(', ')})`);
  return SCENARIO_IDS.filter((id) => wanted.has(id));
}

/** N of one step: latency is the same for every system; Celery has its own N for the others. */
export function stepN(config: CompareConfig, tier: 'main' | 'celery', scenario: ScenarioId): number {
  if (scenario === 'latency') return config['n-latency'];
  if (tier === 'celery') return config['n-celery'];
  return config[`n-${scenario}`];
}
