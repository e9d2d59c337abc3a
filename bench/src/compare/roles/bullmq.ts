/**
 * BullMQ on Redis, as its documentation sets it up: `queue.add` (resolves once Redis has the job), a Worker
 * with concurrency 50, round trips through `job.waitUntilFinished(queueEvents)`. Every key lives under the
 * session's own prefix (the harness deletes them afterwards). Finished jobs are removed, keeping the last
 * 1000: `waitUntilFinished` checks a job once it listens, and a job already removed at that moment would
 * read as missing.
 */
import { Queue, QueueEvents, Worker, type Job, type RedisOptions } from 'bullmq';
import type { RoleParams } from '../protocol';
import {
  checkSum,
  type ClientAdapter,
  type RunHooks,
  type SystemAdapter,
  type WorkerAdapter,
} from './adapter';

/** The queue's name under the session's prefix (`<prefix>:jobs:…` in Redis). */
export const BULLMQ_QUEUE_NAME = 'jobs';
const KEEP_FINISHED = { count: 1_000 };

interface AddData {
  a: number;
  b: number;
}

function connection(params: RoleParams): RedisOptions {
  const url = new URL(params.redis);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    maxRetriesPerRequest: null, // what BullMQ asks of the connections its workers block on
  };
}

class BullClient implements ClientAdapter {
  private queue: Queue<AddData, number> | undefined;
  private events: QueueEvents | undefined;

  constructor(
    private readonly params: RoleParams,
    private readonly roundTrips: boolean,
  ) {}

  private get ready(): Queue<AddData, number> {
    if (!this.queue) throw new Error('not connected');
    return this.queue;
  }

  async connect(): Promise<void> {
    const options = { connection: connection(this.params), prefix: this.params.queue };
    this.queue = new Queue<AddData, number>(BULLMQ_QUEUE_NAME, {
      ...options,
      defaultJobOptions: { removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED },
    });
    this.queue.on('error', () => undefined); // failed calls fail the step
    await this.queue.waitUntilReady();
    if (this.roundTrips) {
      this.events = new QueueEvents(BULLMQ_QUEUE_NAME, options);
      this.events.on('error', () => undefined);
      await this.events.waitUntilReady();
    }
  }

  async send(i: number): Promise<void> {
    await this.ready.add('add', { a: i, b: 1 });
  }

  async call(i: number): Promise<number> {
    const events = this.events;
    if (!events) throw new Error('this client was not connected for round trips');
    const job = await this.ready.add('add', { a: i, b: 1 });
    const ttl = Math.max(1_000, this.params.deadline - Date.now());
    return checkSum(i, await job.waitUntilFinished(events, ttl));
  }

  replyQueues(): string[] {
    return [];
  }

  async close(): Promise<void> {
    await this.events?.close().catch(() => undefined);
    await this.queue?.close().catch(() => undefined);
  }
}

class BullWorker implements WorkerAdapter {
  private worker: Worker<AddData, number> | undefined;

  constructor(private readonly params: RoleParams) {}

  async start(hooks: RunHooks): Promise<void> {
    const worker = new Worker<AddData, number>(
      BULLMQ_QUEUE_NAME,
      async (job: Job<AddData, number>) => {
        hooks.started();
        return job.data.a + job.data.b;
      },
      {
        connection: connection(this.params),
        prefix: this.params.queue,
        concurrency: this.params.concurrency,
      },
    );
    this.worker = worker;
    worker.on('completed', () => hooks.finished());
    worker.on('failed', (_job, error) => hooks.failed(`a job failed: ${error.message}`));
    worker.on('error', (error) => hooks.failed(`the worker failed: ${error.message}`));
    await worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }
}

export const bullmqAdapter: SystemAdapter = {
  client: (params, { roundTrips }) => new BullClient(params, roundTrips),
  worker: (params) => new BullWorker(params),
};
