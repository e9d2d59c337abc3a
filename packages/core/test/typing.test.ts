import {
  BaseTask,
  RemoteTaskError,
  Task,
  TaskRevokedError,
  type AsyncResult,
  type BoundTask,
  type StateChange,
  type TaskError,
  type TaskState,
} from '@queue/core';
import { testApp } from './helpers';

/**
 * Type-level checks (tsc runs over the tests in CI: a `@ts-expect-error` that is not needed fails it), with a
 * run-time check of the same calls where one makes sense.
 */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(check: Equal<A, B>) => check;

describe('bind: true', () => {
  test('needs a first `self` parameter; delay checks the rest', async () => {
    const app = testApp();
    try {
      // @ts-expect-error with bind: true the body's first parameter is the task, not an argument
      app.task({ name: 'typing.unbound-body', bind: true }, (orderId: number) => orderId);
      const bound = app.task({ name: 'typing.bound', bind: true }, (self, orderId: number) => {
        same<typeof self.request.id, string>(true);
        return orderId * 2;
      });
      // @ts-expect-error a string where the task takes a number
      void (() => bound.delay('7'));
      await app.worker().start();
      expect(await (await bound.delay(21)).get({ timeout: 3 })).toBe(42);
    } finally {
      await app.close();
    }
  });
});

describe('class tasks without generics', () => {
  test('arguments and result are read from run()', async () => {
    @Task({ name: 'typing.plain-class' })
    class Plain extends BaseTask {
      async run(name: string, times: number) {
        return name.repeat(times);
      }
    }
    const app = testApp();
    try {
      await app.worker().start();
      // @ts-expect-error run takes (string, number)
      void (() => Plain.delay(1, 'x'));
      const result = await Plain.delay('ab', 2);
      same<typeof result, AsyncResult<string>>(true);
      expect(await result.get({ timeout: 3 })).toBe('abab');
    } finally {
      await app.close();
    }
  });
});

describe('get({ propagate: false })', () => {
  test('is typed as the value or the error it resolves with', async () => {
    const app = testApp();
    try {
      const fails = app.task({ name: 'typing.fails' }, (): number => {
        throw new RangeError('no');
      });
      await app.worker().start();
      const result = await fails.delay();
      const outcome = await result.get({ timeout: 3, propagate: false });
      same<typeof outcome, number | TaskError>(true);
      same<TaskError, RemoteTaskError | TaskRevokedError>(true);
      expect(outcome).toBeInstanceOf(RemoteTaskError);
      const strict = result.get({ timeout: 3 });
      same<typeof strict, Promise<number>>(true);
      await expect(strict).rejects.toBeInstanceOf(RemoteTaskError);
    } finally {
      await app.close();
    }
  });
});

describe('declared custom states', () => {
  type States = { PROGRESS: { percent: number }; UPLOADING: { file: string } };

  test("updateState checks a declared state's meta; a caller's info is typed by the state", async () => {
    @Task({ name: 'typing.report' })
    class Report extends BaseTask<[number], string, States> {
      async run(n: number) {
        await this.updateState('PROGRESS', { percent: 50 });
        await this.sleepMs(50); // the caller is following by then
        return `report-${n}`;
      }
    }
    // Never called: what updateState accepts once states are declared.
    void ((task: Report) => {
      // @ts-expect-error PROGRESS carries { percent }
      void task.updateState('PROGRESS', { pct: 50 });
      // @ts-expect-error not a declared state
      void task.updateState('PROGRES', { percent: 50 });
      void task.updateState('STARTED', { anything: true });
    });
    const app = testApp();
    try {
      const bound = app.task(
        { name: 'typing.bound-progress', bind: true },
        async (self: BoundTask<[number], number, States>, n: number) => {
          await self.updateState('UPLOADING', { file: `f${n}` });
          await self.sleepMs(50);
          return n;
        },
      );
      await app.worker({ concurrency: 2 }).start();
      const report = await Report.delay(1);
      same<typeof report, AsyncResult<string, States>>(true);
      const uploaded = await bound.delay(7);
      same<typeof uploaded, AsyncResult<number, States>>(true);
      const seen: string[] = [];
      for (const result of [report, uploaded] as Array<AsyncResult<unknown, States>>) {
        for await (const change of result) {
          if (change.state === 'PROGRESS') seen.push(`${change.info.percent}%`);
          if (change.state === 'UPLOADING') seen.push(change.info.file);
          if (change.state === 'FAILURE') same<typeof change.info, TaskError>(true);
        }
      }
      expect(seen).toEqual(['50%', 'f7']);
      // Without declared states nothing changes: info is unknown.
      same<StateChange, { readonly state: TaskState; readonly info: unknown }>(true);
    } finally {
      await app.close();
    }
  });
});
