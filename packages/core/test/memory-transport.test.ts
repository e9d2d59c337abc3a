import { App, BaseTask, Task } from '@queue/core';
import type { WireMessage } from '@queue/core/transport';
import { MemoryTransport } from '@queue/core/testing';
import { testApp, waitFor } from './helpers';

const log: string[] = [];

@Task({ name: 'mem.echo' })
class Echo extends BaseTask<[string], string> {
  run(text: string) {
    log.push(text);
    return text;
  }
}

@Task({ name: 'mem.early', acksLate: false })
class AcksEarly extends BaseTask<[], string> {
  async run() {
    await this.sleepMs(50);
    return 'done';
  }
}

@Task({ name: 'mem.late' })
class AcksLate extends BaseTask<[], string> {
  async run() {
    await this.sleepMs(50);
    return 'done';
  }
}

let app: App;
afterEach(() => app.close({ timeoutMs: 200 }));

function brokerOf(target: App) {
  return (target.transport as MemoryTransport).broker;
}

function raw(headers: Record<string, unknown>, body: string, contentType = 'application/json'): WireMessage {
  return { headers, properties: { contentType, contentEncoding: 'utf-8' }, body: Buffer.from(body) };
}

describe('memory transport', () => {
  it('dead-letters poison messages with a reason while good tasks around them complete', async () => {
    app = testApp();
    const worker = app.worker();
    await worker.start();
    const q = { queue: app.defaultQueue };
    const good1 = await Echo.delay('before');
    await app.transport.publish(raw({ task: 'mem.echo', id: 'p1' }, 'not json at all'), q);
    await app.transport.publish(
      raw({ task: 'mem.echo', id: 'p2' }, '[[], {}, {}]', 'application/x-python-serialize'),
      q,
    );
    await app.transport.publish(raw({ id: 'p3' }, '[[], {}, {}]'), q);
    await app.transport.publish(raw({ task: 'no.such.task', id: 'p4' }, '[[], {}, {}]'), q);
    await app.transport.publish(raw({ task: 'mem.echo', id: 'p5' }, '{"args": []}'), q);
    const good2 = await Echo.delay('after');
    expect(await good1.get({ timeout: 3 })).toBe('before');
    expect(await good2.get({ timeout: 3 })).toBe('after');
    await waitFor(() => brokerOf(app).deadLetters().length === 5);
    expect(
      brokerOf(app)
        .deadLetters()
        .map((d) => d.reason)
        .sort(),
    ).toEqual(['invalid-body', 'invalid-json', 'missing-header', 'unknown-task', 'unsupported-content-type']);
    expect(worker.running).toBe(true);
    // an unknown task is also reported as FAILURE NotRegistered to whoever waits for it
    await expect(app.asyncResult('p4').get({ timeout: 1 })).rejects.toMatchObject({
      excType: 'NotRegistered',
    });
  });

  it('acksLate (default) holds the message until the outcome is recorded; acksLate: false acks before the run', async () => {
    app = testApp();
    await app.worker().start();
    await AcksEarly.delay();
    const late = await AcksLate.delay();
    await new Promise((resolve) => setTimeout(resolve, 20)); // both are running (50 ms each)
    await app.transport.close(); // like a dying channel: unacked messages go back to the queue
    const requeued = brokerOf(app).messages(app.defaultQueue);
    expect(requeued.map((message) => message.headers.id)).toEqual([late.id]);
  });

  it('honours countdown: the task is not delivered before its time', async () => {
    app = testApp();
    await app.worker().start();
    const sentAt = Date.now();
    const result = await Echo.applyAsync({ args: ['later'], countdown: 0.15 });
    expect(brokerOf(app).delayedCount).toBe(1);
    expect(await result.get({ timeout: 3 })).toBe('later');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(140);
  });

  it('holds a near ETA from another client and defers a far one to the broker instead of memory', async () => {
    app = testApp();
    const worker = app.worker({ etaHoldMs: 1000 });
    await worker.start();
    const near = await Echo.applyAsync({ args: ['near'], eta: new Date(Date.now() + 100) });
    expect(await near.get({ timeout: 3 })).toBe('near');
    const publish = jest.spyOn(app.transport, 'publish');
    // a client that does not delay itself (as Celery 5.2 does): the worker gets the message at once
    const farEta = new Date(Date.now() + 60_000).toISOString();
    await app.transport.publish(
      raw({ task: 'mem.echo', id: 'far-1', eta: farEta }, JSON.stringify([['far'], {}, {}])),
      { queue: app.defaultQueue },
    );
    await waitFor(() => publish.mock.calls.length === 2);
    expect(publish.mock.calls[1]![1]).toMatchObject({ queue: app.defaultQueue });
    expect(publish.mock.calls[1]![1].delayMs).toBeGreaterThan(55_000);
    expect(brokerOf(app).delayedCount).toBe(1);
  });

  it('respects prefetch: a worker never holds more than concurrency × multiplier messages', async () => {
    app = testApp();
    await app.worker({ concurrency: 1, prefetchMultiplier: 2 }).start();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => AcksLate.delay()));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(brokerOf(app).depth(app.defaultQueue)).toBe(3); // 5 sent, 2 reserved
    await Promise.all(results.map((r) => r.get({ timeout: 3 })));
  });

  it('Apps naming the same memory broker share queues and results (a client App and a worker App)', async () => {
    const name = `memory://shared-${Date.now()}`;
    const workerApp = testApp({ broker: name, defaultQueue: 'shared-q' });
    app = testApp({ broker: name, defaultQueue: 'shared-q' });
    try {
      await workerApp.worker().start();
      const result = await app.sendTask('mem.echo', ['across apps']);
      expect(await result.get({ timeout: 3 })).toBe('across apps');
    } finally {
      await workerApp.close();
    }
  });
});

describe('warm stop', () => {
  it('lets running tasks finish, starts no waiting one, and leaves those on the queue', async () => {
    app = testApp();
    const worker = app.worker({ concurrency: 1, prefetchMultiplier: 4 });
    await worker.start();
    const first = await AcksLate.delay();
    const waiting = await Promise.all([AcksLate.delay(), AcksLate.delay()]);
    await new Promise((resolve) => setTimeout(resolve, 15)); // first is running, the others wait for the slot
    await worker.stop({ timeoutMs: 2000 });
    expect(await first.get({ timeout: 1 })).toBe('done');
    await app.transport.close();
    expect(
      brokerOf(app)
        .messages(app.defaultQueue)
        .map((m) => m.headers.id),
    ).toEqual(waiting.map((r) => r.id));
  });
});
