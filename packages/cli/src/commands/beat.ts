import {
  App,
  Beat,
  configureLogging,
  DEFAULT_SCHEDULE_FILE,
  type BeatScheduleEntry,
  type LogFormat,
} from '@queue/core';
import { loadApp } from '../load-app';
import { handleShutdownSignals } from '../shutdown';

export interface BeatCommandOptions {
  app: string;
  broker?: string;
  scheduleFile?: string;
  maxInterval?: number;
  lockRetry?: number;
  lockName?: string;
  loglevel: string;
  logFormat?: LogFormat;
}

/**
 * The App that sends: the `--app` one, or with `--broker` an App like it on that broker. Entries keep the
 * queue of a task the module registers, as its own sends would.
 */
function senderApp(app: App, broker: string | undefined): App {
  if (!broker) return app;
  const beatSchedule: Record<string, BeatScheduleEntry> = {};
  for (const entry of Object.values(app.conf.beatSchedule)) {
    const queue = entry.options.queue ?? app.findTask(entry.task)?.options.queue;
    beatSchedule[entry.name] = {
      task: entry.task,
      schedule: entry.schedule,
      args: [...entry.args],
      kwargs: { ...entry.kwargs },
      options: queue ? { ...entry.options, queue } : { ...entry.options },
    };
  }
  return new App({
    name: app.name,
    broker,
    defaultQueue: app.conf.defaultQueue,
    timezone: app.conf.timezone,
    transportOptions: app.conf.transportOptions,
    beatSchedule,
    setAsCurrent: false,
  });
}

function banner(app: App, beat: Beat): string {
  const entries = beat
    .status()
    .map((entry) => `  . ${entry.name}: ${entry.task} (${entry.schedule})`)
    .join('\n');
  return [
    `beat: app ${app.name}, transport ${app.transport.displayUrl}, timezone ${app.conf.timezone}`,
    `beat: schedule file ${beat.scheduleFile ?? '(none)'}, max interval ${beat.maxIntervalMs / 1000}s`,
    app.transport.locks
      ? `beat: lock ${beat.lockName} (one beat sends at a time; others retry every ${beat.lockRetryMs / 1000}s)`
      : `beat: no lock on this broker: run a single beat`,
    '',
    '[entries]',
    entries || '  (none: beatSchedule is empty)',
    '',
  ].join('\n');
}

/**
 * `queue beat`: send the App's `beatSchedule` entries when due, while holding the broker lock, until
 * SIGTERM/SIGINT (then save the state, free the lock, exit 0).
 */
export async function runBeat(options: BeatCommandOptions): Promise<void> {
  configureLogging({ level: options.loglevel, format: options.logFormat });
  const loaded = await loadApp(options.app);
  const app = senderApp(loaded, options.broker);
  const beat = new Beat(app, {
    scheduleFile: options.scheduleFile ?? DEFAULT_SCHEDULE_FILE,
    maxInterval: options.maxInterval,
    lockRetryInterval: options.lockRetry,
    lockName: options.lockName,
  });
  let started: Promise<void> = Promise.resolve();
  handleShutdownSignals(
    {
      warm: async () => {
        await started.catch(() => undefined);
        process.stdout.write('beat: shutting down (saving the state, freeing the lock)\n');
        await beat.stop();
        await app.close({ timeoutMs: 0 });
      },
      cold: async () => {
        await app.transport.close();
      },
    },
    process.exit,
    'beat',
  );
  started = beat.start();
  await started;
  process.stdout.write(banner(app, beat));
  process.stdout.write('beat ready.\n');
}
