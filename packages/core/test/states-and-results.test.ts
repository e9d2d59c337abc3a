import {
  App,
  BaseTask,
  RemoteTaskError,
  States,
  Task,
  TaskRevokedError,
  TimeoutError,
  type StateChange,
  type Worker,
} from '@queue/core';
import type { MemoryResultBackend } from '@queue/core/testing';
import { testApp } from './helpers';

@Task({ name: 'states.progress' })
class Progress extends BaseTask<[number], number> {
  async run(steps: number) {
    for (let i = 1; i <= steps; i++) {
      await this.updateState('PROGRESS', { percent: (i * 100) / steps, step: i });
    }
    return steps;
  }
}

@Task({ name: 'states.tracked', trackStarted: true, trackReceived: true })
class Tracked extends BaseTask<[], string> {
  run() {
    return 'done';
  }
}

@Task({ name: 'states.quiet', ignoreResult: true, trackStarted: true })
class Quiet extends BaseTask<[], string> {
  async run() {
    await this.updateState('PROGRESS', { percent: 50 });
    return 'nobody hears';
  }
}

let ran = 0;
@Task({ name: 'states.counted' })
class Counted extends BaseTask<[], number> {
  run() {
    return ++ran;
  }
}

@Task({ name: 'states.fails' })
class Fails extends BaseTask<[string], never> {
  run(message: string): never {
    throw new RangeError(message);
  }
}

@Task({ name: 'states.slow' })
class Slow extends BaseTask<[], string> {
  async run() {
    await this.sleepMs(200);
    return 'slow';
  }
}

let app: App;
let worker: Worker;
beforeEach(async () => {
  app = testApp();
  worker = app.worker();
  await worker.start();
});
afterEach(() => app.close({ timeoutMs: 500 }));

describe('states', () => {
  it('PROGRESS states arrive in order with their meta, then SUCCESS (callback)', async () => {
    const result = await Progress.delay(4);
    const seen: StateChange[] = [];
    result.onState((change) => seen.push(change));
    expect(await result.get({ timeout: 3 })).toBe(4);
    expect(seen.map((s) => s.state)).toEqual(['PROGRESS', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'SUCCESS']);
    expect(seen.map((s) => (s.info as { percent?: number }).percent ?? s.info)).toEqual([25, 50, 75, 100, 4]);
  });

  it('state changes can be followed with for await, ending at a ready state', async () => {
    const result = await Progress.delay(3);
    const seen: string[] = [];
    for await (const change of result) seen.push(`${change.state}:${JSON.stringify(change.info)}`);
    expect(seen.slice(-1)).toEqual(['SUCCESS:3']);
    expect(seen.filter((s) => s.startsWith('PROGRESS')).length).toBeGreaterThan(0);
    expect(result.successful()).toBe(true);
    expect(result.ready()).toBe(true);
  });

  it('PENDING before anything is known', () => {
    const result = app.asyncResult('no-such-task');
    expect(result.state).toBe(States.PENDING);
    expect(result.ready()).toBe(false);
  });

  it('trackStarted and trackReceived report RECEIVED and STARTED (with worker pid/hostname) before SUCCESS', async () => {
    const seen: StateChange[] = [];
    app.asyncResult('tracked-1').onState((change) => seen.push(change));
    const result = await Tracked.applyAsync({ taskId: 'tracked-1' });
    await result.get({ timeout: 3 });
    expect(seen.map((s) => s.state)).toEqual([States.RECEIVED, States.STARTED, States.SUCCESS]);
    expect(seen[1]!.info).toEqual({ pid: process.pid, hostname: expect.stringMatching(/^queue@/) });
  });

  it('without trackStarted no STARTED is reported', async () => {
    const result = await Progress.delay(1);
    const seen: string[] = [];
    result.onState((change) => seen.push(change.state));
    await result.get({ timeout: 3 });
    expect(seen).not.toContain(States.STARTED);
  });

  it('ignoreResult: nothing is stored or sent for the task, not even STARTED or PROGRESS', async () => {
    const backend = app.backend as MemoryResultBackend;
    const before = backend.size;
    const succeeded = new Promise<void>((resolve) => worker.once('task-succeeded', () => resolve()));
    const result = await Quiet.delay();
    await succeeded;
    expect(backend.size).toBe(before);
    expect(backend.latest(result.id)).toBeUndefined();
    expect(result.state).toBe(States.PENDING);
  });

  it('FAILURE carries the error type, message and traceback; get({propagate:false}) returns the error', async () => {
    const result = await Fails.delay('out of range');
    const error = await result.get({ timeout: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error).toMatchObject({ excType: 'RangeError', excMessage: 'out of range', taskId: result.id });
    expect((error as RemoteTaskError).traceback).toContain('RangeError: out of range');
    expect(result.failed()).toBe(true);
    expect(result.info).toBeInstanceOf(RemoteTaskError);
    expect(await result.get({ propagate: false })).toBeInstanceOf(RemoteTaskError);
  });

  it('get({timeout}) rejects with TimeoutError when the result does not come in time', async () => {
    const result = await Slow.delay();
    await expect(result.get({ timeout: 0.02 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await result.get({ timeout: 3 })).toBe('slow');
  });

  it('a task received after it expires is REVOKED without running', async () => {
    const before = ran;
    const result = await Counted.applyAsync({ expires: new Date(Date.now() - 1000) });
    await expect(result.get({ timeout: 3 })).rejects.toBeInstanceOf(TaskRevokedError);
    expect(result.state).toBe(States.REVOKED);
    expect(ran).toBe(before);
  });

  it('a revoked task is discarded as REVOKED', async () => {
    const before = ran;
    app.revoke('revoked-1');
    const result = await Counted.applyAsync({ taskId: 'revoked-1' });
    await expect(result.get({ timeout: 3 })).rejects.toThrow(/revoked/);
    expect(ran).toBe(before);
  });
});
