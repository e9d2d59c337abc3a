/**
 * The comparison: every scenario for every system (raw amqplib, ours with the async and the threads pool,
 * BullMQ, Celery 5.2), each worker and client in a process of its own, on the local RabbitMQ and Redis; the
 * median of `--reps` repetitions, as a markdown table with each figure's ratio to raw amqplib, and a JSON
 * file with every step and the versions of everything measured.
 *
 *   node bench/dist/compare/main.js [--systems …] [--scenarios …] [--reps 3] [--smoke] [--n-… N] [--help]
 *
 * Exit 0 when every step succeeded; 1 when some failed, timed out or were skipped (the table says which and
 * why; the run goes on past them); 2 on a bad command line.
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { parseFlags, usage, UsageError } from '../lib/args';
import { maskUrl } from '../lib/broker';
import { writeResult } from '../lib/results';
import { killAllChildren } from './child';
import { flagsFor, parseScenarios, stepN, type CompareConfig, type ScenarioId } from './config';
import { aggregate, renderReport } from './report';
import { runAll, type RunPlan } from './runner';
import { SCENARIOS } from './scenarios';
import { parseSystems, type SystemId, type SystemSpec } from './systems';
import { collectVersions, versionsLine } from './versions';

const COMMAND = 'node bench/dist/compare/main.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function writeJson(config: CompareConfig, value: unknown, at: Date): string {
  if (!config.out) return writeResult('compare', value, at);
  mkdirSync(dirname(config.out), { recursive: true });
  writeFileSync(config.out, `${JSON.stringify(value, null, 2)}\n`);
  return relative(process.cwd(), config.out) || config.out;
}

/** Why a system cannot run at all here (its service or interpreter is missing), from the version probes. */
function unavailableSystems(systems: SystemSpec[], errors: Record<string, string>): Map<SystemId, string> {
  const out = new Map<SystemId, string>();
  for (const system of systems) {
    if (errors.rabbitmq && system.store === 'rabbitmq')
      out.set(system.id, `RabbitMQ unreachable: ${errors.rabbitmq}`);
    else if (errors.redis && system.store === 'redis')
      out.set(system.id, `Redis unreachable: ${errors.redis}`);
    else if (errors.celery && system.id === 'celery')
      out.set(system.id, `Celery unavailable: ${errors.celery}`);
  }
  return out;
}

async function run(config: CompareConfig): Promise<number> {
  const systems = parseSystems(config.systems);
  const scenarios: ScenarioId[] = parseScenarios(config.scenarios);
  if (systems.length === 0 || scenarios.length === 0)
    throw new UsageError('no system or no scenario selected');
  const startedAt = new Date();
  const runDeadline = startedAt.getTime() + config['max-minutes'] * 60_000;

  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = `interrupted (${signal})`;
    killAllChildren(); // the running step fails at once; the others are skipped; cleanup still runs
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllChildren);

  const versions = await collectVersions({
    broker: config.broker,
    redis: config.redis,
    python: config.python,
    celery: systems.some((s) => s.id === 'celery'),
    redisNeeded: systems.some((s) => s.store === 'redis'),
  });
  const unavailable = unavailableSystems(systems, versions.errors);
  log(
    `compare: ${systems.map((s) => s.id).join(', ')} × ${scenarios.join(', ')} × ${config.reps} rep(s) on ${maskUrl(config.broker)}${systems.some((s) => s.store === 'redis') ? ` and ${config.redis}` : ''}; ${config['step-timeout']} s per step, ${config['max-minutes']} min in all`,
  );
  log(`compare: ${versionsLine(versions)}`);
  for (const [id, reason] of unavailable) log(`compare: ${id} is left out: ${reason}`);

  const plan: RunPlan = {
    config,
    systems,
    scenarios,
    settings: {
      broker: config.broker,
      redis: config.redis,
      python: config.python,
      inFlight: config['in-flight'],
      rtInFlight: config['rt-in-flight'],
      faninClients: config['fanin-clients'],
      celeryThreads: config['celery-threads'],
      runDeadline,
    },
    unavailable,
    runDeadline,
    interrupted: () => interrupted,
    log,
  };
  const { steps, cleanupFailures } = await runAll(plan);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  const finishedAt = new Date();
  const wallSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;

  const report = renderReport(config, steps, systems, scenarios);
  const title = `Comparison, ${finishedAt.toISOString().slice(0, 10)}: median of ${config.reps} repetition(s) (min–max) and ratio to raw amqplib in the same run${config.smoke ? ' — SMOKE RUN (tiny N: the figures mean nothing)' : ''}`;
  log('');
  log(`### ${title}`);
  log('');
  log(report.table);
  log('');
  log(
    `Versions: ${versionsLine(versions)}. Machine: ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)} at the end; run took ${wallSeconds.toFixed(0)} s.`,
  );
  for (const [i, note] of report.notes.entries()) log(`[${i + 1}] ${note}`);
  for (const failure of cleanupFailures) log(`compare: cleanup: ${failure}`);

  const file = writeJson(
    config,
    {
      kind: 'compare',
      smoke: config.smoke,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds,
      config: { ...config, broker: maskUrl(config.broker) },
      versions,
      environment: {
        platform: process.platform,
        arch: process.arch,
        cpus: cpus().length,
        loadavg: loadavg(),
      },
      systems: systems.map((s) => ({
        id: s.id,
        label: s.label,
        setup: s.setup,
        concurrency: s.concurrency,
        n: Object.fromEntries(scenarios.map((sc) => [sc, stepN(config, s.tier, sc)])),
        unavailable: unavailable.get(s.id) ?? null,
      })),
      scenarios: scenarios.map((id) => ({ id, describe: SCENARIOS[id].describe })),
      summary: aggregate(steps, systems, scenarios, config['fanin-clients']),
      table: report.table,
      notes: report.notes,
      cleanupFailures,
      steps,
    },
    finishedAt,
  );
  log(`compare: result written to ${file}`);
  const bad = steps.filter((s) => s.status !== 'ok').length;
  if (bad > 0 || interrupted) {
    process.stderr.write(
      `compare: ${bad} of ${steps.length} step(s) did not succeed${interrupted ? ` (${interrupted})` : ''}\n`,
    );
    return 1;
  }
  return 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const specs = flagsFor(argv);
  let config: CompareConfig | 'help';
  try {
    config = parseFlags(argv, specs);
    if (config !== 'help') {
      parseSystems(config.systems);
      parseScenarios(config.scenarios);
    }
  } catch (error) {
    process.stderr.write(`compare: ${(error as Error).message}\n${usage(COMMAND, specs)}\n`);
    return 2;
  }
  if (config === 'help') {
    log(usage(COMMAND, specs));
    return 0;
  }
  return run(config);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllChildren();
    process.stderr.write(`compare: FAILED: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
