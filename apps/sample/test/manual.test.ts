process.env.MANUAL_STEP_MS = '1';
import { States, type StateChange } from '@queue/core';
import { app } from '../src/app';
import { add, fail, Manual, ping } from '../src/tasks';

beforeAll(() => app.worker({ concurrency: 2 }).start());
afterAll(() => app.close());

describe('the seed, on the in-memory broker', () => {
  it('ping runs when sent and when called directly', async () => {
    expect(await ping()).toBe('pong');
    expect(await (await ping.delay()).get({ timeout: 5 })).toBe('pong');
  });

  it('manual reports 50 increasing PROGRESS states, then SUCCESS', async () => {
    const seen: StateChange[] = [];
    app.asyncResult('manual-1').onState((change) => seen.push(change));
    const result = await Manual.applyAsync({ args: [7], taskId: 'manual-1' });
    expect(await result.get({ timeout: 10 })).toBe(7);
    const progress = seen
      .filter((s) => s.state === 'PROGRESS')
      .map((s) => (s.info as { percent: number }).percent);
    expect(progress).toHaveLength(50);
    expect(progress[0]).toBe(2);
    expect(progress[49]).toBe(100);
    expect(progress.every((p, i) => i === 0 || p > progress[i - 1]!)).toBe(true);
    expect(seen[0]!.state).toBe(States.STARTED); // trackStarted from the application BaseTask
    expect(seen[seen.length - 1]!.state).toBe(States.SUCCESS);
  });

  it('the cross-language tasks answer by name, with positional or keyword arguments', async () => {
    expect(await (await app.sendTask('sample.add', [2, 3])).get({ timeout: 5 })).toBe(5);
    expect(await (await app.sendTask('sample.add', [], { a: 4, b: 5 })).get({ timeout: 5 })).toBe(9);
    await expect((await fail.delay('on purpose')).get({ timeout: 5 })).rejects.toMatchObject({
      excType: 'SampleFailure',
      excMessage: 'on purpose',
    });
    expect(add.taskName).toBe('sample.add');
  });
});
