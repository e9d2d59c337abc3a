import { StepTimeout } from './child';
import { stepN, type CompareConfig, type ScenarioId } from './config';
import { SCENARIOS, type Figures } from './scenarios';
import { Session, type RunSettings } from './session';
import type { SystemId, SystemSpec } from './systems';

/** One step: one system, one scenario, one repetition. */
export interface StepRecord {
  rep: number;
  system: SystemId;
  scenario: ScenarioId;
  n: number;
  status: 'ok' | 'failed' | 'timeout' | 'skipped';
  /** Why it did not succeed. */
  reason?: string;
  /** The timed span, ms. */
  durationMs?: number;
  figures?: Figures;
  detail?: Record<string, number>;
  /** The step's wall time, process starts and stops included, ms. */
  wallMs: number;
}

export interface RunPlan {
  config: CompareConfig;
  systems: SystemSpec[];
  scenarios: ScenarioId[];
  settings: RunSettings;
  /** Systems left out before the run (their service or interpreter is missing), with the reason. */
  unavailable: Map<SystemId, string>;
  /** Steps are not started past it (epoch ms). */
  runDeadline: number;
  /** A reason to stop now (a signal), or undefined. */
  interrupted: () => string | undefined;
  log: (line: string) => void;
}

/** A system that timed out this many times has its remaining steps skipped (each would wait its limit). */
const MAX_TIMEOUTS_PER_SYSTEM = 2;

function oneLine(text: string, max = 400): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function summary(record: StepRecord): string {
  if (record.status !== 'ok') return `${record.status.toUpperCase()}: ${record.reason ?? ''}`;
  const f = record.figures ?? {};
  const parts: string[] = [];
  if (f.throughput !== undefined) parts.push(`${Math.round(f.throughput)}/s`);
  if (f.peakRss !== undefined) parts.push(`peak RSS ${(f.peakRss / 2 ** 20).toFixed(0)} MB`);
  if (f.p50Ms !== undefined) parts.push(`p50 ${f.p50Ms.toFixed(2)} ms`);
  if (f.p99Ms !== undefined) parts.push(`p99 ${f.p99Ms.toFixed(2)} ms`);
  return parts.join(', ');
}

/**
 * Every repetition, every system, every scenario, in that order (so each repetition measures all systems
 * close together in time). A step that fails or times out is recorded and its session reset; the run goes on.
 */
export async function runAll(plan: RunPlan): Promise<{ steps: StepRecord[]; cleanupFailures: string[] }> {
  const { config, log } = plan;
  const steps: StepRecord[] = [];
  const cleanupFailures: string[] = [];
  const timeouts = new Map<SystemId, number>();
  const stepMs = config['step-timeout'] * 1000;

  for (let rep = 1; rep <= config.reps; rep++) {
    for (const system of plan.systems) {
      const session = new Session(system, plan.settings);
      for (const scenario of plan.scenarios) {
        if (system.only && !system.only.includes(scenario)) continue;
        const n = stepN(config, system.tier, scenario);
        const started = Date.now();
        const skip =
          plan.unavailable.get(system.id) ??
          plan.interrupted() ??
          ((timeouts.get(system.id) ?? 0) >= MAX_TIMEOUTS_PER_SYSTEM
            ? `${MAX_TIMEOUTS_PER_SYSTEM} steps of it timed out before`
            : undefined) ??
          (started > plan.runDeadline
            ? `the run's limit of ${config['max-minutes']} min was reached`
            : undefined);
        let record: StepRecord;
        if (skip) {
          record = { rep, system: system.id, scenario, n, status: 'skipped', reason: skip, wallMs: 0 };
        } else {
          try {
            const outcome = await SCENARIOS[scenario].run(session, n, started + stepMs);
            record = {
              rep,
              system: system.id,
              scenario,
              status: 'ok',
              ...outcome,
              wallMs: Date.now() - started,
            };
          } catch (error) {
            // A child that gave up at the step's deadline says so ("time limit reached while …").
            const timedOut =
              error instanceof StepTimeout || /time limit reached/.test((error as Error).message);
            if (timedOut) timeouts.set(system.id, (timeouts.get(system.id) ?? 0) + 1);
            record = {
              rep,
              system: system.id,
              scenario,
              n,
              status: timedOut ? 'timeout' : 'failed',
              reason: oneLine(
                timedOut
                  ? `over ${config['step-timeout']} s: ${(error as Error).message}`
                  : (error as Error).message,
              ),
              wallMs: Date.now() - started,
            };
            await session.reset().catch(() => undefined);
          }
          log(
            `compare: rep ${rep}/${config.reps} ${system.id} ${scenario} (N ${n}): ${summary(record)} [${(record.wallMs / 1000).toFixed(1)} s]`,
          );
        }
        steps.push(record);
      }
      for (const failure of await session.close())
        cleanupFailures.push(`${system.id} ${session.queue}: ${failure}`);
    }
  }
  return { steps, cleanupFailures };
}
