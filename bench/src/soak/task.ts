import { setImmediate as nextTurn } from 'node:timers/promises';
import type { App, TaskFunction } from '@queue/core';

export const SOAK_TASK_NAME = 'soak.work';

/**
 * The soak's one task, registered on both Apps (the client sends it, the worker runs it): a tiny await, so a
 * run crosses the event loop like real I/O-bound work, and a small result that travels back over rpc://.
 */
export function defineSoakTask(app: App): TaskFunction<[number], number> {
  return app.task({ name: SOAK_TASK_NAME }, async (i: number) => {
    await nextTurn();
    return i + 1;
  });
}
