import { setTimeout as wait } from 'node:timers/promises';
import { App, BaseTask, SoftTimeLimitExceeded, States, Task, TimeLimitExceeded } from '@queue/core';
import { testApp } from './helpers';

const observed: { aborted?: boolean; reason?: unknown; cleanedUp?: boolean } = {};

@Task({ name: 'limits.softCaught', softTimeLimit: 0.05, timeLimit: 5 })
class CatchesSoftLimit extends BaseTask<[], string> {
  async run() {
    try {
      await this.sleepMs(5_000);
      return 'finished';
    } catch (error) {
      observed.aborted = this.signal.aborted;
      observed.reason = error;
      observed.cleanedUp = true;
      return 'cleaned up';
    }
  }
}

@Task({ name: 'limits.softUncaught', softTimeLimit: 0.05, timeLimit: 5 })
class IgnoresSoftLimit extends BaseTask<[], string> {
  async run() {
    await this.sleepMs(5_000);
    return 'finished';
  }
}

@Task({ name: 'limits.nodeApi', softTimeLimit: 0.05 })
class UsesNodeTimers extends BaseTask<[], string> {
  async run() {
    await wait(5_000, undefined, { signal: this.signal });
    return 'finished';
  }
}

@Task({ name: 'limits.hard', timeLimit: 0.1 })
class NeverEnds extends BaseTask<[], string> {
  async run() {
    await new Promise(() => undefined); // ignores its signal entirely
    return 'unreachable';
  }
}

@Task({ name: 'limits.quick' })
class Quick extends BaseTask<[], string> {
  run() {
    return 'quick';
  }
}

let app: App;
beforeEach(async () => {
  app = testApp();
  await app.worker({ concurrency: 1 }).start();
});
afterEach(() => app.close({ timeoutMs: 100 }));

describe('time limits', () => {
  it('soft limit aborts this.signal with SoftTimeLimitExceeded, raised into the task, which may clean up', async () => {
    const result = await CatchesSoftLimit.delay();
    expect(await result.get({ timeout: 3 })).toBe('cleaned up');
    expect(observed.aborted).toBe(true);
    expect(observed.reason).toBeInstanceOf(SoftTimeLimitExceeded);
    expect(observed.cleanedUp).toBe(true);
  });

  it('soft limit not caught → FAILURE SoftTimeLimitExceeded', async () => {
    const result = await IgnoresSoftLimit.delay();
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: 'SoftTimeLimitExceeded' });
  });

  it('Node APIs given this.signal end the run with SoftTimeLimitExceeded (not a bare AbortError)', async () => {
    const result = await UsesNodeTimers.delay();
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: 'SoftTimeLimitExceeded' });
  });

  it('hard limit → FAILURE TimeLimitExceeded, and the worker (concurrency 1) moves on to the next task', async () => {
    const stuck = await NeverEnds.delay();
    const next = await Quick.delay();
    await expect(stuck.get({ timeout: 3 })).rejects.toMatchObject({ excType: TimeLimitExceeded.name });
    expect(await next.get({ timeout: 3 })).toBe('quick');
    expect(stuck.state).toBe(States.FAILURE);
  });
});
