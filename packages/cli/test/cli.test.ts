import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, fixture } from './helpers';

/** The environment without the variables that stand in for flags. */
function cleanEnv(): NodeJS.ProcessEnv {
  const { AMQP_URL: _amqp, QUEUE_APP: _app, ...rest } = process.env;
  return rest;
}

function queue(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...cleanEnv(), LOG_LEVEL: 'error', ...env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (npm test does)`);
});

describe('queue CLI usage errors: one clear line, exit code 2', () => {
  it.each([
    [['worker'], /required option '-A, --app <module>' not specified/],
    [['worker', '--app', './does-not-exist.js'], /--app: no such file: .\/does-not-exist.js/],
    [['worker', '--app', fixture('no-app.js')], /exports no App/],
    [['worker', '--app', fixture('throws.js')], /loading .*throws.js failed: database password missing/],
    [['worker', '--app', 'no-such-package-xyz'], /cannot find module 'no-such-package-xyz'/],
    [['worker', '--app', fixture('memory-app.js'), '-c', '0'], /concurrency.*must be a whole number ≥ 1/],
    [
      ['worker', '--app', fixture('memory-app.js'), '--pool', 'gevent'],
      /--pool.*Allowed choices are async, threads/,
    ],
    [['worker', '--app', fixture('memory-app.js'), '--bogus'], /unknown option '--bogus'/],
    [['call', 'sample.add'], /needs --app <module> or --broker <url>/],
    [['call', 'sample.add', '--broker', 'memory://', '--args', '{"a":1}'], /--args.*must be a JSON array/],
    [['call', 'sample.add', '--broker', 'memory://', '--kwargs', 'nope'], /--kwargs.*must be a JSON object/],
    [['call', 'sample.add', '--broker', 'kafka://x'], /Unknown broker scheme kafka/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('queue %j', (args, message) => {
    const { code, stderr } = queue(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--help exits 0 and lists the commands', () => {
    const { code, stdout } = queue(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/worker/);
    expect(stdout).toMatch(/call/);
  });
});

describe('queue worker lifecycle (in-memory broker)', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'queue-cli-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(
    tasks: number,
    taskMs: number,
  ): { ready: Promise<string>; exit: Promise<number | null> } {
    child = spawn(
      process.execPath,
      [bin, 'worker', '--app', fixture('memory-app.js'), '-c', '3', '-l', 'error'],
      {
        env: {
          ...process.env,
          LEDGER: join(dir, 'ledger'),
          FIXTURE_TASKS: String(tasks),
          FIXTURE_TASK_MS: String(taskMs),
        },
      },
    );
    let out = '';
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker not ready: ${out}`)), 15_000);
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready.')) {
          clearTimeout(timer);
          resolve(out);
        }
      });
    });
    const exit = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    return { ready, exit };
  }

  const ledger = () =>
    existsSync(join(dir, 'ledger')) ? readFileSync(join(dir, 'ledger'), 'utf8').trim().split('\n') : [];

  it('prints a banner with the transport, queues, concurrency, pool and registered tasks', async () => {
    const worker = startWorker(0, 0);
    const banner = await worker.ready;
    expect(banner).toMatch(/transport: +memory:\/\//);
    expect(banner).toMatch(/concurrency: 3 \(async pool\), prefetch 12/);
    expect(banner).toMatch(/queues: +celery/);
    expect(banner).toMatch(/\. fixture\.sleepy/);
    child!.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
  });

  it('SIGTERM: warm shutdown — running tasks finish, then exit 0', async () => {
    const worker = startWorker(3, 700);
    await worker.ready;
    await new Promise((resolve) => setTimeout(resolve, 200)); // the three tasks are running
    child!.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(ledger().sort()).toEqual(['t0', 't1', 't2']);
  });

  it('a second signal: cold shutdown — exits at once without waiting', async () => {
    const worker = startWorker(3, 5_000);
    await worker.ready;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    child!.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    child!.kill('SIGTERM');
    expect(await worker.exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(ledger()).toEqual([]);
  });
});

describe('queue worker --pool threads', () => {
  it('a CPU-bound infinite loop with timeLimit 1 ends as FAILURE TimeLimitExceeded; the next tasks still run; soft limit and states reach threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-threads-'));
    const ledgerFile = join(dir, 'ledger');
    const child = spawn(
      process.execPath,
      [bin, 'worker', '--app', fixture('threads-app.js'), '-P', 'threads', '-c', '1', '-l', 'error'],
      {
        env: { ...cleanEnv(), LEDGER: ledgerFile },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = () => (existsSync(ledgerFile) ? readFileSync(ledgerFile, 'utf8').trim().split('\n') : []);
    try {
      const deadline = Date.now() + 15_000;
      while (lines().filter((l) => /^(spin|sum):/.test(l) || l.startsWith('patient:SUCCESS')).length < 3) {
        if (Date.now() > deadline) throw new Error(`timed out; ledger=${lines().join(' | ')} out=${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(out).toMatch(/concurrency: 1 \(threads pool\)/);
      expect(lines()).toEqual(
        expect.arrayContaining([
          'spin:FAILURE:TimeLimitExceeded',
          'sum:SUCCESS:{"total":5050,"inThread":true}',
          'patient:PROGRESS:{"percent":50}',
          'patient:SUCCESS:"soft limit reached the thread: SoftTimeLimitExceeded"',
        ]),
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
