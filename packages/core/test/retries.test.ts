import {
  App,
  BaseTask,
  MaxRetriesExceededError,
  RemoteTaskError,
  States,
  Task,
  type StateChange,
} from '@queue/core';
import { retryDelaySeconds } from '../src/task/retry-policy';
import { testApp } from './helpers';

class DbDown extends Error {
  override name = 'DbDown';
}
class DbTimeout extends DbDown {
  override name = 'DbTimeout';
}
class Fatal extends DbDown {
  override name = 'Fatal';
}

const runs: Record<string, number[]> = {};
function countRun(key: string, retries: number): void {
  (runs[key] ??= []).push(retries);
}

@Task({ name: 'retry.always', maxRetries: 3, defaultRetryDelay: 0, autoretryFor: [DbDown] })
class AlwaysFails extends BaseTask<[string], never> {
  run(key: string): never {
    countRun(key, this.request.retries);
    throw new DbTimeout(`attempt ${this.request.retries}`);
  }
}

@Task({
  name: 'retry.dont',
  maxRetries: 3,
  defaultRetryDelay: 0,
  autoretryFor: [DbDown],
  dontAutoretryFor: [Fatal],
})
class FailsFatally extends BaseTask<[string], never> {
  run(key: string): never {
    countRun(key, this.request.retries);
    throw new Fatal('no point retrying');
  }
}

@Task({ name: 'retry.explicit', maxRetries: 2 })
class ExplicitRetry extends BaseTask<[string], string> {
  run(key: string): string {
    countRun(key, this.request.retries);
    throw this.retry({ countdown: 0, exc: new Error('not yet') });
  }
}

@Task({ name: 'retry.thenSucceeds', maxRetries: 5, defaultRetryDelay: 0, autoretryFor: [DbDown] })
class SucceedsOnThird extends BaseTask<[string], string> {
  run(key: string): string {
    countRun(key, this.request.retries);
    if (this.request.retries < 2) throw new DbDown('flaky');
    return `ok after ${this.request.retries}`;
  }
}

@Task({
  name: 'retry.backoff',
  maxRetries: 5,
  retryBackoff: 2,
  retryBackoffMax: 10,
  retryJitter: false,
  autoretryFor: [DbDown],
})
class Backoff extends BaseTask<[string], never> {
  run(key: string): never {
    countRun(key, this.request.retries);
    throw new DbDown('down');
  }
}

let app: App;
afterEach(() => app.close());

async function startWorker(): Promise<void> {
  app = testApp();
  await app.worker({ concurrency: 2 }).start();
}

function statesOf(result: { onState(cb: (c: StateChange) => void): () => void }): string[] {
  const seen: string[] = [];
  result.onState((change) => seen.push(change.state));
  return seen;
}

describe('retries', () => {
  it('maxRetries 3 → exactly 4 runs, RETRY reported each time, then FAILURE with the last error', async () => {
    await startWorker();
    const result = await AlwaysFails.delay('a');
    const seen = statesOf(result);
    const error = await result.get({ timeout: 3 }).catch((e: unknown) => e);
    expect(runs.a).toEqual([0, 1, 2, 3]);
    expect(seen).toEqual([States.RETRY, States.RETRY, States.RETRY, States.FAILURE]);
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error).toMatchObject({ excType: 'DbTimeout', excMessage: 'attempt 3' });
  });

  it('dontAutoretryFor wins over autoretryFor: one run', async () => {
    await startWorker();
    const result = await FailsFatally.delay('b');
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: 'Fatal' });
    expect(runs.b).toEqual([0]);
  });

  it('explicit retry past the limit ends in MaxRetriesExceededError', async () => {
    await startWorker();
    const result = await ExplicitRetry.delay('c');
    await expect(result.get({ timeout: 3 })).rejects.toMatchObject({ excType: MaxRetriesExceededError.name });
    expect(runs.c).toEqual([0, 1, 2]);
  });

  it('a retried task keeps its id and succeeds when the error goes away', async () => {
    await startWorker();
    const result = await SucceedsOnThird.applyAsync({ args: ['d'], taskId: 'fixed-id-1' });
    expect(result.id).toBe('fixed-id-1');
    expect(await result.get({ timeout: 3 })).toBe('ok after 2');
    expect(runs.d).toEqual([0, 1, 2]);
  });

  it('each retry is a new message with the same id, retries + 1 and an ETA', async () => {
    await startWorker();
    const published: Array<{ id: unknown; retries: unknown; eta: unknown }> = [];
    const publish = app.transport.publish.bind(app.transport);
    jest.spyOn(app.transport, 'publish').mockImplementation(async (message, options) => {
      published.push({ id: message.headers.id, retries: message.headers.retries, eta: message.headers.eta });
      return publish(message, options);
    });
    const result = await SucceedsOnThird.delay('e');
    await result.get({ timeout: 3 });
    expect(published.map((p) => [p.id, p.retries])).toEqual([
      [result.id, 0],
      [result.id, 1],
      [result.id, 2],
    ]);
    expect(published[0]!.eta).toBeUndefined(); // no ETA: the header is left out
    expect(typeof published[1]!.eta).toBe('string');
  });
});

describe('backoff', () => {
  const policy = { retryBackoff: 2, retryBackoffMax: 10, retryJitter: false, defaultRetryDelay: 180 };

  it('grows exponentially and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelaySeconds(policy, n))).toEqual([2, 4, 8, 10, 10, 10]);
  });

  it('uses defaultRetryDelay when backoff is off', () => {
    expect(retryDelaySeconds({ ...policy, retryBackoff: 0 }, 3)).toBe(180);
  });

  it('applies full jitter: uniform in [0, delay]', () => {
    const jittered = { ...policy, retryJitter: true };
    expect(retryDelaySeconds(jittered, 2, () => 0)).toBe(0);
    expect(retryDelaySeconds(jittered, 2, () => 0.999)).toBe(8);
    expect(retryDelaySeconds(jittered, 2, () => 0.5)).toBe(4);
  });

  it('schedules the retries of a running worker with those delays (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      await startWorker();
      const delays: number[] = [];
      const publish = app.transport.publish.bind(app.transport);
      jest.spyOn(app.transport, 'publish').mockImplementation(async (message, options) => {
        if ((message.headers.retries as number) > 0) delays.push(options.delayMs ?? 0);
        return publish(message, options);
      });
      const result = await Backoff.delay('f');
      for (let step = 0; step < 6 && !result.ready(); step++) {
        for (let spin = 0; spin < 20; spin++) await Promise.resolve();
        await jest.advanceTimersByTimeAsync(10_000);
      }
      expect(result.state).toBe(States.FAILURE);
      expect(runs.f).toEqual([0, 1, 2, 3, 4, 5]);
      expect(delays.map((ms) => Math.round(ms / 1000))).toEqual([2, 4, 8, 10, 10]);
    } finally {
      jest.useRealTimers();
    }
  });
});
