import { randomUUID } from 'node:crypto';
import { Beat, LockLostError, type App, type BeatRun } from '@queue/core';
import { whileHolding, type TransportLock } from '@queue/core/transport';
import { amqpApp, BrokerAdmin, closeConnectionsNamed, uniqueQueue, waitFor } from './helpers';

/**
 * Transport locks on RabbitMQ (exclusive queues on the App's connection), the publish fence, and a beat
 * that loses its connection: it stops sending, takes the lock again after the reconnect, and goes on.
 */
jest.setTimeout(30_000);

describe('AMQP transport locks', () => {
  const apps: App[] = [];
  let admin: BrokerAdmin;
  const queue = uniqueQueue('locks');

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close({ timeoutMs: 100 })));
  });
  afterAll(async () => {
    await admin.cleanup(queue);
    await admin.close();
  });

  function app(connectionName?: string): App {
    const created = amqpApp(queue, {
      resultBackend: 'memory://',
      transportOptions: { connectionName: connectionName ?? `it-locks-${randomUUID().slice(0, 8)}` },
    });
    apps.push(created);
    return created;
  }

  test('one connection holds a name; release or a closed connection frees it for the next', async () => {
    const name = `test.lock.${randomUUID().slice(0, 8)}`;
    const [a, b] = [app(), app()];
    const lockA = await a.transport.locks!.tryAcquire(name);
    expect(lockA?.held).toBe(true);
    expect(await b.transport.locks!.tryAcquire(name)).toBeUndefined(); // 405 RESOURCE_LOCKED
    expect(await b.transport.locks!.tryAcquire(name)).toBeUndefined(); // and again: each try has its own channel
    await lockA!.release();
    expect(lockA!.held).toBe(false);
    const lockB = await b.transport.locks!.tryAcquire(name);
    expect(lockB?.held).toBe(true);
    await b.close(); // the connection goes: the broker deletes the exclusive queue
    const again = await a.transport.locks!.tryAcquire(name);
    expect(again?.held).toBe(true);
    await again!.release();
  });

  test('a connection closed by the broker loses the lock; fenced publishes fail, even after the reconnect', async () => {
    const name = `test.lock.${randomUUID().slice(0, 8)}`;
    const connectionName = `it-locks-lost-${randomUUID().slice(0, 8)}`;
    const holder = app(connectionName);
    const lock = (await holder.transport.locks!.tryAcquire(name)) as TransportLock;
    const reasons: string[] = [];
    lock.onLost((reason) => reasons.push(reason));
    await whileHolding(lock, () => holder.sendTask('t.fenced', [1], {}, { queue }));
    expect(await admin.depth(queue)).toBe(1);

    closeConnectionsNamed(connectionName);
    await waitFor(() => reasons.length === 1, 5000);
    expect(lock.held).toBe(false);
    await expect(whileHolding(lock, () => holder.sendTask('t.fenced', [2], {}, { queue }))).rejects.toThrow(
      LockLostError,
    );
    // After the reconnect the old lock stays lost (a new connection does not hold it) …
    await holder.sendTask('t.unfenced', [3], {}, { queue }); // waits out the reconnect
    await expect(whileHolding(lock, () => holder.sendTask('t.fenced', [4], {}, { queue }))).rejects.toThrow(
      LockLostError,
    );
    // … and the name is free again: the broker deleted the queue with the old connection.
    const retaken = await holder.transport.locks!.tryAcquire(name);
    expect(retaken?.held).toBe(true);
    await whileHolding(retaken!, () => holder.sendTask('t.fenced', [5], {}, { queue }));
    const bodies: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const message = await admin.get(queue);
      if (message) bodies.push(JSON.parse(message.content.toString())[0]);
    }
    expect(bodies).toEqual([[1], [3], [5]]);
    await retaken!.release();
  });

  test('a beat whose connection drops stops sending, takes the lock again after the reconnect, and goes on', async () => {
    const connectionName = `it-locks-beat-${randomUUID().slice(0, 8)}`;
    const sender = app(connectionName);
    const beat = new Beat(sender, {
      schedule: { fast: { task: 't.fast', schedule: 0.2, options: { queue } } },
      scheduleFile: null,
      lockName: `test.beat.${randomUUID().slice(0, 8)}`,
      lockRetryInterval: 0.2,
    });
    const runs: BeatRun[] = [];
    const events: string[] = [];
    beat.on('sent', (run) => runs.push(run));
    beat.on('lock-acquired', () => events.push('acquired'));
    beat.on('lock-lost', () => events.push('lost'));
    await beat.start();
    try {
      await waitFor(() => runs.length >= 3, 5000);
      closeConnectionsNamed(connectionName);
      await waitFor(() => events.length >= 3, 10_000);
      const count = runs.length;
      await waitFor(() => runs.length >= count + 3, 5000);
    } finally {
      await beat.stop();
    }
    expect(events.slice(0, 3)).toEqual(['acquired', 'lost', 'acquired']);
    const gaps = runs.slice(1).map((run, i) => run.at - runs[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200); // never two runs at once around the reconnect
  });
});
