import { randomUUID } from 'node:crypto';
import { BaseTask, RemoteTaskError, States, Task, type App } from '@queue/core';
import { amqpApp, BrokerAdmin, collectStates, uniqueQueue } from './helpers';

jest.setTimeout(30_000);

class BadInput extends Error {
  override name = 'BadInput';
}

describe('amqp:// + rpc:// round trips through RabbitMQ', () => {
  const queue = uniqueQueue('roundtrip');
  let app: App;
  let admin: BrokerAdmin;
  let runs = 0;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue);
    app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
    app.task({ name: 'it.fail' }, (message: string) => {
      throw new BadInput(message);
    });
    app.task({ name: 'it.progress', bind: true }, async (self, steps: number) => {
      for (let step = 1; step <= steps; step++)
        await self.updateState('PROGRESS', { percent: (step * 100) / steps });
      return steps;
    });
    app.task(
      { name: 'it.flaky', maxRetries: 3, retryBackoff: 1, retryJitter: false, autoretryFor: [BadInput] },
      () => {
        runs++;
        if (runs < 3) throw new BadInput(`run ${runs}`);
        return runs;
      },
    );
    app.task({ name: 'it.silent', ignoreResult: true }, () => 'nothing');
    await app.worker({ concurrency: 4 }).start();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('delay → worker → SUCCESS with the value', async () => {
    const result = await app.sendTask('it.add', [2, 3]);
    await expect(result.get({ timeout: 10 })).resolves.toBe(5);
    expect(result.state).toBe(States.SUCCESS);
  });

  test('results of many pending tasks arrive, in any order, each to its own AsyncResult', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => app.sendTask('it.add', [i, 1000])),
    );
    const values = await Promise.all(results.map((r) => r.get({ timeout: 10 })));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i + 1000));
  });

  test('FAILURE carries the error type and message', async () => {
    const result = await app.sendTask('it.fail', ['boom over amqp']);
    const error = await result.get({ timeout: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect((error as RemoteTaskError).excType).toBe('BadInput');
    expect((error as RemoteTaskError).message).toContain('boom over amqp');
    expect(result.state).toBe(States.FAILURE);
  });

  test('PROGRESS states arrive in order with their meta, then SUCCESS', async () => {
    // Followed before it is sent: states reported before a listener subscribes are not replayed.
    const taskId = randomUUID();
    const following = collectStates(app.asyncResult(taskId));
    await app.sendTask('it.progress', [5], {}, { taskId });
    const seen = await following;
    expect(
      seen.filter((s) => s.state === 'PROGRESS').map((s) => (s.info as { percent: number }).percent),
    ).toEqual([20, 40, 60, 80, 100]);
    expect(seen.at(-1)).toEqual({ state: States.SUCCESS, info: 5 });
  });

  test('countdown is honoured by the broker delay (±tolerance)', async () => {
    const sent = Date.now();
    const result = await app.sendTask('it.add', [1, 1], {}, { countdown: 2 });
    expect(await admin.depth(queue)).toBe(0); // parked in the delay levels, not in the task queue
    await expect(result.get({ timeout: 10 })).resolves.toBe(2);
    const elapsed = Date.now() - sent;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4500);
  });

  test('retries with backoff travel through the broker and end in SUCCESS', async () => {
    runs = 0;
    // Listening before sending: the first RETRY may arrive before sendTask resolves.
    const taskId = randomUUID();
    const states: string[] = [];
    const stop = app.asyncResult(taskId).onState((change) => states.push(change.state));
    const result = await app.sendTask('it.flaky', [], {}, { taskId });
    const sent = Date.now();
    await expect(result.get({ timeout: 15 })).resolves.toBe(3);
    stop();
    expect(runs).toBe(3);
    expect(states.filter((s) => s === States.RETRY)).toHaveLength(2);
    // backoff 1 s then 2 s, no jitter
    expect(Date.now() - sent).toBeGreaterThanOrEqual(2900);
  });

  test('ignoreResult tasks send nothing back', async () => {
    const result = await app.sendTask('it.silent');
    const sentinel = await app.sendTask('it.add', [0, 0]);
    await sentinel.get({ timeout: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(result.state).toBe(States.PENDING);
  });
});

describe('class tasks over amqp', () => {
  test('a @Task class runs through RabbitMQ', async () => {
    const queue = uniqueQueue('classtask');
    const app = amqpApp(queue);
    const admin = await BrokerAdmin.open();
    @Task({ name: 'it.double' })
    class Double extends BaseTask<[number], number> {
      run(x: number): number {
        return x * 2;
      }
    }
    try {
      expect(app.getTask(Double).options.name).toBe('it.double'); // registered in every App
      await app.worker().start();
      const result = await app.sendTask('it.double', [21]);
      await expect(result.get({ timeout: 10 })).resolves.toBe(42);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
      await admin.close();
    }
  });
});
