import { getTaskLogger, Task } from '@queue/core';
import { app } from './app';
import { AppBaseTask } from './base-task';

const pingLogger = getTaskLogger('ping.logger');

/** The seed's first task: logs `pong`. Send it with `ping.delay()`, or call `ping()` to run it right here. */
export const ping = app.task({ name: 'ping' }, () => {
  pingLogger.info('pong');
  return 'pong';
});

/** Milliseconds per step of `manual` (the seed sleeps 2 s; tests and the demo go faster). */
export const manualStepMs = (): number => Number(process.env.MANUAL_STEP_MS ?? 100);

/** What `manual` needs of a record. */
export interface ManualRecord {
  title: string;
}

/** Loads a record by id; `undefined` when there is none. */
export type RecordLoader = (id: number) => Promise<ManualRecord | undefined>;

let loadRecord: RecordLoader | undefined;

/**
 * Gives `manual` its database (the seed's `TaskModel.objects.get(pk=obj_id)`). Processes without one
 * (a worker on RabbitMQ while the web process keeps its records in the embedded store) leave it unset,
 * and `manual` then works from the id alone.
 */
export function useRecordLoader(loader: RecordLoader | undefined): void {
  loadRecord = loader;
}

/** `manual` was sent for a record that does not exist. */
export class RecordNotFoundError extends Error {
  override name = 'RecordNotFoundError';
  constructor(readonly recordId: number) {
    super(`record ${recordId} does not exist`);
  }
}

/** The seed's `manual(obj_id)`: loads the record, then 50 steps, reporting PROGRESS with the percentage after each. */
@Task({
  name: 'manual',
  bind: true,
  maxRetries: 2,
  autoretryFor: [RangeError],
  timeLimit: 600,
  softTimeLimit: 590,
})
export class Manual extends AppBaseTask<[number], number> {
  async run(objId: number) {
    let label = `record ${objId}`;
    if (loadRecord) {
      const record = await loadRecord(objId);
      if (!record) throw new RecordNotFoundError(objId);
      label += ` (${JSON.stringify(record.title)})`;
    }
    const steps = 50;
    for (let i = 1; i <= steps; i++) {
      await this.sleepMs(manualStepMs());
      const percent = (i * 100) / steps;
      await this.updateState('PROGRESS', { percent });
      this.log.info(`${label}: step ${i}/${steps} (${percent}%)`);
    }
    return objId;
  }
}

// ---- tasks named for callers in other languages (a Python Celery client calls them by name) ----

/** A failure whose type name callers can rely on. */
export class SampleFailure extends Error {
  override name = 'SampleFailure';
}

export const add = app.task({ name: 'sample.add' }, (a: number, b: number) => a + b);

export const fail = app.task({ name: 'sample.fail' }, (message: string): never => {
  throw new SampleFailure(message);
});

@Task({ name: 'sample.progress' })
export class ProgressTask extends AppBaseTask<[number, number?], number> {
  override timeLimit = 600;
  override softTimeLimit = 590;
  async run(steps: number, stepMs = 10) {
    for (let i = 1; i <= steps; i++) {
      await this.sleepMs(stepMs);
      await this.updateState('PROGRESS', { percent: (i * 100) / steps });
    }
    return steps;
  }
}

export const sleep = app.task({ name: 'sample.sleep', bind: true }, async (self, seconds: number) => {
  await (self as AppBaseTask<[], unknown>).sleepMs(seconds * 1000);
  return seconds;
});
