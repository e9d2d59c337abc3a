import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { App } from '@queue/core';
import { clock, type CeleryEvent, type JsonValue } from '@queue/core/transport';
import '@queue/amqp';
import { AMQP_URL, bin, run, type Finished } from './helpers';

/** `queue events` against the real RabbitMQ; events are published from this process's App. */
jest.setTimeout(90_000);

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

describe('queue events on RabbitMQ', () => {
  let app: App;

  beforeAll(async () => {
    app = new App({ name: 'events-publisher', broker: AMQP_URL, setAsCurrent: false });
    await app.connect();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 0 });
  });

  /**
   * Runs `queue events <args>` and publishes `events` once it listens. Other processes' workers may publish
   * on the same broker meanwhile (heartbeats every 2 s) and take one of the `--limit` places: such a run
   * is repeated, at most three times.
   */
  async function capture(args: string[], build: () => CeleryEvent[], hostname: string): Promise<Finished> {
    for (let attempt = 1; ; attempt++) {
      const result = await captureOnce(args, build());
      const foreign = result.stdout.split('\n').filter((line) => line && !line.includes(hostname));
      if (foreign.length === 0 || attempt === 3) return result;
    }
  }

  function captureOnce(args: string[], events: CeleryEvent[]): Promise<Finished> {
    const started = Date.now();
    const child = spawn(process.execPath, [bin, 'events', '--broker', AMQP_URL, ...args], {
      env: { ...process.env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let published = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!published && /listening on/.test(stderr)) {
        published = true;
        void (async () => {
          for (const event of events) await app.transport.events!.publish(event);
        })();
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return new Promise((resolve) =>
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      }),
    );
  }

  test('--json --limit 2 prints the two events published, one JSON line each, and exits 0', async () => {
    const hostname = `cli-ev-${randomUUID().slice(0, 8)}@test`;
    const taskId = randomUUID();
    let sent: CeleryEvent[] = [];
    const result = await capture(
      ['--json', '--limit', '2', '--duration', '20'],
      () =>
        (sent = [
          eventOf('worker-online', hostname, { freq: 2.0, active: 0, processed: 0, sw_ident: 'queue-ts' }),
          eventOf('task-succeeded', hostname, { uuid: taskId, result: '5', runtime: 0.25 }),
        ]),
      hostname,
    );
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(15_000); // ended by the limit, not by the 20 s duration
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(sent);
  });

  test('without --json, one readable line per event', async () => {
    const hostname = `cli-ev-${randomUUID().slice(0, 8)}@test`;
    const taskId = randomUUID();
    const result = await capture(
      ['--limit', '2', '--duration', '20'],
      () => [
        eventOf('worker-heartbeat', hostname, { freq: 2.0, active: 1, processed: 3, loadavg: [0, 0, 0] }),
        eventOf('task-failed', hostname, {
          uuid: taskId,
          exception: "ValueError('bad input', 42)",
          traceback: 'Traceback (most recent call last):\n  ...\nValueError',
        }),
      ],
      hostname,
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const at = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${at} worker-heartbeat ${hostname} freq=2 active=1 processed=3$`));
    expect(lines[1]).toMatch(
      new RegExp(
        `^${at} task-failed ${hostname} uuid=${taskId} exception="ValueError\\('bad input', 42\\)"$`,
      ),
    );
  });

  test('--duration 1 with no traffic exits 0 after about a second', async () => {
    const result = await run(['events', '--broker', AMQP_URL, '--duration', '1']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/listening on amqp:\/\/guest:\*+@127\.0\.0\.1/);
    expect(result.ms).toBeGreaterThanOrEqual(1000);
    expect(result.ms).toBeLessThan(15_000);
  });

  test('without --duration it runs until SIGTERM, then closes and exits 0', async () => {
    const child = spawn(process.execPath, [bin, 'events', '--broker', AMQP_URL], {
      env: { ...process.env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      for (let i = 0; i < 500 && !/listening on/.test(stderr); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(stderr).toMatch(/listening on/);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // still running
      expect(child.exitCode).toBeNull();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(timer);
    }
  });

  test('a memory:// broker is a usage error: exit 2, one line', async () => {
    const result = await run(['events', '--broker', 'memory://']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: .*no event stream/);
  });
});
