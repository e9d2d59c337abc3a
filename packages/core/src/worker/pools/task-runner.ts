import type { BaseTask } from '../../task/base-task';
import type { RunContext } from '../../task/request';

/** The arguments of one run: validated instances for in-process bodies, plain JSON for other threads. */
export interface RunArguments {
  readonly validated: readonly unknown[];
  readonly plain: readonly unknown[];
}

/**
 * Where a task body runs (the worker's pool). The worker keeps decoding, states, retries and hooks; a
 * runner only runs `task.run(...)` inside the run's context.
 */
export interface TaskRunner {
  readonly kind: 'async' | 'threads';
  run(task: BaseTask, args: RunArguments, context: RunContext): Promise<unknown>;
  close(): Promise<void>;
}

/** The async pool: bodies run in this event loop (I/O-bound work; CPU-bound code blocks the worker). */
export const inProcessRunner: TaskRunner = {
  kind: 'async',
  run: async (task, args) => task.run(...args.validated),
  close: async () => undefined,
};
