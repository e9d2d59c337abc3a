import { States, type AsyncResult } from '@queue/core';
import { AmqpTransport, QueueDeclarationError, REJECT_REASON_HEADER } from '../src';
import {
  amqpApp,
  BrokerAdmin,
  closeConnectionsNamed,
  killProcess,
  type FixtureProcess,
  startWorkerProcess,
  uniqueQueue,
  waitFor,
} from './helpers';

jest.setTimeout(90_000);

let admin: BrokerAdmin;
beforeAll(async () => (admin = await BrokerAdmin.open()));
afterAll(async () => admin.close());

function settledCount(results: AsyncResult[]): number {
  return results.filter((r) => r.state === States.SUCCESS).length;
}

describe('no task is lost', () => {
  test('a worker SIGKILLed with hundreds of tasks in flight: a new worker finishes every one', async () => {
    const queue = uniqueQueue('sigkill');
    const caller = amqpApp(queue);
    let first: FixtureProcess | undefined;
    let second: FixtureProcess | undefined;
    try {
      first = await startWorkerProcess(queue, 50);
      const total = 400;
      const results = await Promise.all(
        Array.from({ length: total }, (_, i) => caller.sendTask('it.slow', [i, 100])),
      );
      await waitFor(() => settledCount(results) >= 40, 30_000);
      await killProcess(first);
      const doneBeforeKill = settledCount(results);
      expect(doneBeforeKill).toBeLessThan(total); // hundreds were still queued or running
      second = await startWorkerProcess(queue, 50);
      const values = await Promise.all(results.map((r) => r.get({ timeout: 60 })));
      expect(new Set(values).size).toBe(total);
      expect([...values].sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: total }, (_, i) => i),
      );
    } finally {
      await killProcess(first);
      await killProcess(second);
      await caller.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('connections closed by the broker mid-run: publishing and consuming resume, every task completes', async () => {
    const queue = uniqueQueue('closeconn');
    const connectionName = `it-closeconn-${process.pid}-${Date.now()}`;
    const app = amqpApp(queue, { transportOptions: { connectionName } });
    try {
      app.task({ name: 'it.nap' }, async (id: number) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return id;
      });
      await app.worker({ concurrency: 10 }).start();
      const before = await Promise.all(Array.from({ length: 150 }, (_, i) => app.sendTask('it.nap', [i])));
      await waitFor(() => settledCount(before) >= 20, 20_000);
      closeConnectionsNamed(connectionName);
      expect(settledCount(before)).toBeLessThan(150); // closed mid-run
      // Sent while the connection is down or coming back: waits for the reconnect instead of failing.
      const after = await Promise.all(
        Array.from({ length: 50 }, (_, i) => app.sendTask('it.nap', [1000 + i])),
      );
      const values = await Promise.all([...before, ...after].map((r) => r.get({ timeout: 60 })));
      expect((app.transport as AmqpTransport).connection.generation).toBeGreaterThan(1); // it did reconnect
      expect(values).toEqual([
        ...Array.from({ length: 150 }, (_, i) => i),
        ...Array.from({ length: 50 }, (_, i) => 1000 + i),
      ]);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });
});

describe('bad input never stops the worker', () => {
  test('garbage published straight to the queue is dead-lettered with a reason; good tasks around it complete', async () => {
    const queue = uniqueQueue('poison');
    const app = amqpApp(queue);
    try {
      app.task({ name: 'it.echo' }, (value: unknown) => value);
      const rejected: string[] = [];
      const worker = app.worker({ concurrency: 4 });
      worker.on('message-rejected', (reason: string) => rejected.push(reason));
      await worker.start();
      const good1 = await app.sendTask('it.echo', ['before']);
      const json = { contentType: 'application/json', contentEncoding: 'utf-8' };
      const headers = { lang: 'py', task: 'it.echo', id: 'c0ffee00-0000-4000-8000-000000000001' };
      await admin.publishRaw(queue, 'not json at all', { ...json, headers });
      await admin.publishRaw(queue, '[[1],{},{}]', json); // no protocol headers
      await admin.publishRaw(queue, '[[],{},{}]', { ...json, headers: { ...headers, task: 'it.nope' } });
      await admin.publishRaw(queue, Buffer.from([0x80, 0x04, 0x95]), {
        contentType: 'application/x-python-serialize',
        headers,
      });
      await admin.publishRaw(queue, '{"a":'.repeat(5000), { ...json, headers });
      const good2 = await app.sendTask('it.echo', ['after']);
      await expect(good1.get({ timeout: 10 })).resolves.toBe('before');
      await expect(good2.get({ timeout: 10 })).resolves.toBe('after');
      await waitFor(async () => (await admin.depth(`${queue}.dlq`)) === 5, 10_000);
      const reasons: string[] = [];
      for (let i = 0; i < 5; i++) {
        const message = await admin.get(`${queue}.dlq`);
        if (message) reasons.push(String(message.properties.headers?.[REJECT_REASON_HEADER]));
      }
      expect(reasons).toHaveLength(5);
      expect(reasons).toEqual(expect.arrayContaining(['unknown-task', 'unsupported-content-type']));
      expect(reasons.every((reason) => reason.length > 0 && reason !== 'undefined')).toBe(true);
      expect(rejected.sort()).toEqual([...reasons].sort());
      expect(worker.running).toBe(true);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('a queue that exists with other arguments fails fast, naming the queue and the argument', async () => {
    const queue = uniqueQueue('precondition');
    await admin.declare(queue, { 'x-max-priority': 10 });
    const app = amqpApp(queue);
    try {
      app.task({ name: 'it.noop' }, () => null);
      const started = Date.now();
      const error = await app.sendTask('it.noop').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueDeclarationError);
      expect((error as QueueDeclarationError).queue).toBe(queue);
      expect((error as QueueDeclarationError).argument).toBe('x-max-priority');
      expect((error as Error).message).toContain(queue);
      const workerError = await app
        .worker()
        .start()
        .catch((e: unknown) => e);
      expect(workerError).toBeInstanceOf(QueueDeclarationError);
      expect(Date.now() - started).toBeLessThan(5000); // no reconnect loop
      // With matching arguments it works.
      const fixed = amqpApp(queue, {
        transportOptions: { queueArguments: { [queue]: { 'x-max-priority': 10 } } },
      });
      try {
        fixed.task({ name: 'it.noop' }, () => 'ok');
        await fixed.worker().start();
        await expect((await fixed.sendTask('it.noop')).get({ timeout: 10 })).resolves.toBe('ok');
      } finally {
        await fixed.close({ timeoutMs: 1000 });
      }
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });
});
