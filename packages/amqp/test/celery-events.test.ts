import { randomUUID } from 'node:crypto';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Channel, GetMessage } from 'amqplib';
import { App } from '@queue/core';
import { BrokerUnavailableError, type AmqpTransport } from '../src';
import { clock, type CeleryEvent, type JsonValue, type Logger } from '@queue/core/transport';
import { AmqpEvents, EVENT_EXCHANGE } from '../src/events/amqp-events';
import { amqpApp, AMQP_URL, BrokerAdmin, uniqueQueue, waitFor } from './helpers';
import {
  PYTHON,
  requireCelery,
  startCeleryWorker,
  startProcess,
  type Spawned,
} from '../../../test-support/python-celery';

/**
 * Celery's event stream on the real RabbitMQ, both ways (PROTOCOL-2 §3): our `listen` reads a Python
 * Celery worker's events (`task.multi` batches included), Celery's own `EventReceiver` reads the events we
 * publish, and bodies that are no events do not stop the stream. One App (one connection) for the file.
 */
const FIXTURES = join(__dirname, 'fixtures');
requireCelery();

jest.setTimeout(90_000);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `child` exits, or after `ms` (the timer does not outlive the wait). */
function exitWithin(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Common fields as Celery's dispatcher sets them (§3.3); the caller of `publish` builds them. */
function eventOf(type: string, hostname: string, fields: Record<string, JsonValue>): CeleryEvent {
  return {
    hostname,
    utcoffset: Math.floor(new Date().getTimezoneOffset() / 60),
    pid: process.pid,
    clock: clock.forward(),
    ...fields,
    timestamp: Date.now() / 1000,
    type,
  };
}

/** A logger that keeps its warnings (the transport's own logs nothing here: LOG_LEVEL is silent). */
function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    error: (message) => warnings.push(message),
    warn: (message) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return logger;
}

/** Every message in `queue` now (bounded: the queue is ours and small). */
async function drain(channel: Channel, queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  for (let i = 0; i < 1000; i++) {
    const message = await channel.get(queue, { noAck: true });
    if (message === false) break;
    messages.push(message);
  }
  return messages;
}

/** `rabbitmqctl list_queues` rows of the `celeryev.*` queues: name → "durable auto_delete arguments". */
function eventQueues(): Map<string, string> {
  const listing = execFileSync(
    'rabbitmqctl',
    ['list_queues', 'name', 'durable', 'auto_delete', 'arguments', '-q', '--no-table-headers'],
    { encoding: 'utf8' },
  );
  const rows = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const [name, ...rest] = line.split('\t');
    if (name?.startsWith('celeryev.')) rows.set(name, rest.join(' '));
  }
  return rows;
}

