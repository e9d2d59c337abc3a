/**
 * Ours, as an application uses it: `add.delay(i, 1)` (resolves on the broker's confirm), `get()` over
 * rpc:// (or a result store: redis://, postgresql://), and a worker with concurrency 16, acks late (the
 * default), in the async or the threads pool.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@queue/core';
import type { RoleParams } from '../protocol';
import {
  checkSum,
  type ClientAdapter,
  type RunHooks,
  type SystemAdapter,
  type WorkerAdapter,
} from './adapter';

type Pool = 'async' | 'threads';
type OursApp = typeof import('./ours-app.js');

/** The module every thread of the threads pool loads (this file's sibling, once built). */
const APP_MODULE = join(__dirname, 'ours-app.js');

/** Loads ours-app.js for these parameters (the environment is how threads get them too). */
async function loadApp(params: RoleParams, resultBackend: string): Promise<OursApp> {
  process.env.BENCH_BROKER = params.broker;
  process.env.BENCH_QUEUE = params.queue;
  process.env.BENCH_RESULT_BACKEND = resultBackend;
  return import('./ours-app.js');
}

class OursClient implements ClientAdapter {
  private loaded: OursApp | undefined;

  constructor(
    private readonly params: RoleParams,
    private readonly resultBackend: string,
  ) {}

  private get ours(): OursApp {
    if (!this.loaded) throw new Error('not connected');
    return this.loaded;
  }

  async connect(): Promise<void> {
    this.loaded = await loadApp(this.params, this.resultBackend);
    await this.loaded.app.connect();
  }

  async send(i: number): Promise<void> {
    await this.ours.add.delay(i, 1);
  }

  async call(i: number): Promise<number> {
    const result = await this.ours.add.delay(i, 1);
    const seconds = Math.max(1, (this.params.deadline - Date.now()) / 1000);
    return checkSum(i, await result.get({ timeout: seconds }));
  }

  replyQueues(): string[] {
    return []; // app.close() deletes its reply queue
  }

  async close(): Promise<void> {
    await this.loaded?.app.close({ timeoutMs: 5_000 });
  }
}

class OursWorker implements WorkerAdapter {
  private loaded: OursApp | undefined;
  private worker: Worker | undefined;

  constructor(
    private readonly params: RoleParams,
    private readonly pool: Pool,
    private readonly resultBackend: string,
  ) {}

  async start(hooks: RunHooks): Promise<void> {
    this.loaded = await loadApp(this.params, this.resultBackend);
    const worker = this.loaded.app.worker({
      concurrency: this.params.concurrency,
      hostname: `${this.params.queue}@${hostname()}`,
      ...(this.pool === 'threads' ? { pool: 'threads' as const, threadApp: { module: APP_MODULE } } : {}),
    });
    this.worker = worker;
    worker.on('task-started', () => hooks.started());
    worker.on('task-succeeded', () => hooks.finished());
    worker.on('task-failed', (_envelope, error) => hooks.failed(`a task failed: ${error.message}`));
    worker.on('message-rejected', (reason, detail) =>
      hooks.failed(`a message was rejected: ${reason}: ${detail}`),
    );
    await worker.start();
  }

  async stop(): Promise<void> {
    await this.loaded?.app.close({ timeoutMs: 10_000 });
  }
}

/** Ours in `pool`, its results in `resultBackend` (rpc://, or a store: redis://, postgresql://). */
export function oursAdapter(pool: Pool, resultBackend = 'rpc://'): SystemAdapter {
  return {
    client: (params) => new OursClient(params, resultBackend),
    worker: (params) => new OursWorker(params, pool, resultBackend),
  };
}
