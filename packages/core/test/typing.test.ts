import {
  BaseTask,
  RemoteTaskError,
  Task,
  TaskRevokedError,
  type AsyncResult,
  type TaskError,
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
