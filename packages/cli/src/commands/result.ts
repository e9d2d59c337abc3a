import { EXCEPTION_STATES, READY_STATES, States, TimeoutError, type App, type JsonValue } from '@queue/core';
import { deserializeError, type StateMessage } from '@queue/core/transport';
import { CliUsageError } from '../cli-error';
import { clientApp, type ClientAppOptions } from '../client-app';
import { followStates } from '../progress/follow-states';
import { rendererFor } from '../progress/renderer';

export interface ResultCommandOptions extends ClientAppOptions {
  wait: boolean;
  timeout: number;
}

/** Backends whose states cannot be read by another process. */
const UNREADABLE: Record<string, string> = {
  rpc: 'rpc:// keeps no states to read (each goes only to the process that sent the task)',
  memory: 'memory:// keeps states inside one process only',
};

/** The App to read from: `--app`'s, or one on `--result-backend` (a broker is then optional). */
async function resultApp(options: ResultCommandOptions): Promise<App> {
  if (!options.app && !options.broker) {
    if (!options.resultBackend) {
      throw new CliUsageError(
        'queue result needs --result-backend <url> (redis://…, postgresql://…) or --app <module>',
      );
    }
    return await clientApp('result', { ...options, broker: 'memory://' }); // nothing is sent: no broker needed
  }
  return await clientApp('result', options);
}

/** `{ id, state, result | error, traceback, date_done }`, as stored. */
function printable(id: string, stored: StateMessage | undefined): Record<string, JsonValue> {
  if (!stored) return { id, state: States.PENDING, result: null, date_done: null };
  const shown: Record<string, JsonValue> = { id, state: stored.state };
  if (EXCEPTION_STATES.has(stored.state)) {
    const error = deserializeError(stored.result, null, id);
    shown.error = { type: error.excType, message: error.excMessage };
  } else {
    shown.result = stored.result;
  }
  if (stored.traceback) shown.traceback = stored.traceback;
  shown.date_done = stored.dateDone ?? null;
  return shown;
}

/**
 * `queue result <task id>`: prints the task's stored state (`--result-backend` redis:// or postgresql://, or
 * the `--app`'s backend) as JSON; `--wait` follows it until it is ready. Exit 0 for SUCCESS or a state not
 * yet ready, 1 for FAILURE/REVOKED, nothing stored, or a timeout; 2 for a backend that keeps nothing to read.
 */
export async function runResult(taskId: string, options: ResultCommandOptions): Promise<number> {
  const app = await resultApp(options);
  try {
    const scheme = app.resultBackendName.toLowerCase();
    const unreadable = UNREADABLE[scheme];
    if (unreadable) {
      throw new CliUsageError(
        `queue result: ${unreadable}; use --result-backend redis://… or postgresql://…, or ask the workers: queue status ${taskId}`,
      );
    }
    if (options.wait) {
      const renderer = rendererFor(process.stderr);
      const outcome = await followStates(app.asyncResult(taskId), options.timeout * 1000, (change) =>
        renderer.update(change),
      );
      renderer.end();
      if (outcome.timedOut) {
        process.stderr.write(`${new TimeoutError(taskId, options.timeout).message}\n`);
        return 1;
      }
    }
    const stored = await app.backend.fetch(taskId);
    process.stdout.write(`${JSON.stringify(printable(taskId, stored))}\n`);
    if (!stored) {
      process.stderr.write(`no state stored for ${taskId} in the ${scheme} result backend\n`);
      return 1;
    }
    return READY_STATES.has(stored.state) && stored.state !== States.SUCCESS ? 1 : 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
