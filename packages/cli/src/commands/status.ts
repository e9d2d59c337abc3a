import type { JsonValue } from '@queue/core';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';

export interface StatusCommandOptions extends ClientAppOptions {
  timeout: number;
}

/** A Celery worker's `query_task` place, as a state (ours also say the state itself). */
const STATE_OF_PLACE: Record<string, string> = { active: 'STARTED', reserved: 'RECEIVED', ready: 'SUCCESS' };

/**
 * `queue status <task id>`: the rpc:// backend delivers states only to the App that sent the task, so this
 * asks the running workers instead (`query_task`): each knows the tasks it holds, and ours remember their
 * last 1000 outcomes. Prints `{ id, state, worker, name, … }`; a task no worker knows is reported as PENDING
 * (still queued, or finished long ago / on a worker that is gone). Exit 0 when a worker knew it, 1 otherwise.
 */
export async function runStatus(taskId: string, options: StatusCommandOptions): Promise<number> {
  const app = await clientApp('status', options);
  try {
    const control = controlOf(app);
    await app.connect();
    const replies = await control.inspect({ timeout: options.timeout }).queryTask(taskId);
    const known = Object.entries(replies)
      .map(([worker, found]) => {
        const entry = found?.[taskId];
        if (!Array.isArray(entry)) return undefined;
        const [place, info] = entry as [string, Record<string, JsonValue>];
        const state = typeof info.state === 'string' ? info.state : (STATE_OF_PLACE[place] ?? place);
        return { id: taskId, state, worker, name: info.name, args: info.args, kwargs: info.kwargs, place };
      })
      .filter((entry) => entry !== undefined);
    // A task that moved between workers (requeued): the one running it, or the latest to finish it, wins.
    known.sort((a, b) => (a.place === 'active' ? -1 : b.place === 'active' ? 1 : 0));
    if (known.length === 0) {
      process.stdout.write(`${JSON.stringify({ id: taskId, state: 'PENDING', worker: null })}\n`);
      process.stderr.write(
        `no running worker (of ${Object.keys(replies).length} that answered) holds or remembers ${taskId}\n`,
      );
      return 1;
    }
    process.stdout.write(`${JSON.stringify(known[0])}\n`);
    return 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
