import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel, ConsumeMessage } from 'amqplib';
import { TaskRevokedError, type App, type BoundTask, type Worker } from '@queue/core';
import type { AmqpTransport } from '../src';
import { PIDBOX_EXCHANGE, PIDBOX_REPLY_EXCHANGE } from '../src/control/amqp-control';
import { AMQP_URL, amqpApp, BrokerAdmin, uniqueQueue, waitFor } from './helpers';
import {
  PYTHON,
  requireCelery,
  runProcess,
  startCeleryWorker,
  startProcess,
  type Finished,
  type Spawned,
} from '../../../test-support/python-celery';

/**
 * Celery's remote control (pidbox) and events between our workers and Debian's Celery 5.2, on the real
 * RabbitMQ (PROTOCOL-2 §2, §3): Celery's CLI and client inspect, revoke and terminate our workers; our client
 * inspects and revokes a Python worker; Celery's EventReceiver follows our worker; hostile control messages
 * do not hurt it. Other test files share the broker: every command names its worker (`destination`), and
 * every queue is ours.
 */
const FIXTURES = join(__dirname, 'fixtures');
const CLI = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
requireCelery();
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (bash scripts/pnpm.sh -r build)`);

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const suffix = randomUUID().slice(0, 8);

/** Runs a command to its end (killed after 20 s), in the fixtures folder, with AMQP_URL set. */
function runHere(command: string, args: string[]): Promise<Finished> {
  return runProcess(command, args, {
    cwd: FIXTURES,
    env: { AMQP_URL, LOG_LEVEL: 'error' },
    timeoutMs: 20_000,
  });
}

/** `python3 -m celery -b <broker> <args>`: Celery's own CLI. */
function celery(...args: string[]): Promise<Finished> {
  return runHere(PYTHON, ['-m', 'celery', '-b', AMQP_URL, ...args]);
}

/** The JSON a command printed (`--json` output is one line), or a failure showing what it printed. */
function jsonOf<T = Record<string, unknown>>(run: Finished): T {
  if (run.status !== 0) throw new Error(`exit ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A Celery worker (Debian's 5.2) for `celery_control_app.py` on `queue`, named exactly `hostname`. */
function startPythonWorker(queue: string, hostname: string): Promise<Spawned> {
  return startCeleryWorker({
    cwd: FIXTURES,
    app: 'celery_control_app',
    queue,
    hostname,
    env: { AMQP_URL },
    // prefork with one child: the main process keeps answering control while the child runs a task.
    flags: [
      '-P',
      'prefork',
      '-c',
      '1',
      '--prefetch-multiplier',
      '1',
      '-l',
      'info',
      '--without-mingle',
      '--without-gossip',
      '--without-heartbeat',
    ],
    // A process group of its own: stop() signals the pool's children too.
    detached: true,
  });
}

/** Our CLI worker (`queue worker`) for `control-app.js` in its own process. */
function startCliWorker(queue: string, hostname: string, ledger: string): Promise<Spawned> {
  return startProcess(
    process.execPath,
    [CLI, 'worker', '--app', join(FIXTURES, 'control-app.js'), '-n', hostname, '-c', '4', '--without-mingle'],
    {
      cwd: FIXTURES,
      env: { AMQP_URL, QUEUE: queue, LEDGER: ledger, LOG_LEVEL: 'warn' },
      detached: true,
      name: 'queue worker',
    },
  );
}

/** The lines `<id> started|done` the control-app.js tasks appended to `ledger`. */
function ledgerLines(ledger: string): string[] {
  return existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n').filter(Boolean) : [];
}

/** The moment `promise` settles (Date.now()), kept beside its rejection. */
function settledAt(promise: Promise<unknown>): Promise<{ at: number; error: unknown }> {
  return promise.then(
    () => ({ at: Date.now(), error: undefined }),
    (error: unknown) => ({ at: Date.now(), error }),
  );
}

const OUR_HOST = `ts-ctl-${suffix}@test`;
const PY_HOST = `py-ctl-${suffix}@test`;
const TASKINFO_FIELDS = [
  'id',
  'name',
  'args',
  'kwargs',
  'type',
  'hostname',
  'time_start',
  'acknowledged',
  'delivery_info',
  'worker_pid',
];

describe('remote control and events between our workers and Celery 5.2', () => {
  const ourQueue = uniqueQueue('ctl-ours');
  const pyQueue = uniqueQueue('ctl-py');
  const queues = [ourQueue, pyQueue];
  const dir = mkdtempSync(join(tmpdir(), 'celery-control-'));
  let app: App;
  let worker: Worker;
  let admin: BrokerAdmin;
  let python: Spawned | undefined;
  const started = new Set<string>();

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(ourQueue);
    app.task({ name: 'it.add' }, (a: number, b: number) => a + b);
    // Waits on its AbortSignal, so a terminate ends it at once; acked early, as Celery's default is.
    app.task({ name: 'it.slow', bind: true, acksLate: false }, async (self: BoundTask, ms: number) => {
      await self.sleepMs(ms);
      return ms;
    });
    worker = app.worker({ hostname: OUR_HOST, queues: [ourQueue], concurrency: 4 });
    worker.on('task-started', (envelope) => started.add(envelope.id));
    [python] = await Promise.all([startPythonWorker(pyQueue, PY_HOST), worker.start()]);
  });

  afterAll(async () => {
    await python?.stop();
    await app?.close({ timeoutMs: 2000 });
    await admin.cleanup(...queues);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Celery’s CLI: inspect ping|registered|active|stats -d <our host> --json in Celery’s reply shapes', async () => {
    await expect((await app.sendTask('it.add', [1, 2])).get({ timeout: 10 })).resolves.toBe(3);
    const slow = await app.sendTask('it.slow', [8000], {}, { queue: ourQueue });
    await waitFor(() => started.has(slow.id), 10_000);

    const [ping, registered, active, stats] = await Promise.all(
      ['ping', 'registered', 'active', 'stats'].map((method) =>
        celery('inspect', method, '-d', OUR_HOST, '--json', '-t', '5'),
      ),
    );
    expect(jsonOf(ping)).toEqual({ [OUR_HOST]: { ok: 'pong' } });
    expect(jsonOf(registered)).toEqual({ [OUR_HOST]: expect.arrayContaining(['it.add', 'it.slow']) });

    const activeReply = jsonOf(active)[OUR_HOST] as Array<Record<string, unknown>>;
    expect(activeReply).toHaveLength(1);
    const info = activeReply[0]!;
    for (const field of TASKINFO_FIELDS) expect(info).toHaveProperty(field);
    expect(info).toMatchObject({
      id: slow.id,
      name: 'it.slow',
      type: 'it.slow',
      args: [8000],
      kwargs: {},
      hostname: OUR_HOST,
      acknowledged: true,
      worker_pid: process.pid,
      delivery_info: {
        exchange: '',
        routing_key: ourQueue,
        priority: expect.any(Number),
        redelivered: false,
      },
    });
    expect(Math.abs((info.time_start as number) - Date.now() / 1000)).toBeLessThan(30);

    const statsReply = jsonOf(stats)[OUR_HOST] as Record<string, unknown>;
    expect(statsReply).toMatchObject({
      total: expect.objectContaining({ 'it.add': expect.any(Number) }),
      pid: process.pid,
      clock: expect.stringMatching(/^\d+$/),
      uptime: expect.any(Number),
      pool: expect.objectContaining({ 'max-concurrency': 4 }),
      broker: expect.objectContaining({ hostname: '127.0.0.1', port: 5672, transport: 'amqp' }),
      prefetch_count: expect.any(Number),
      rusage: expect.objectContaining({ utime: expect.any(Number), maxrss: expect.any(Number) }),
    });
    expect((statsReply.total as Record<string, number>)['it.add']).toBeGreaterThanOrEqual(1);
    expect(typeof statsReply.broker).toBe('object');

    // Done with it: our own terminate, answered in Celery's shape; the caller sees REVOKED.
    const replies = await app.control.terminate(slow.id, 'SIGTERM', {
      destination: [OUR_HOST],
      reply: true,
      timeout: 5,
    });
    expect(replies).toEqual({ [OUR_HOST]: { ok: `terminate: ${slow.id}` } });
    await expect(slow.get({ timeout: 5 })).rejects.toBeInstanceOf(TaskRevokedError);
  });

  test('our client: inspect ping/registered/stats of a running Python worker', async () => {
    const inspect = app.control.inspect({ destination: [PY_HOST], timeout: 5 });
    await expect(inspect.ping()).resolves.toEqual({ [PY_HOST]: { ok: 'pong' } });
    const registered = await inspect.registered();
    expect(Object.keys(registered)).toEqual([PY_HOST]);
    expect(registered[PY_HOST]).toEqual(expect.arrayContaining(['pyctl.add', 'pyctl.mark', 'pyctl.sleep']));
    const stats = await inspect.stats();
    expect(Object.keys(stats)).toEqual([PY_HOST]);
    expect(stats[PY_HOST]).toMatchObject({
      total: expect.any(Object),
      pool: expect.objectContaining({ 'max-concurrency': 1 }),
      broker: expect.objectContaining({ transport: 'amqp' }),
      prefetch_count: 1,
    });
  });

  test('our CLI `queue control revoke` and `app.control.revoke` discard tasks queued behind a busy Python worker', async () => {
    // pyctl.sleep acks late: with prefetch 1 the queued tasks stay on the broker until it ends (a prefork
    // worker runs a task already handed to its pool even when it is revoked meanwhile: Celery's own limit).
    const busy = await app.sendTask('pyctl.sleep', [4], {}, { queue: pyQueue });
    await waitFor(async () => {
      const active = await app.control.inspect({ destination: [PY_HOST], timeout: 2 }).active();
      return (active[PY_HOST] ?? []).some((task) => task.id === busy.id);
    }, 10_000);
    const markers = [join(dir, 'by-cli'), join(dir, 'by-control')];
    const byCli = await app.sendTask('pyctl.mark', [markers[0]], {}, { queue: pyQueue });
    const byControl = await app.sendTask('pyctl.mark', [markers[1]], {}, { queue: pyQueue });
    const outcomes = [byCli, byControl].map((result) =>
      result.get({ timeout: 20 }).catch((error: unknown) => error),
    );

    const cli = await runHere(process.execPath, [
      CLI,
      'control',
      'revoke',
      byCli.id,
      '-d',
      PY_HOST,
      '--broker',
      AMQP_URL,
      '--timeout',
      '5',
    ]);
    expect(jsonOf(cli)).toEqual({ [PY_HOST]: { ok: `tasks ${byCli.id} flagged as revoked` } });
    // Celery's default: a cast to every worker, no reply.
    await expect(app.control.revoke(byControl.id)).resolves.toEqual({});

    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome).toBeInstanceOf(TaskRevokedError);
      expect((outcome as Error).message).toMatch(/revoked/);
    }
    expect(byCli.state).toBe('REVOKED');
    expect(byControl.state).toBe('REVOKED');
    await expect(busy.get({ timeout: 10 })).resolves.toBe(4);
    // Queued after them on a one-process worker: once it has run, they would have run too.
    await expect(
      (await app.sendTask('pyctl.add', [2, 3], {}, { queue: pyQueue })).get({ timeout: 10 }),
    ).resolves.toBe(5);
    for (const marker of markers) expect(existsSync(marker)).toBe(false);
  });

  test('Celery’s EventReceiver sees our worker: online, heartbeat, task received → started → succeeded, offline', async () => {
    const host = `ts-ev-${suffix}@test`;
    const queue = uniqueQueue('ctl-events');
    queues.push(queue);
    const wanted = [
      'worker-online',
      'worker-heartbeat',
      'task-received',
      'task-started',
      'task-succeeded',
      'worker-offline',
    ];
    const receiver = await startProcess(
      PYTHON,
      [join(FIXTURES, 'celery_event_receiver.py'), host, wanted.join(','), '30'],
      { cwd: FIXTURES, env: { AMQP_URL }, timeoutMs: 45_000, name: 'receiver', ready: /READY/ },
    );
    const events = () =>
      receiver
        .log()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    let eventWorker: Worker | undefined;
    try {
      eventWorker = app.worker({ hostname: host, queues: [queue], sendTaskEvents: true });
      await eventWorker.start();
      const result = await app.sendTask('it.add', [20, 22], {}, { queue });
      await expect(result.get({ timeout: 10 })).resolves.toBe(42);
      await waitFor(() => {
        if (receiver.child.exitCode !== null) throw new Error(`receiver exited:\n${receiver.log()}`);
        const types = new Set(events().map((event) => event.type));
        return wanted.slice(0, -1).every((type) => types.has(type));
      }, 15_000).catch((error: Error) => {
        throw new Error(`${error.message}; seen:\n${receiver.log()}`);
      });
      await eventWorker.stop({ timeoutMs: 2000 });
      expect(await receiver.closed).toBe(0);

      const seen = events();
      expect(seen.every((event) => event.hostname === host)).toBe(true);
      expect(seen[0]).toMatchObject({ type: 'worker-online', freq: 2, pid: process.pid });
      expect(seen.at(-1)).toMatchObject({ type: 'worker-offline' });
      const forTask = seen.filter((event) => event.uuid === result.id);
      const byClock = [...forTask].sort((a, b) => (a.clock as number) - (b.clock as number));
      expect(byClock.map((event) => event.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
      expect(byClock[0]).toMatchObject({ name: 'it.add', retries: 0 });
      expect(byClock[2]).toMatchObject({ result: '42' });
      for (const event of seen) {
        expect(typeof event.clock).toBe('number');
        expect(typeof event.local_received).toBe('number');
      }
    } finally {
      await eventWorker?.stop({ timeoutMs: 0 });
      await receiver.stop(0);
    }
  });

  describe('a worker of ours in another process, terminated by Celery', () => {
    const cliQueue = uniqueQueue('ctl-cli');
    const CLI_HOST = `ts-cli-${suffix}@test`;
    const ledger = join(dir, 'ledger');
    let cliWorker: Spawned | undefined;

    beforeAll(async () => {
      queues.push(cliQueue);
      cliWorker = await startCliWorker(cliQueue, CLI_HOST, ledger);
    });

    afterAll(async () => {
      await cliWorker?.stop();
    });

    /** Sends `task(ms)` to the CLI worker and resolves once its body has started. */
    async function running(task: string, ms: number) {
      const result = await app.sendTask<number>(task, [ms], {}, { queue: cliQueue });
      const outcome = settledAt(result.get({ timeout: 30 }));
      await waitFor(() => ledgerLines(ledger).includes(`${result.id} started`), 10_000);
      return { result, outcome };
    }

    /** `celery control terminate SIGTERM <id>` to the CLI worker; its reply says it found the task. */
    async function terminateWithCelery(id: string) {
      const terminate = await celery(
        'control',
        'terminate',
        'SIGTERM',
        id,
        '-d',
        CLI_HOST,
        '--json',
        '-t',
        '5',
      );
      // `celery control --json` prints the list of replies.
      expect(jsonOf<unknown>(terminate)).toEqual([{ [CLI_HOST]: { ok: `terminate: ${id}` } }]);
      return terminate;
    }

    test('`celery control terminate SIGTERM <id>`: our caller sees REVOKED at once, the task stops', async () => {
      const { result, outcome } = await running('ctl.sleep', 10_000);
      const terminate = await terminateWithCelery(result.id);
      const { at, error } = await outcome;
      expect(error).toBeInstanceOf(TaskRevokedError);
      expect(result.state).toBe('REVOKED');
      expect(at - terminate.endedAt).toBeLessThan(2000);
      await sleep(200);
      expect(ledgerLines(ledger)).not.toContain(`${result.id} done`);
    });

    test('Python `app.control.revoke(id, terminate=True)`: REVOKED, the task stops', async () => {
      const { result, outcome } = await running('ctl.sleep', 10_000);
      const revoke = await runHere(PYTHON, [
        join(FIXTURES, 'celery_control_client.py'),
        CLI_HOST,
        result.id,
        'SIGKILL',
      ]);
      if (revoke.status !== 0) throw new Error(`celery client failed:\n${revoke.stderr}`);
      expect(JSON.parse(revoke.stdout)).toEqual([{ [CLI_HOST]: { ok: `terminate: ${result.id}` } }]);
      const { at, error } = await outcome;
      expect(error).toBeInstanceOf(TaskRevokedError);
      expect(result.state).toBe('REVOKED');
      expect(at - revoke.endedAt).toBeLessThan(2000);
      await sleep(200);
      expect(ledgerLines(ledger)).not.toContain(`${result.id} done`);
      // The worker knows what became of it (Celery's query_task).
      const query = await app.control.inspect({ destination: [CLI_HOST], timeout: 5 }).queryTask(result.id);
      expect(query[CLI_HOST]?.[result.id]).toEqual(['ready', expect.objectContaining({ state: 'REVOKED' })]);
    });

    test('`celery control revoke <id>` discards a task queued behind busy slots: REVOKED, never started', async () => {
      const busy = await Promise.all(
        [0, 1, 2, 3].map(() => app.sendTask<number>('ctl.sleep', [1500], {}, { queue: cliQueue })),
      );
      await waitFor(
        () => busy.every((result) => ledgerLines(ledger).includes(`${result.id} started`)),
        10_000,
      );
      const victim = await app.sendTask('ctl.sleep', [10], {}, { queue: cliQueue });
      const outcome = victim.get({ timeout: 20 }).catch((error: unknown) => error);
      const revoke = await celery('control', 'revoke', victim.id, '-d', CLI_HOST, '--json', '-t', '5');
      expect(jsonOf<unknown>(revoke)).toEqual([
        { [CLI_HOST]: { ok: `tasks ${victim.id} flagged as revoked` } },
      ]);
      expect(await outcome).toBeInstanceOf(TaskRevokedError);
      expect(victim.state).toBe('REVOKED');
      for (const result of busy) await expect(result.get({ timeout: 10 })).resolves.toBe(1500);
      expect(ledgerLines(ledger).filter((line) => line.startsWith(victim.id))).toEqual([]);
    });

    test('a body that ignores its signal is abandoned: REVOKED stands when it returns later', async () => {
      const { result, outcome } = await running('ctl.stubborn', 1500);
      await terminateWithCelery(result.id);
      expect((await outcome).error).toBeInstanceOf(TaskRevokedError);
      // The async pool cannot stop a body that never looks at its signal: it runs on, its result is dropped.
      await waitFor(() => ledgerLines(ledger).includes(`${result.id} done`), 5_000);
      await sleep(300);
      expect(result.state).toBe('REVOKED');
      const query = await app.control.inspect({ destination: [CLI_HOST], timeout: 5 }).queryTask(result.id);
      expect(query[CLI_HOST]?.[result.id]).toEqual(['ready', expect.objectContaining({ state: 'REVOKED' })]);
      // And the worker serves on.
      await expect(
        (await app.sendTask('ctl.sleep', [10], {}, { queue: cliQueue })).get({ timeout: 10 }),
      ).resolves.toBe(10);
    });
  });

  describe('hostile control messages against our worker', () => {
    let raw: Channel;
    const replyKey = `ctl-hostile-${suffix}`;
    const replyQueue = `${replyKey}.reply.celery.pidbox`;
    const nodeQueue = `${OUR_HOST}.celery.pidbox`;
    const replies: ConsumeMessage[] = [];

    beforeAll(async () => {
      // A channel on the App's own connection (one connection for the file).
      const connection = await (app.transport as AmqpTransport).connection.whenOpen(Date.now() + 10_000);
      raw = await connection.createChannel();
      raw.on('error', () => undefined);
      await raw.assertExchange(PIDBOX_REPLY_EXCHANGE, 'direct', { durable: false });
      await raw.assertQueue(replyQueue, {
        durable: false,
        autoDelete: true,
        arguments: { 'x-expires': 60_000 },
      });
      await raw.bindQueue(replyQueue, PIDBOX_REPLY_EXCHANGE, replyKey);
      await raw.consume(replyQueue, (message) => message && replies.push(message), { noAck: true });
    });

    afterAll(async () => {
      await raw?.deleteQueue(replyQueue).catch(() => undefined);
      await raw?.close().catch(() => undefined);
    });

    const PROPERTIES = {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      priority: 0,
      headers: { clock: 1, expires: 0 },
    };

    /**
     * Publishes a request as kombu does: to the fanout `celery.pidbox` (every worker on the broker gets it),
     * or, for bodies that would be hostile to the other test files' workers too, straight into our worker's
     * node queue (the same consumer reads it either way).
     */
    function publish(body: Buffer | string | Record<string, unknown>, via: 'exchange' | 'node-queue'): void {
      const content = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      if (via === 'exchange') raw.publish(PIDBOX_EXCHANGE, '', content, PROPERTIES);
      else raw.sendToQueue(nodeQueue, content, PROPERTIES);
    }

    function request(method: string, extra: Record<string, unknown> = {}) {
      const ticket = randomUUID();
      return {
        ticket,
        body: {
          method,
          arguments: {},
          destination: [OUR_HOST],
          pattern: null,
          matcher: null,
          ticket,
          reply_to: { exchange: PIDBOX_REPLY_EXCHANGE, routing_key: replyKey },
          ...extra,
        },
      };
    }

    const answersTo = (ticket: string) =>
      replies.filter((message) => (message.properties.headers as Record<string, unknown>)?.ticket === ticket);

    /** Pings our worker by a raw request; the reply must come within `ms`. */
    async function pingWithin(ms: number): Promise<void> {
      const { ticket, body } = request('ping');
      publish(body, 'exchange');
      await waitFor(() => answersTo(ticket).length > 0, ms).catch(() => {
        throw new Error(`no ping reply within ${ms} ms`);
      });
      expect(JSON.parse(answersTo(ticket)[0]!.content.toString())).toEqual({ [OUR_HOST]: { ok: 'pong' } });
    }

    /** `ticket` got no reply, although a ping sent after it was answered (and 300 ms passed). */
    async function expectNoAnswer(ticket: string): Promise<void> {
      await pingWithin(1000);
      await sleep(300);
      expect(answersTo(ticket)).toEqual([]);
    }

    test('(a) an unknown method gets Celery’s error reply, by ticket, on our reply queue', async () => {
      for (const method of ['nosuch', 'constructor', '__proto__']) {
        const { ticket, body } = request(method);
        publish(body, 'exchange');
        await waitFor(() => answersTo(ticket).length > 0, 5_000);
        const [reply] = answersTo(ticket);
        expect(JSON.parse(reply!.content.toString())).toEqual({
          [OUR_HOST]: { error: `KeyError('${method}')` },
        });
        expect(reply!.fields.exchange).toBe(PIDBOX_REPLY_EXCHANGE);
        expect(reply!.fields.routingKey).toBe(replyKey);
        expect(reply!.properties).toMatchObject({
          contentType: 'application/json',
          deliveryMode: 1,
          headers: { ticket, clock: expect.any(Number) },
        });
      }
      await pingWithin(1000);
    });

    test('(b) malformed JSON, (c) a 2 MB body, a 100k-deep nesting, and (e) a string destination are dropped', async () => {
      // A slow task runs throughout: the worker's tasks must not notice.
      const slow = await app.sendTask('it.slow', [1500], {}, { queue: ourQueue });
      const cut = request('ping');
      publish(JSON.stringify(cut.body).slice(0, 60), 'node-queue');
      publish(Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'node-queue');
      publish('[1, 2, 3]', 'node-queue');
      publish('{"method": 42}', 'node-queue');
      await expectNoAnswer(cut.ticket);

      const big = request('ping', { arguments: { blob: 'x'.repeat(2 * 1024 * 1024) } });
      publish(big.body, 'node-queue');
      await expectNoAnswer(big.ticket);

      const deep = request('ping');
      const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      publish(
        JSON.stringify(deep.body).replace('"arguments":{}', `"arguments":{"deep":${nested}}`),
        'node-queue',
      );
      await expectNoAnswer(deep.ticket);

      const stringDestination = request('ping', { destination: OUR_HOST });
      publish(stringDestination.body, 'node-queue');
      await expectNoAnswer(stringDestination.ticket);

      await expect(slow.get({ timeout: 10 })).resolves.toBe(1500);
      await expect((await app.sendTask('it.add', [2, 2])).get({ timeout: 5 })).resolves.toBe(4);
      expect(worker.running).toBe(true);
    });

    test('(d) a destination list of 10,000 names: answered when ours is last, silent when it is absent', async () => {
      const others = Array.from({ length: 9_999 }, (_, i) => `w${i}-${suffix}@nowhere`);
      const withUs = request('ping', { destination: [...others, OUR_HOST] });
      publish(withUs.body, 'exchange');
      await waitFor(() => answersTo(withUs.ticket).length > 0, 5_000);
      expect(JSON.parse(answersTo(withUs.ticket)[0]!.content.toString())).toEqual({
        [OUR_HOST]: { ok: 'pong' },
      });

      const withoutUs = request('ping', { destination: [...others, `w9999-${suffix}@nowhere`] });
      publish(withoutUs.body, 'exchange');
      await expectNoAnswer(withoutUs.ticket);
    });

    test('(f) a reply_to naming an exchange that does not exist does not close the worker’s control channel', async () => {
      const foreign = request('ping', {
        reply_to: { exchange: `no.such.exchange.${suffix}`, routing_key: replyKey },
      });
      publish(foreign.body, 'exchange');
      await expectNoAnswer(foreign.ticket);
      await pingWithin(1000);
      await expect(app.control.ping({ destination: [OUR_HOST], timeout: 2 })).resolves.toEqual({
        [OUR_HOST]: { ok: 'pong' },
      });
    });

    // Last in the file: it may leave this process's clock where the hostile header put it.
    test('(g) a header clock beyond 2^53 does not freeze the Lamport clock (kombu’s keeps counting: 2^62+2, +4, …)', async () => {
      const poisoned = request('clock');
      raw.sendToQueue(nodeQueue, Buffer.from(JSON.stringify(poisoned.body)), {
        ...PROPERTIES,
        headers: { clock: 2 ** 62, expires: 0 },
      });
      await waitFor(() => answersTo(poisoned.ticket).length > 0, 5_000);
      // Each request moves a worker's clock forward (kombu's forward() then adjust()): two in a row differ.
      const inspect = app.control.inspect({ destination: [OUR_HOST], timeout: 2 });
      const first = (await inspect.clock())[OUR_HOST]!.clock;
      const second = (await inspect.clock())[OUR_HOST]!.clock;
      expect(second).toBeGreaterThan(first);
    });
  });
});
