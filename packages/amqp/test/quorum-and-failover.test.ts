import { execFileSync } from 'node:child_process';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { App, ConfigurationError, Reject } from '@queue/core';
import { QueueDeclarationError, type AmqpTransport } from '../src';
import { amqpApp, BrokerAdmin, closeConnectionsNamed, uniqueQueue, waitFor } from './helpers';

jest.setTimeout(60_000);

let admin: BrokerAdmin;
beforeAll(async () => (admin = await BrokerAdmin.open()));
afterAll(async () => admin.close());

/** `name → type` of the broker's queues whose names start with `prefix`. */
function queueTypes(prefix: string): Record<string, string> {
  const listing = execFileSync('rabbitmqctl', ['list_queues', 'name', 'type', '-q', '--no-table-headers'], {
    encoding: 'utf8',
  });
  return Object.fromEntries(
    listing
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([name]) => name?.startsWith(prefix))
      .map(([name, type]) => [name!, type!.trim()]),
  );
}

describe('quorum queues', () => {
  test('queueType quorum declares the task queue and its dead-letter queue as quorum queues; tasks run', async () => {
    const queue = uniqueQueue('quorum');
    const app = amqpApp(queue, { transportOptions: { queueType: 'quorum' } });
    try {
      app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
      await app.worker({ concurrency: 2 }).start();
      await expect((await app.sendTask('it.add', [2, 3])).get({ timeout: 10 })).resolves.toBe(5);
      expect(queueTypes(queue)).toEqual({ [queue]: 'quorum', [`${queue}.dlq`]: 'quorum' });
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('per queue: queueTypes picks quorum for one queue while the others stay classic', async () => {
    const classic = uniqueQueue('per-queue-classic');
    const replicated = uniqueQueue('per-queue-quorum');
    const app = amqpApp(classic, { transportOptions: { queueTypes: { [replicated]: 'quorum' } } });
    try {
      app.task({ name: 'it.echo', queue: replicated }, (value: string) => value);
      await app.worker({ queues: [classic, replicated] }).start();
      await expect((await app.sendTask('it.echo', ['x'])).get({ timeout: 10 })).resolves.toBe('x');
      expect(queueTypes(classic)[classic]).toBe('classic');
      expect(queueTypes(replicated)[replicated]).toBe('quorum');
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(classic, replicated);
    }
  });

  test('a poison message that is always requeued ends in <queue>.dlq after deliveryLimit deliveries', async () => {
    const queue = uniqueQueue('delivery-limit');
    const app = amqpApp(queue, { transportOptions: { queueType: 'quorum', deliveryLimit: 3 } });
    try {
      let runs = 0;
      app.task({ name: 'it.poison', acksLate: true }, () => {
        runs += 1;
        throw new Reject('cannot handle this yet', true); // back to the queue, every time
      });
      await app.worker({ concurrency: 1 }).start();
      await app.sendTask('it.poison', []);
      await waitFor(async () => (await admin.depth(`${queue}.dlq`)) === 1, 20_000);
      expect(runs).toBe(4); // the first delivery and three redeliveries, then RabbitMQ dead-letters it
      const dead = await admin.get(`${queue}.dlq`);
      const deaths = dead
        ? (dead.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>)
        : [];
      const death = deaths?.[0];
      expect(death).toMatchObject({ queue, reason: 'delivery_limit' });
      expect(await admin.depth(queue)).toBe(0);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('a queue that exists as classic cannot silently become quorum: the error names the queue and argument', async () => {
    const queue = uniqueQueue('was-classic');
    await admin.declare(queue, {});
    const app = amqpApp(queue, { transportOptions: { queueType: 'quorum' } });
    try {
      const error = await app.sendTask('it.any').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueDeclarationError);
      expect((error as QueueDeclarationError).queue).toBe(queue);
      expect((error as Error).message).toMatch(/x-queue-type|delivery-limit|dead-letter|overflow/);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('priorities on a quorum queue are refused when the App is created', () => {
    const create = () =>
      new App({
        name: 'quorum-priority',
        broker: 'amqp://guest:guest@127.0.0.1:5672//',
        setAsCurrent: false,
        transportOptions: { queueType: 'quorum', queueArguments: { '*': { 'x-max-priority': 10 } } },
      });
    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(/quorum queue, which takes no x-max-priority/);
  });
});

/** A TCP relay to the local RabbitMQ that can be cut, standing in for one broker of several. */
class Relay {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((client) => {
      const upstream = tcpConnect(5672, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** The broker "dies": every connection through it drops and nothing listens any more. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}//`;
  }
}

describe('several broker URLs (failover)', () => {
  test('connects to the first broker that answers, without waiting for a backoff', async () => {
    const queue = uniqueQueue('failover-first');
    const app = amqpApp(queue, {
      broker: 'amqp://guest:guest@127.0.0.1:1//;amqp://guest:guest@127.0.0.1:5672//',
    });
    try {
      expect(app.transport.displayUrl).toBe(
        'amqp://guest:****@127.0.0.1:1//;amqp://guest:****@127.0.0.1:5672//',
      );
      app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
      const started = Date.now();
      await app.connect();
      expect(Date.now() - started).toBeLessThan(1000);
      expect((app.transport as AmqpTransport).connection.currentUrl).toBe(
        'amqp://guest:****@127.0.0.1:5672//',
      );
      await app.worker().start();
      await expect((await app.sendTask('it.add', [1, 2])).get({ timeout: 10 })).resolves.toBe(3);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await admin.cleanup(queue);
    }
  });

  test('a worker and a client fail over to the next broker when theirs dies, and keep running tasks', async () => {
    const queue = uniqueQueue('failover-loss');
    const first = await new Relay().start();
    const second = await new Relay().start();
    const app = amqpApp(queue, { broker: `${first.url};${second.url}` });
    const connection = (app.transport as AmqpTransport).connection;
    try {
      app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
      await app.worker({ concurrency: 4 }).start();
      expect(connection.currentUrl).toContain(`:${first.port}/`);
      const before = await Promise.all(Array.from({ length: 20 }, (_, i) => app.sendTask('it.add', [i, 1])));
      await first.stop();
      const after = await Promise.all(Array.from({ length: 20 }, (_, i) => app.sendTask('it.add', [i, 2])));
      const values = await Promise.all([...before, ...after].map((r) => r.get({ timeout: 20 })));
      expect(values).toEqual([
        ...Array.from({ length: 20 }, (_, i) => i + 1),
        ...Array.from({ length: 20 }, (_, i) => i + 2),
      ]);
      expect(connection.currentUrl).toContain(`:${second.port}/`);
      expect(connection.generation).toBe(2);
    } finally {
      await app.close({ timeoutMs: 1000 });
      await first.stop();
      await second.stop();
      await admin.cleanup(queue);
    }
  });

  test.each([
    ['round-robin', 'second'],
    ['in-order', 'first'],
  ] as const)(
    'failoverStrategy %s: after a loss with every broker up, it reconnects to the %s',
    async (strategy, expected) => {
      const queue = uniqueQueue(`failover-${strategy}`);
      const first = await new Relay().start();
      const second = await new Relay().start();
      const connectionName = `it-failover-${strategy}-${process.pid}-${Date.now()}`;
      const app = amqpApp(queue, {
        broker: `${first.url};${second.url}`,
        transportOptions: { failoverStrategy: strategy, connectionName },
      });
      const connection = (app.transport as AmqpTransport).connection;
      try {
        await app.connect();
        expect(connection.currentUrl).toContain(`:${first.port}/`);
        closeConnectionsNamed(connectionName);
        await waitFor(() => connection.generation === 2, 10_000);
        const port = expected === 'first' ? first.port : second.port;
        expect(connection.currentUrl).toContain(`:${port}/`);
      } finally {
        await app.close({ timeoutMs: 1000 });
        await first.stop();
        await second.stop();
        await admin.cleanup(queue);
      }
    },
  );
});
