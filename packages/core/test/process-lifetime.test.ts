import { TimeoutError } from '@queue/core';
import { processHolds } from '@queue/core/testing';
import { testApp } from './helpers';

/**
 * What keeps a process alive: a started worker until it stops, a pending `get()` or state iteration until
 * it settles. Nothing else (an idle App, a finished result) may hold it, or scripts would never end.
 */
describe('process holds', () => {
  test('a started worker holds the process until stop()', async () => {
    const app = testApp();
    const before = processHolds();
    const worker = app.worker();
    expect(processHolds()).toBe(before);
    await worker.start();
    expect(processHolds()).toBe(before + 1);
    await worker.stop();
    expect(processHolds()).toBe(before);
    await app.close();
  });

  test('a pending get() holds the process until it settles, by result or by timeout', async () => {
    const app = testApp();
    const slow = app.task({ name: 'hold.slow' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'done';
    });
    const before = processHolds();
    const orphan = await slow.delay(); // no worker yet
    const waiting = orphan.get({ timeout: 0.05 });
    expect(processHolds()).toBe(before + 1);
    await expect(waiting).rejects.toBeInstanceOf(TimeoutError);
    expect(processHolds()).toBe(before);

    const worker = app.worker();
    await worker.start();
    const result = await slow.delay();
    const value = result.get({ timeout: 5 });
    expect(processHolds()).toBe(before + 2);
    await expect(value).resolves.toBe('done');
    expect(processHolds()).toBe(before + 1);
    await expect(result.get()).resolves.toBe('done'); // already ready: nothing held
    await app.close();
    expect(processHolds()).toBe(before);
  });

  test('iterating states holds the process only while waiting for the next one', async () => {
    const app = testApp();
    const steps = app.task({ name: 'hold.steps', bind: true }, async (self) => {
      await self.updateState('PROGRESS', { percent: 50 });
      return 'end';
    });
    await app.worker().start();
    const before = processHolds();
    const seen: string[] = [];
    for await (const change of await steps.delay()) {
      expect(processHolds()).toBe(before); // the loop body runs with nothing held
      seen.push(change.state);
    }
    expect(seen.at(-1)).toBe('SUCCESS');
    expect(processHolds()).toBe(before);
    await app.close();
  });
});
