import type { JsonValue } from '../protocol/message';
import type { ControlCommand } from '../transport/control';
import type { WorkerMonitor } from './monitor';

/** What remote control reads from a worker (the Worker, seen from here). */
export interface ControlledWorker {
  readonly hostname: string;
  readonly pool: string;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly queues: readonly string[];
  readonly uptimeSeconds: number;
  readonly monitor: WorkerMonitor;
  readonly app: { readonly taskNames: readonly string[] };
}

/** Thrown for a command this worker does not know; its message goes back to the caller. */
export class UnknownControlCommand extends Error {
  constructor(method: string) {
    super(`unknown control command ${JSON.stringify(method)}`);
    this.name = 'UnknownControlCommand';
  }
}

/** A worker's answer to one remote-control command (the subset of Celery's `inspect` that we serve). */
export async function answerControl(worker: ControlledWorker, command: ControlCommand): Promise<JsonValue> {
  switch (command.method) {
    case 'ping':
      return 'pong';
    case 'registered':
      return [...worker.app.taskNames];
    case 'active':
      return worker.monitor.inState('STARTED');
    case 'reserved':
      return worker.monitor.inState('RECEIVED');
    case 'query_task': {
      const ids = command.arguments.ids;
      const list = Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
      return Object.fromEntries(
        list.flatMap((id) => {
          const found = worker.monitor.find(id);
          return found ? [[id, found]] : [];
        }),
      );
    }
    case 'stats':
      return {
        hostname: worker.hostname,
        pid: process.pid,
        pool: worker.pool,
        concurrency: worker.concurrency,
        prefetch: worker.prefetch,
        queues: [...worker.queues],
        uptime: worker.uptimeSeconds,
        total: worker.monitor.counts,
      };
    default:
      throw new UnknownControlCommand(command.method);
  }
}
