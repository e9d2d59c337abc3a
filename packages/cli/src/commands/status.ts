import { clientApp, controlOf, type ClientAppOptions } from '../client-app';

export interface StatusCommandOptions extends ClientAppOptions {
  timeout: number;
}

/**
 * `queue status <task id>`: the rpc:// backend delivers states only to the App that sent the task, so this
 * asks the running workers instead (control channel): each remembers the tasks it holds and its last 1000
 * outcomes. Prints `{ id, state, worker, ... }`; a task no worker knows is reported as PENDING (still queued,
 * or finished long ago / on a worker that is gone). Exit 0 when a worker knew it, 1 otherwise.
 */
export async function runStatus(taskId: string, options: StatusCommandOptions): Promise<number> {
  const app = clientApp('status', options);
  try {
    const control = controlOf(app);
    await app.connect();
    const replies = await control.broadcast(
      { method: 'query_task', arguments: { ids: [taskId] }, destination: [] },
      options.timeout * 1000,
    );
    const known = replies
      .map((reply) => {
        const found = (reply.ok as Record<string, { state: string; at: number }> | undefined)?.[taskId];
        return found ? { ...found, worker: reply.hostname } : undefined;
      })
      .filter((entry) => entry !== undefined)
      .sort((a, b) => b.at - a.at);
    if (known.length === 0) {
      process.stdout.write(`${JSON.stringify({ id: taskId, state: 'PENDING', worker: null })}\n`);
      process.stderr.write(
        `no running worker (of ${replies.length} that answered) holds or remembers ${taskId}\n`,
      );
      return 1;
    }
    process.stdout.write(`${JSON.stringify(known[0])}\n`);
    return 0;
  } finally {
    await app.close({ timeoutMs: 0 });
  }
}
