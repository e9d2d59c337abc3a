import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '@queue/core';

/**
 * Revoke with terminate in the threads pool. The pool runs the built package (its thread entry is
 * dist/worker/pools/thread-entry.js), so the App here comes from dist too, through the fixture (run
 * `pnpm -r build` first); the worker runs in this process, on the App's private memory broker.
 */

const FIXTURE = join(__dirname, 'fixtures', 'threads-terminate-app.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the fixture is plain JS on the built package
const fixture = require(FIXTURE) as { build(name: string): App; core: typeof import('@queue/core') };
const { TaskRevokedError, States } = fixture.core;

let dir: string;
let ledger: string;
let app: App | undefined;
let seq = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'queue-threads-terminate-'));
  ledger = join(dir, 'ledger');
});
afterEach(async () => {
  await app?.close({ timeoutMs: 500 });
  app = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const lines = (): string[] => (existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n') : []);

async function waitForLine(prefix: string, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = lines().find((l) => l.startsWith(prefix));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no "${prefix}" line in time; ledger: ${lines().join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function startThreadsWorker(terminateGraceMs: number): Promise<App> {
  seq += 1;
  app = fixture.build(`threads-terminate-${seq}`);
  await app
    .worker({
      hostname: `threads${seq}@test`,
      pool: 'threads',
      concurrency: 1,
      terminateGraceMs,
      threadApp: { module: FIXTURE, exportName: 'app' },
    })
    .start();
  return app;
}

describe('threads pool: revoke with terminate', () => {
  it('a CPU-bound task ends REVOKED at once; its thread is terminated after terminateGraceMs and the pool runs the next task', async () => {
    const graceMs = 800;
    const app = await startThreadsWorker(graceMs);
    const spinning = await app.sendTask('tt.spin', [ledger]);
    const spinThread = Number((await waitForLine('spin-start:')).split(':')[1]);
    expect(spinThread).toBeGreaterThan(0);

    const revokedAt = Date.now();
    await app.revoke(spinning.id, { terminate: true });
    await expect(spinning.get({ timeout: 2 })).rejects.toThrow(TaskRevokedError);
    expect(Date.now() - revokedAt).toBeLessThan(graceMs); // reported before the thread is gone
    expect(spinning.state).toBe(States.REVOKED);

    // Concurrency 1: the next task needs the only thread, which is freed by terminating it after the grace.
    const next = await app.sendTask<number>('tt.threadId');
    const nextThread = await next.get({ timeout: 4 });
    expect(Date.now() - revokedAt).toBeGreaterThanOrEqual(graceMs - 20);
    expect(nextThread).toBeGreaterThan(0);
    expect(nextThread).not.toBe(spinThread); // a new thread: the spinning one was terminated
    expect(spinning.state).toBe(States.REVOKED);
  });

  it('a task watching its signal in the thread ends early; the same thread runs the next task at once', async () => {
    const graceMs = 3_000;
    const app = await startThreadsWorker(graceMs);
    const watching = await app.sendTask('tt.watch', [ledger]);
    const watchThread = Number((await waitForLine('watch-start:')).split(':')[1]);

    const revokedAt = Date.now();
    await app.revoke(watching.id, { terminate: true, signal: 'SIGKILL' });
    await expect(watching.get({ timeout: 2 })).rejects.toThrow(TaskRevokedError);
    expect(await waitForLine('watch-abort:', 1_000)).toBe(`watch-abort:${watchThread}:TaskRevokedError:9`);

    const next = await app.sendTask<number>('tt.threadId');
    expect(await next.get({ timeout: 2 })).toBe(watchThread); // the thread was not terminated
    expect(Date.now() - revokedAt).toBeLessThan(1_500); // well before the 3 s grace
    expect(watching.state).toBe(States.REVOKED);
  });

  it('pool_grow / pool_shrink are refused by the threads pool (its size is fixed)', async () => {
    const app = await startThreadsWorker(1_000);
    const hostname = `threads${seq}@test`;
    expect(await app.control.poolGrow(1, { reply: true })).toEqual({
      [hostname]: { error: "NotImplementedError('pool_grow is not supported by the threads pool')" },
    });
    expect(await app.control.poolShrink(1, { reply: true })).toEqual({
      [hostname]: { error: "NotImplementedError('pool_shrink is not supported by the threads pool')" },
    });
    const stats = (await app.control.inspect().stats())[hostname]!;
    expect(stats.pool).toMatchObject({ 'max-concurrency': 1, implementation: 'threads' });
  });
});

/**
 * A revoke with terminate that arrives while the STARTED report of a `trackStarted` task is in flight (a slow
 * result backend) aborts the run's signal before the pool listens: the thread must still be told, or
 * terminated after terminateGraceMs, so that a CPU-bound body does not spin for ever.
 */
describe('threads pool: terminate while the STARTED report is in flight', () => {
  it('the thread of a CPU-bound task terminated before it started is terminated; the next task runs', async () => {
    const graceMs = 300;
    const app = await startThreadsWorker(graceMs);
    const report = app.backend.report.bind(app.backend);
    let reporting!: () => void;
    const startedReport = new Promise<void>((resolve) => (reporting = resolve));
    jest.spyOn(app.backend, 'report').mockImplementation(async (target, state) => {
      if (state.state === States.STARTED) {
        reporting();
        await new Promise((resolve) => setTimeout(resolve, 100)); // a slow result backend
      }
      return report(target, state);
    });
    const spinning = await app.sendTask('tt.spinTracked', [ledger]);
    await startedReport;
    const revokedAt = Date.now();
    await app.revoke(spinning.id, { terminate: true });
    await expect(spinning.get({ timeout: 2 })).rejects.toThrow(TaskRevokedError);

    const next = await app.sendTask<number>('tt.threadId');
    // Fails today with TimeoutError: the only thread spins for ever.
    await expect(next.get({ timeout: 2 })).resolves.toEqual(expect.any(Number));
    expect(Date.now() - revokedAt).toBeLessThan(graceMs + 1_500);
  });
});
