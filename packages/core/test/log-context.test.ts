import { configureLogging, getTaskLogger } from '@queue/core';
import { captureLogs, testApp } from './helpers';

/** Each log line names its own task, on the memory transport too, when tasks run interleaved. */
test('interleaved runs: every line carries the id of the task that logged it, failures included', async () => {
  const lines = captureLogs('info');
  const app = testApp();
  const logger = getTaskLogger('context.test');
  const subtasks = new Map<string, string>();
  try {
    const failer = app.task({ name: 'context.failer' }, (label: string) => {
      throw new RangeError(`sub-failed ${label}`);
    });
    const work = app.task({ name: 'context.work' }, async (label: string, fail: boolean) => {
      logger.info(`start ${label}`);
      // Sending from inside a run: the broker's next dispatch is scheduled from this run's context.
      subtasks.set(label, (await failer.delay(label)).id);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
      logger.info(`end ${label}`);
      if (fail) throw new RangeError(`failed ${label}`);
      return label;
    });
    // One at a time, one message in flight: each delivery is dispatched after the previous run settled.
    await app.worker({ concurrency: 1, prefetchMultiplier: 1 }).start();
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => work.delay(`t${i}`, i % 3 === 0)));
    await Promise.all(sent.map((result) => result.get({ timeout: 5, propagate: false })));
    const idOf = new Map(sent.map((result, i) => [`t${i}`, result.id]));
    const own = lines.filter(
      (line) => typeof line.message === 'string' && /^(start|end) t\d+$/.test(line.message),
    );
    expect(own).toHaveLength(24);
    for (const line of own) expect(line.taskId).toBe(idOf.get(String(line.message).split(' ')[1]!));
    // The worker's own line about each failure names the failed task, not the one before it.
    // A task sent from inside another run: its failure line must not carry the sender's id.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const subFailures = lines.filter((line) => String(line.message).includes('sub-failed'));
    expect(subFailures).toHaveLength(12);
    for (const line of subFailures) {
      const label = /sub-failed (t\d+)/.exec(String(line.message))![1]!;
      if (line.taskId !== undefined) expect(line.taskId).toBe(subtasks.get(label));
    }
    const failures = lines.filter((line) => String(line.message).includes('failed t'));
    expect(failures.length).toBeGreaterThanOrEqual(4);
    for (const line of failures) {
      const label = /failed (t\d+)/.exec(String(line.message))![1]!;
      if (line.taskId !== undefined) expect(line.taskId).toBe(idOf.get(label));
    }
  } finally {
    await app.close();
    configureLogging({ level: 'silent' });
  }
});
