import { App, BaseTask, Ignore, Reject, Task } from '@queue/core';
import { MemoryTransport, type MemoryResultBackend } from '@queue/core/testing';
import { testApp, waitFor } from './helpers';

let runs = 0;

@Task({ name: 'ctl.ignore' })
class Ignores extends BaseTask<[], string> {
  run(): string {
    runs++;
    throw new Ignore();
  }
}

@Task({ name: 'ctl.reject' })
class Rejects extends BaseTask<[], string> {
  run(): string {
    runs++;
    throw new Reject('payload belongs to another system');
  }
}

@Task({ name: 'ctl.rejectRequeue' })
class RejectsOnceWithRequeue extends BaseTask<[], string> {
  run(): string {
    runs++;
    if (!this.request.deliveryInfo?.redelivered) throw new Reject('try again', true);
    return 'second delivery';
  }
}

@Task({ name: 'ctl.routed', queue: 'special', priority: 7 })
class Routed extends BaseTask<[], string> {
  run() {
    return `${this.request.deliveryInfo?.queue}:${this.request.deliveryInfo?.priority}`;
  }
}

@Task({ name: 'ctl.headers' })
class ReadsHeaders extends BaseTask<[], unknown> {
  run() {
    return this.request.headers;
  }
}

@Task({ name: 'ctl.retryDelay', maxRetries: 1, defaultRetryDelay: 7, autoretryFor: [Error] })
class RetriesAfterDefaultDelay extends BaseTask<[], never> {
  run(): never {
    throw new Error('later');
  }
}

let app: App;
afterEach(() => app.close({ timeoutMs: 100 }));
const broker = () => (app.transport as MemoryTransport).broker;

describe('control-flow errors', () => {
  beforeEach(async () => {
    app = testApp();
    await app.worker().start();
  });

  it('Ignore ends the run storing no state; the message is acked', async () => {
    const backend = app.backend as MemoryResultBackend;
    const before = { runs, size: backend.size };
    await Ignores.delay();
    await waitFor(() => runs === before.runs + 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend.size).toBe(before.size);
    expect(broker().depth(app.defaultQueue)).toBe(0);
    expect(broker().deadLetters()).toHaveLength(0);
  });

  it('Reject dead-letters the message with the reason, without retrying', async () => {
    const before = runs;
    await Rejects.delay();
    await waitFor(() => broker().deadLetters().length === 1);
    expect(broker().deadLetters()[0]).toMatchObject({
      reason: 'rejected-by-task',
      detail: 'payload belongs to another system',
    });
    expect(runs).toBe(before + 1);
  });

  it('Reject with requeue gives the message back; it is redelivered', async () => {
    const result = await RejectsOnceWithRequeue.delay();
    expect(await result.get({ timeout: 3 })).toBe('second delivery');
  });
});

describe('routing', () => {
  it('a task with a queue option goes to that queue, with its priority and extra headers', async () => {
    app = testApp();
    await Routed.delay();
    await ReadsHeaders.applyAsync({ headers: { tenant: 'acme' }, queue: 'special', priority: 3 });
    const waiting = broker().messages('special');
    expect(waiting.map((m) => [m.headers.task, m.properties.priority])).toEqual([
      ['ctl.routed', 7],
      ['ctl.headers', 3],
    ]);
    expect(broker().depth(app.defaultQueue)).toBe(0);
  });

  it('a worker consumes every queue it is given', async () => {
    app = testApp();
    await app.worker({ queues: [app.defaultQueue, 'special'] }).start();
    const routed = await Routed.delay();
    const headers = await ReadsHeaders.applyAsync({ headers: { tenant: 'acme' } });
    expect(await routed.get({ timeout: 3 })).toBe('special:7');
    expect(await headers.get({ timeout: 3 })).toEqual({ tenant: 'acme' });
  });

  it('a worker not given a queue leaves its messages alone', async () => {
    app = testApp();
    await app.worker().start();
    await Routed.delay();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(broker().depth('special')).toBe(1);
  });
});

describe('retry delay', () => {
  it('without countdown or backoff, the next attempt is due after defaultRetryDelay seconds', async () => {
    app = testApp();
    await app.worker().start();
    const delays: number[] = [];
    const publish = app.transport.publish.bind(app.transport);
    jest.spyOn(app.transport, 'publish').mockImplementation(async (message, options) => {
      if ((message.headers.retries as number) > 0) delays.push(options.delayMs ?? 0);
      return publish(message, options);
    });
    await RetriesAfterDefaultDelay.delay();
    await waitFor(() => delays.length === 1);
    expect(delays[0]).toBeGreaterThan(6_900);
    expect(delays[0]).toBeLessThanOrEqual(7_000);
    expect(broker().delayedCount).toBe(1);
  });
});
