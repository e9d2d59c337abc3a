import {
  App,
  BaseTask,
  States,
  Task,
  type BoundTask,
  type ExceptionInfo,
  type TaskRequest,
} from '@queue/core';
import { testApp, waitFor } from './helpers';

type HookCall = [hook: string, ...details: unknown[]];
const calls: HookCall[] = [];

abstract class Recorded<A extends unknown[], R> extends BaseTask<A, R> {
  override onSuccess(retval: R, taskId: string, args: unknown[], kwargs: Record<string, unknown>) {
    calls.push(['onSuccess', retval, taskId, args, kwargs]);
  }
  override onFailure(
    exc: Error,
    taskId: string,
    args: unknown[],
    _kwargs: Record<string, unknown>,
    einfo: ExceptionInfo,
  ) {
    calls.push(['onFailure', exc.message, taskId, args, einfo.type, einfo.traceback.includes(exc.message)]);
  }
  override onRetry(exc: Error, taskId: string) {
    calls.push(['onRetry', exc.message, taskId]);
  }
  override afterReturn(status: string, retval: unknown, taskId: string) {
    calls.push(['afterReturn', status, retval instanceof Error ? retval.message : retval, taskId]);
  }
}

@Task({ name: 'hooks.ok' })
class Ok extends Recorded<[number], number> {
  run(x: number) {
    return x + 1;
  }
}

@Task({ name: 'hooks.bad' })
class Bad extends Recorded<[], never> {
  run(): never {
    throw new Error('bad input');
  }
}

@Task({ name: 'hooks.retryOnce', maxRetries: 1, defaultRetryDelay: 0, autoretryFor: [Error] })
class RetryOnce extends Recorded<[], string> {
  run() {
    if (this.request.retries === 0) throw new Error('first attempt fails');
    return 'second';
  }
}

@Task({ name: 'hooks.throwingHook' })
class ThrowingHook extends BaseTask<[], string> {
  run() {
    return 'fine';
  }
  override onSuccess(): void {
    throw new Error('hook bug');
  }
}

const seenRequests: Array<{ label: string; request: TaskRequest }> = [];
@Task({ name: 'context.concurrent' })
class Concurrent extends BaseTask<[string, number], string> {
  async run(label: string, waitMs: number) {
    await this.sleepMs(waitMs);
    seenRequests.push({ label, request: this.request });
    return this.request.args[0] as string;
  }
}

let app: App;
beforeEach(async () => {
  app = testApp();
  await app.worker({ concurrency: 4 }).start();
});
afterEach(() => app.close({ timeoutMs: 500 }));

describe('hooks', () => {
  it('onSuccess then afterReturn(SUCCESS) with the return value, task id, args and kwargs', async () => {
    calls.length = 0;
    const result = await Ok.delay(41);
    await result.get({ timeout: 3 });
    await waitFor(() => calls.length >= 2);
    expect(calls).toEqual([
      ['onSuccess', 42, result.id, [41], {}],
      ['afterReturn', States.SUCCESS, 42, result.id],
    ]);
  });

  it('onFailure gets the error and einfo (type + traceback), then afterReturn(FAILURE)', async () => {
    calls.length = 0;
    const result = await Bad.delay();
    await result.get({ timeout: 3 }).catch(() => undefined);
    await waitFor(() => calls.length >= 2);
    expect(calls).toEqual([
      ['onFailure', 'bad input', result.id, [], 'Error', true],
      ['afterReturn', States.FAILURE, 'bad input', result.id],
    ]);
  });

  it('onRetry on a retry, then onSuccess on the successful attempt', async () => {
    calls.length = 0;
    const result = await RetryOnce.delay();
    expect(await result.get({ timeout: 3 })).toBe('second');
    await waitFor(() => calls.length >= 3);
    expect(calls.map((c) => c[0])).toEqual(['onRetry', 'onSuccess', 'afterReturn']);
    expect(calls[0]).toEqual(['onRetry', 'first attempt fails', result.id]);
  });

  it('an error in a hook is logged, not fatal: the task still succeeds and the worker goes on', async () => {
    const result = await ThrowingHook.delay();
    expect(await result.get({ timeout: 3 })).toBe('fine');
    expect(await (await Ok.delay(1)).get({ timeout: 3 })).toBe(2);
  });
});

describe('per-run context', () => {
  it('two concurrent runs of one task instance each see their own this.request', async () => {
    seenRequests.length = 0;
    const [slow, fast] = await Promise.all([Concurrent.delay('slow', 60), Concurrent.delay('fast', 5)]);
    expect(await slow.get({ timeout: 3 })).toBe('slow');
    expect(await fast.get({ timeout: 3 })).toBe('fast');
    const byLabel = Object.fromEntries(seenRequests.map((s) => [s.label, s.request]));
    expect(byLabel.slow!.id).toBe(slow.id);
    expect(byLabel.fast!.id).toBe(fast.id);
    expect(seenRequests.map((s) => s.label)).toEqual(['fast', 'slow']); // they really overlapped
    expect(byLabel.slow!.deliveryInfo).toMatchObject({ queue: app.defaultQueue, redelivered: false });
    expect(byLabel.slow!.hostname).toMatch(/^queue@/);
    expect(byLabel.slow!.calledDirectly).toBe(false);
  });

  it('bind: true passes the task object first to a function task (self.request, self.retry)', async () => {
    const bound = app.task({ name: 'context.bound', bind: true }, (self: BoundTask, x: number) => ({
      id: self.request.id,
      retries: self.request.retries,
      x,
    }));
    const result = await bound.delay(7);
    expect(await result.get({ timeout: 3 })).toEqual({ id: result.id, retries: 0, x: 7 });
  });

  it('a task sent from inside a run records its parent and root', async () => {
    const child = app.task({ name: 'context.child', bind: true }, (self: BoundTask) => ({
      parentId: self.request.parentId,
      rootId: self.request.rootId,
    }));
    const parent = app.task({ name: 'context.parent', bind: true }, async (self: BoundTask) => {
      const result = await child.delay();
      return { childId: result.id, parentOwnId: self.request.id };
    });
    const result = await parent.delay();
    const { childId, parentOwnId } = (await result.get({ timeout: 3 })) as {
      childId: string;
      parentOwnId: string;
    };
    expect(await app.asyncResult(childId).get({ timeout: 3 })).toEqual({
      parentId: parentOwnId,
      rootId: parentOwnId,
    });
  });

  it('a direct call runs the body here, with a request marked calledDirectly and nothing sent', async () => {
    const depth = () =>
      (app.transport as unknown as { broker: { depth(q: string): number } }).broker.depth(app.defaultQueue);
    const direct = app.task({ name: 'context.direct', bind: true }, (self: BoundTask, a: number) => ({
      direct: self.request.calledDirectly,
      a,
    }));
    expect(await direct(5)).toEqual({ direct: true, a: 5 });
    expect(depth()).toBe(0);
  });

  it('keyword arguments from Celery callers are matched to parameter names', async () => {
    app.task({ name: 'context.sub' }, (a: number, b: number = 10) => a - b);
    expect(await (await app.sendTask('context.sub', [], { b: 2, a: 9 })).get({ timeout: 3 })).toBe(7);
    expect(await (await app.sendTask('context.sub', [20])).get({ timeout: 3 })).toBe(10);
    await expect(
      (await app.sendTask('context.sub', [1], { c: 1 })).get({ timeout: 3 }),
    ).rejects.toMatchObject({
      excType: 'TaskValidationError',
      excMessage: expect.stringContaining("unexpected keyword argument 'c'"),
    });
  });
});