describe('Celery events over RabbitMQ', () => {
  const queue = uniqueQueue('events');
  let app: App;
  let transport: AmqpTransport;
  let admin: BrokerAdmin;
  /** A raw channel on the App's own connection, for what the API under test does not do (raw bodies, taps). */
  let raw: Channel;
  const taps: string[] = [];

  /** A private queue bound to `celeryev` with `keys`, to see messages as they are on the wire. */
  async function tap(...keys: string[]): Promise<string> {
    const { queue: name } = await raw.assertQueue(`test.events-tap.${randomUUID()}`, {
      durable: false,
      autoDelete: false,
      arguments: { 'x-expires': 120_000 },
    });
    taps.push(name);
    for (const key of keys) await raw.bindQueue(name, EVENT_EXCHANGE, key);
    return name;
  }

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue);
    transport = app.transport as AmqpTransport;
    await app.connect();
    raw = await (await transport.connection.whenOpen(Date.now() + 10_000)).createChannel();
    raw.on('error', () => undefined);
    await raw.assertExchange(EVENT_EXCHANGE, 'topic', { durable: true });
  });

  afterAll(async () => {
    for (const name of taps) await raw.deleteQueue(name).catch(() => undefined);
    await raw.close().catch(() => undefined);
    await app.close({ timeoutMs: 1000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('our listen() receives a Python worker’s events: online, heartbeat, and its task events as task.multi lists', async () => {
    const node = `pyev-${randomUUID().slice(0, 8)}`;
    const seen: CeleryEvent[] = [];
    const stop = await transport.events.listen((event) => seen.push(event));
    const multi = await tap('task.multi');
    const fromWorker = (type: string) =>
      seen.filter((e) => e.type === type && String(e.hostname).startsWith(`${node}@`));
    let worker: Spawned | undefined;
    try {
      // -E and heartbeats on: its events are what this test reads.
      worker = await startCeleryWorker({
        cwd: FIXTURES,
        app: 'celery_app',
        queue,
        hostname: `${node}@%h`,
        env: { AMQP_URL },
        flags: ['-P', 'solo', '-E', '-l', 'info', '--without-mingle', '--without-gossip'],
      });
      const result = await app.sendTask('py.add', [2, 3]);
      await expect(result.get({ timeout: 20 })).resolves.toBe(5);
      const forTask = (type: string) => fromWorker(type).filter((e) => e.uuid === result.id);
      await waitFor(
        () =>
          fromWorker('worker-online').length > 0 &&
          fromWorker('worker-heartbeat').length > 0 &&
          ['task-received', 'task-started', 'task-succeeded'].every((type) => forTask(type).length === 1),
        15_000,
      ).catch(() => {
        throw new Error(`events missing; seen: ${JSON.stringify(seen.map((e) => [e.type, e.hostname]))}`);
      });

      const [online] = fromWorker('worker-online');
      expect(online).toMatchObject({ sw_ident: 'py-celery', freq: 2, active: 0 });
      // `args` is the message's `argsrepr` as the sender wrote it (ours: JSON), a string either way.
      expect(forTask('task-received')[0]).toMatchObject({
        name: 'py.add',
        args: expect.stringMatching(/2, ?3/),
        retries: 0,
      });
      expect(forTask('task-succeeded')[0]).toMatchObject({ result: '5' });
      expect(typeof forTask('task-succeeded')[0]!.runtime).toBe('number');
      const ours = seen.filter((e) => String(e.hostname).startsWith(`${node}@`));
      for (const event of ours) {
        expect(typeof event.clock).toBe('number');
        expect(typeof event.timestamp).toBe('number');
      }
      // Every event's clock was adjusted to: ours is now past the largest seen.
      expect(clock.current).toBeGreaterThan(Math.max(...ours.map((e) => e.clock as number)));

      // On the wire the task events came batched: lists under `task.multi`, which listen() unpacked.
      const batches = (await drain(raw, multi)).map((m) => JSON.parse(m.content.toString()) as unknown);
      const ourBatches = batches.filter(
        (body) =>
          Array.isArray(body) &&
          body.some((e: { uuid?: string }) => typeof e === 'object' && e?.uuid === result.id),
      );
      expect(ourBatches.length).toBeGreaterThan(0);

      worker.child.kill('SIGTERM');
      await exitWithin(worker.child, 15_000);
      await waitFor(() => fromWorker('worker-offline').length === 1, 5_000);
    } finally {
      await worker?.stop(0);
      await stop();
    }
  });

  test('Celery’s own EventReceiver reads the events we publish (worker-online, task-succeeded)', async () => {
    const hostname = `ts-ev-${randomUUID().slice(0, 8)}@test`;
    let receiver: Spawned | undefined;
    try {
      receiver = await startProcess(
        PYTHON,
        [join(FIXTURES, 'celery_event_receiver.py'), hostname, 'worker-online,task-succeeded', '30'],
        { cwd: FIXTURES, env: { AMQP_URL }, timeoutMs: 45_000, name: 'receiver', ready: /READY/ },
      );
      const taskId = randomUUID();
      const online = eventOf('worker-online', hostname, {
        freq: 2.0,
        active: 0,
        processed: 0,
        loadavg: [0.5, 0.25, 0.125],
        sw_ident: 'queue-ts',
        sw_ver: '0.1.0',
        sw_sys: 'Linux',
      });
      const succeeded = eventOf('task-succeeded', hostname, { uuid: taskId, result: '5', runtime: 0.25 });
      await transport.events.publish(online);
      await transport.events.publish(succeeded);
      expect(await receiver.closed).toBe(0);

      const lines = receiver
        .log()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const got = (type: string) => lines.find((line) => line.type === type);
      expect(got('worker-online')).toMatchObject({
        hostname,
        pid: process.pid,
        clock: online.clock,
        freq: 2,
        processed: 0,
        loadavg: [0.5, 0.25, 0.125],
        sw_ident: 'queue-ts',
      });
      expect(got('task-succeeded')).toMatchObject({
        hostname,
        uuid: taskId,
        result: '5',
        runtime: 0.25,
        clock: succeeded.clock,
      });
      // The receiver localized our timestamp and stamped its own receipt time (§3.3): both about now.
      for (const line of [got('worker-online')!, got('task-succeeded')!]) {
        expect(Math.abs((line.timestamp as number) - Date.now() / 1000)).toBeLessThan(60);
        expect(typeof line.local_received).toBe('number');
      }
    } finally {
      await receiver?.stop(0);
    }
  });

  test('publish() puts Celery’s routing key, properties and header on the wire, to a durable topic exchange', async () => {
    const hostname = `ts-wire-${randomUUID().slice(0, 8)}@test`;
    const wire = await tap('worker.heartbeat', 'task.succeeded');
    const heartbeat = eventOf('worker-heartbeat', hostname, { freq: 2.0, active: 1, processed: 7 });
    const succeeded = eventOf('task-succeeded', hostname, { uuid: randomUUID(), result: '5', runtime: 0.1 });
    await transport.events.publish(heartbeat);
    await transport.events.publish(succeeded);
    const messages: GetMessage[] = [];
    await waitFor(async () => {
      messages.push(...(await drain(raw, wire)));
      return messages.filter((m) => m.properties.headers?.hostname === hostname).length >= 2;
    }, 10_000);
    const mine = messages.filter((m) => m.properties.headers?.hostname === hostname);
    expect(mine.map((m) => m.fields.routingKey)).toEqual(['worker.heartbeat', 'task.succeeded']);
    expect(mine.map((m) => JSON.parse(m.content.toString()) as unknown)).toEqual([heartbeat, succeeded]);
    for (const message of mine) {
      expect(message.fields.exchange).toBe('celeryev');
      expect(message.properties).toMatchObject({
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 1,
        priority: 0,
        headers: { hostname },
      });
      expect(message.properties.correlationId).toBeUndefined();
    }
    const exchange = execFileSync(
      'rabbitmqctl',
      ['list_exchanges', 'name', 'type', 'durable', 'auto_delete', '-q', '--no-table-headers'],
      { encoding: 'utf8' },
    )
      .split('\n')
      .find((line) => line.startsWith('celeryev\t'));
    expect(exchange?.split('\t')).toEqual(['celeryev', 'topic', 'true', 'false']);
  });

  test('listen(): a malformed body is dropped with one warning, a list body is unpacked, the stream goes on', async () => {
    const warnings: string[] = [];
    // Our class on the App's connection, with a logger of our own to see its warnings.
    const events = new AmqpEvents(transport.connection, transport.options, recordingLogger(warnings));
    const hostname = `ts-raw-${randomUUID().slice(0, 8)}@test`;
    const seen: CeleryEvent[] = [];
    const before = eventQueues();
    const stop = await events.listen((event) => {
      if (event.hostname === hostname) seen.push(event);
    });
    // New `celeryev.*` queues: ours (and any another process declared meanwhile, with Celery's settings too).
    const created = [...eventQueues()].filter(([name]) => !before.has(name));
    try {
      // The receiver queue is Celery's: non-durable, auto-delete, TTL 5 s, expires 60 s (§3.6).
      expect(created.length).toBeGreaterThan(0);
      for (const [, row] of created) {
        expect(row).toMatch(/^false true /);
        expect(row).toContain('{"x-message-ttl",5000}');
        expect(row).toContain('{"x-expires",60000}');
      }

      const uuid = randomUUID();
      const properties = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1 };
      const send = (key: string, body: string) =>
        raw.publish(EVENT_EXCHANGE, key, Buffer.from(body), properties);
      send('task.multi', '[{"type": "task-started", "hostname": "x"'); // cut short
      send('task.multi', '[]'); // Celery's flush() publishes empty batches too
      send(
        'task.multi',
        JSON.stringify([
          { type: 'task-started', hostname, uuid, clock: 1_000_000 },
          42,
          { hostname, uuid, note: 'no type' },
          { type: 7, hostname },
          null,
          { type: 'task-succeeded', hostname, uuid, result: '5', clock: 1_000_001 },
        ]),
      );
      send('worker.heartbeat', JSON.stringify({ type: 'worker-heartbeat', hostname, clock: 5 }));
      await waitFor(() => seen.length >= 3, 10_000);
      await sleep(200); // nothing more may come
      expect(seen.map((e) => e.type)).toEqual(['task-started', 'task-succeeded', 'worker-heartbeat']);
      expect(seen[1]).toMatchObject({ uuid, result: '5' });
      expect(clock.current).toBeGreaterThan(1_000_001);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/dropped an unreadable event message \(task\.multi\)/);
    } finally {
      await stop();
    }
    // Closing the listener's channel removes its auto-delete queue.
    await waitFor(() => {
      const now = eventQueues();
      return created.some(([name]) => !now.has(name));
    }, 10_000);
  });

  test('publish() rejects with BrokerUnavailableError when no broker answers within the connect timeout', async () => {
    const offline = new App({
      name: 'events-offline',
      broker: 'amqp://guest:guest@127.0.0.1:1//',
      setAsCurrent: false,
      transportOptions: { connectTimeoutMs: 500, reconnectMaxDelayMs: 100 },
    });
    try {
      const started = Date.now();
      const publishing = offline.transport.events!.publish(eventOf('worker-heartbeat', 'nobody@test', {}));
      await expect(publishing).rejects.toBeInstanceOf(BrokerUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await offline.close({ timeoutMs: 0 });
    }
  });
});
