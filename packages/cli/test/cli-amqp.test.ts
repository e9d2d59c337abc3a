import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '@queue/core';
import '@queue/amqp';
import { AMQP_URL, deleteQueues, exitOf, run, startWorker, stopProcess } from './helpers';

/** The CLI against the real RabbitMQ: worker processes started through `queue worker`. */
jest.setTimeout(60_000);

describe('queue CLI on RabbitMQ', () => {
  const queue = `test.cli.${process.pid}.${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'queue-cli-'));
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;

  beforeAll(async () => {
    worker = await startWorker(queue, [
      '-c',
      '4',
      '-n',
      `cli-${process.pid}@test`,
      '--heartbeat-file',
      join(dir, 'alive'),
    ]);
  });

  afterAll(async () => {
    await stopProcess(worker?.child);
    await deleteQueues(queue);
    rmSync(dir, { recursive: true, force: true });
  });

  test('`queue call --wait` sends by name and prints the result', async () => {
    const result = await run(
      ['call', 'cli.add', '--args', '[20, 22]', '-Q', queue, '--wait', '--timeout', '15'],
      {
        AMQP_URL,
      },
    );
    expect(result.stderr).toContain(`] to queue '${queue}'`);
    expect(result.stderr).not.toContain('no worker consumes');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('42');
  });

  test('`queue call` says which queue it sent to, and warns when nobody consumes it', async () => {
    const lonely = `${queue}.lonely`;
    try {
      const result = await run(['call', 'cli.add', '--args', '[1, 2]', '-Q', lonely], { AMQP_URL });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`to queue '${lonely}'`);
      expect(result.stderr).toContain(`warning: no worker consumes queue '${lonely}' (1 message(s) waiting)`);
    } finally {
      await deleteQueues(lonely);
    }
  });

  test('the worker keeps its heartbeat file fresh', () => {
    expect(Date.now() - statSync(join(dir, 'alive')).mtimeMs).toBeLessThan(15_000);
  });

  test('`queue inspect` reaches the running worker over Celery’s pidbox, in Celery’s reply shapes', async () => {
    const hostname = `cli-${process.pid}@test`;
    const ping = await run(['inspect', 'ping', '--broker', AMQP_URL, '-d', hostname]);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toEqual({ [hostname]: { ok: 'pong' } });
    const registered = await run(['inspect', 'registered', '--broker', AMQP_URL, '-d', hostname]);
    expect(JSON.parse(registered.stdout)[hostname]).toEqual(['cli.add', 'cli.slow']);
    const stats = await run(['inspect', 'stats', '--broker', AMQP_URL, '-d', hostname]);
    expect(JSON.parse(stats.stdout)[hostname]).toMatchObject({
      pool: { 'max-concurrency': 4, implementation: 'async' },
      prefetch_count: 16,
      broker: { hostname: '127.0.0.1', port: 5672, transport: 'amqp' },
    });
    const activeQueues = await run(['inspect', 'active_queues', '--broker', AMQP_URL, '-d', hostname]);
    expect(JSON.parse(activeQueues.stdout)[hostname]).toEqual([expect.objectContaining({ name: queue })]);
    const queues = await run(['inspect', 'queues', '--broker', AMQP_URL, '-Q', queue]);
    expect(JSON.parse(queues.stdout)).toEqual({ [queue]: 0, [`${queue}.dlq`]: null });
    const unknown = await run(['inspect', 'nosuch', '--broker', AMQP_URL]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/inspect: unknown 'nosuch'/);
  });

  test('`queue inspect active` and `queue status` follow a running task to its outcome', async () => {
    const sent = await run(['call', 'cli.slow', '--args', '[4000]', '-Q', queue], { AMQP_URL });
    const taskId = sent.stdout.trim();
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hostname = `cli-${process.pid}@test`;
    const active = await run(['inspect', 'active', '--broker', AMQP_URL, '-d', hostname]);
    expect(JSON.parse(active.stdout)[hostname]).toEqual([
      expect.objectContaining({ id: taskId, name: 'cli.slow', args: [4000], hostname }),
    ]);
    const running = await run(['status', taskId, '--broker', AMQP_URL]);
    expect(JSON.parse(running.stdout)).toMatchObject({ id: taskId, state: 'STARTED', worker: hostname });
    let done: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      done = JSON.parse((await run(['status', taskId, '--broker', AMQP_URL, '--timeout', '0.5'])).stdout);
      if ((done as { state: string }).state === 'SUCCESS') break;
    }
    expect(done).toMatchObject({ id: taskId, state: 'SUCCESS', worker: hostname });
    const unknown = await run(['status', '00000000-0000-4000-8000-000000000000', '--broker', AMQP_URL]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ state: 'PENDING' });
  });

  test('`queue control revoke --terminate` stops a running task: REVOKED, and `queue status` says so', async () => {
    const hostname = `cli-${process.pid}@test`;
    const sent = await run(['call', 'cli.slow', '--args', '[20000]', '-Q', queue], { AMQP_URL });
    const taskId = sent.stdout.trim();
    let active: Record<string, Array<{ id: string }>> = {};
    for (let attempt = 0; attempt < 20 && !active[hostname]?.length; attempt++) {
      active = JSON.parse((await run(['inspect', 'active', '--broker', AMQP_URL, '-d', hostname])).stdout);
    }
    expect(active[hostname]).toEqual([expect.objectContaining({ id: taskId })]);
    const revoked = await run([
      'control',
      'revoke',
      taskId,
      '--terminate',
      '--broker',
      AMQP_URL,
      '-d',
      hostname,
    ]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ [hostname]: { ok: `terminate: ${taskId}` } });
    const status = await run(['status', taskId, '--broker', AMQP_URL]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: taskId, state: 'REVOKED', worker: hostname });
    const usage = await run(['control', 'revoke', '--broker', AMQP_URL]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: queue control revoke <task id>/);
  });

  test('`queue inspect` on the in-memory broker is a clear usage error', async () => {
    const result = await run(['inspect', 'ping', '--broker', 'memory://']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no remote control/);
  });
});

describe('SIGTERM with RabbitMQ: warm shutdown loses nothing', () => {
  test('running tasks finish, the process exits 0, every task completes exactly as sent', async () => {
    const queue = `test.cli-term.${process.pid}.${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'queue-term-'));
    const ledger = join(dir, 'ledger');
    let second: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      const first = await startWorker(queue, ['-c', '5'], { LEDGER: ledger });
      // Sent from this process, all at once, so that most are still queued when the signal comes.
      const caller = new App({
        name: 'term-caller',
        broker: AMQP_URL,
        defaultQueue: queue,
        setAsCurrent: false,
      });
      const ids: string[] = [];
      try {
        for (let i = 0; i < 20; i++) ids.push((await caller.sendTask('cli.slow', [800])).id);
      } finally {
        await caller.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 300)); // five are running now
      first.child.kill('SIGTERM');
      expect(await exitOf(first.child, 20_000)).toBe(0);
      const finishedByFirst = readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean);
      expect(finishedByFirst.length).toBeGreaterThanOrEqual(5); // the running ones were let finish
      expect(finishedByFirst.length).toBeLessThan(20);
      second = await startWorker(queue, ['-c', '10'], { LEDGER: ledger });
      const deadline = Date.now() + 20_000;
      let finished: string[] = [];
      while (Date.now() < deadline) {
        finished = readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean);
        if (new Set(finished).size >= 20) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(new Set(finished)).toEqual(new Set(ids));
      expect(finished).toHaveLength(20); // a warm shutdown runs nothing twice
    } finally {
      await stopProcess(second?.child);
      await deleteQueues(queue);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
