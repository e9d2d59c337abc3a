import type { TaskFunction } from '@queue/core';

const BACKLOG_POLL_MS = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ProduceOptions {
  tasks: number;
  /** Publishes awaiting their broker confirm at once. */
  inFlight: number;
  /** Most tasks sent and not yet done: the queue on the broker stays small. */
  backlog: number;
  /** Tasks done so far (as the worker reports them). */
  done: () => number;
  /** Epoch ms: give up past it. */
  deadline: number;
  /** A reason to give up now (the worker failed), or undefined. */
  stopReason: () => string | undefined;
  /** Stop sending after `tasks` tasks until `run()` resolves (the sample at rest after warm-up). */
  pauseAt?: { tasks: number; run: () => Promise<void> };
}

/**
 * Sends `soak.work(0 … tasks-1)` with `delay()`, `inFlight` lanes at a time, never more than `backlog`
 * ahead of the worker. It does not wait for results (the worker still sends each to our reply queue).
 */
export async function produce(task: TaskFunction<[number], number>, options: ProduceOptions): Promise<void> {
  let next = 0;
  let failure: string | undefined;
  let pause: Promise<void> | undefined;
  let resumed = false;
  const pauseAt = options.pauseAt;
  const giveUp = (): string | undefined =>
    failure ??
    options.stopReason() ??
    (Date.now() >= options.deadline ? `time limit reached while sending (${next} sent)` : undefined);

  const lane = async (): Promise<void> => {
    // Each pass sends one task or waits a little: bounded by the task count and the deadline.
    for (let pass = 0; next < options.tasks; pass++) {
      const reason = giveUp();
      if (reason) throw new Error(reason);
      if (pauseAt && !resumed && next === pauseAt.tasks) {
        // Every lane waits on the same pause (the first one there starts it); `run` waits for the worker.
        pause ??= pauseAt.run().then(() => void (resumed = true));
        await pause;
        continue;
      }
      if (next - options.done() >= options.backlog) {
        await sleep(BACKLOG_POLL_MS);
        continue;
      }
      const i = next++;
      try {
        await task.delay(i);
      } catch (error) {
        failure ??= `sending task ${i} failed: ${(error as Error).message}`;
        throw new Error(failure, { cause: error });
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: options.inFlight }, lane));
  const rejected = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
  if (rejected) throw new Error(failure ?? (rejected.reason as Error).message);
}
