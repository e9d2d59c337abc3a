import { deleteTopology, uniqueQueueName } from '../lib/broker';
import { deleteKeysWithPrefix } from '../lib/redis';
import { Child } from './child';
import type { ClientResult, Role, RoleParams } from './protocol';
import type { SystemSpec } from './systems';

/** What every step of a run shares (from the command line). */
export interface RunSettings {
  broker: string;
  redis: string;
  python: string;
  inFlight: number;
  rtInFlight: number;
  faninClients: number;
  celeryThreads: number;
  /** Epoch ms: worker processes end themselves some time after it (the harness stops them before). */
  runDeadline: number;
}

/**
 * One system in one repetition: a fresh queue (for BullMQ, a fresh key prefix), the worker process (started
 * by the first scenario that needs one, kept for the next ones), the client processes of the current step,
 * and the cleanup: every queue, exchange or key it made is deleted by `close()`.
 */
export class Session {
  /** The task queue; for BullMQ the prefix of every key of its queue. */
  readonly queue = uniqueQueueName('bench.compare');
  /** Tasks waiting in the queue, as the enqueue scenario left them for the drain scenario. */
  backlog = 0;
  private worker: Child | undefined;
  private readonly children = new Set<Child>();
  private readonly replyQueues = new Set<string>();

  constructor(
    readonly system: SystemSpec,
    readonly settings: RunSettings,
  ) {}

  params(fields: Partial<RoleParams> & { deadline: number }): RoleParams {
    return {
      broker: this.settings.broker,
      redis: this.settings.redis,
      queue: this.queue,
      n: 0,
      offset: 0,
      inFlight: this.settings.inFlight,
      threads: this.settings.celeryThreads,
      concurrency: this.system.concurrency,
      ...fields,
    };
  }

  private spawn(role: Role, params: RoleParams): Child {
    const child = new Child(this.system.spawn(role, params, this.settings.python));
    this.children.add(child);
    return child;
  }

  /** The running worker, if any. */
  get runningWorker(): Child | undefined {
    return this.worker?.alive ? this.worker : undefined;
  }

  /** Starts a worker (not waiting for it: the drain scenario samples its memory from the start). */
  spawnWorker(expect: number): Child {
    // A worker outlives the step: it ends itself only well after the run's own limit.
    this.worker = this.spawn(
      'worker',
      this.params({ n: expect, deadline: this.settings.runDeadline + 600_000 }),
    );
    return this.worker;
  }

  /** The running worker, or a new one once it consumes. */
  async ensureWorker(deadline: number): Promise<Child> {
    const running = this.runningWorker;
    if (running) return running;
    const worker = this.spawnWorker(0);
    await worker.next('ready', deadline);
    return worker;
  }

  async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    await worker.stop();
    this.children.delete(worker);
  }

  /**
   * Starts `count` clients of `role` sharing `n` tasks (disjoint ranges), and waits until each is connected
   * and ready to go.
   */
  async startClients(
    role: Exclude<Role, 'worker'>,
    count: number,
    fields: Partial<RoleParams> & { n: number; deadline: number },
  ): Promise<Child[]> {
    const sizes = Array.from(
      { length: count },
      (_, k) => Math.floor(fields.n / count) + (k < fields.n % count ? 1 : 0),
    );
    const clients = sizes.map((n, k) =>
      this.spawn(role, this.params({ ...fields, n, offset: sizes.slice(0, k).reduce((a, b) => a + b, 0) })),
    );
    const watch = this.runningWorker ? [this.runningWorker] : [];
    await Promise.all(clients.map((client) => client.next('ready', fields.deadline, watch)));
    return clients;
  }

  /** Every client's result (it stays connected until `stopClients`); reply queues are noted for cleanup. */
  async results(clients: readonly Child[], deadline: number): Promise<ClientResult[]> {
    const watch = this.runningWorker ? [this.runningWorker] : [];
    const results = await Promise.all(
      clients.map(async (client) => (await client.next('result', deadline, watch)).result),
    );
    for (const result of results) for (const queue of result.replyQueues) this.replyQueues.add(queue);
    return results;
  }

  async stopClients(clients: readonly Child[]): Promise<void> {
    await Promise.all(clients.map((client) => client.stop()));
    for (const client of clients) this.children.delete(client);
  }

  /** Empties the task queue when a previous step left tasks in it (no worker runs meanwhile). */
  async emptyQueue(): Promise<void> {
    if (this.backlog === 0) return;
    await this.stopWorker();
    const failures = await this.deleteStore();
    if (failures.length) throw new Error(`could not empty ${this.queue}: ${failures.join('; ')}`);
    this.backlog = 0;
  }

  /** After a failed step: kills every process of this session and empties its queue. */
  async reset(): Promise<void> {
    await Promise.all([...this.children].map((child) => child.kill()));
    this.children.clear();
    this.worker = undefined;
    await this.deleteStore();
    this.backlog = 0;
  }

  /** Stops the worker (warm), kills whatever else runs, deletes everything; returns cleanup failures. */
  async close(): Promise<string[]> {
    await this.stopWorker().catch(() => undefined);
    await Promise.all([...this.children].map((child) => child.kill()));
    this.children.clear();
    return this.deleteStore();
  }

  /** Deletes the session's queue, exchange, dead-letter queue and reply queues (or its Redis keys). */
  private async deleteStore(): Promise<string[]> {
    if (this.system.store === 'redis') {
      try {
        await deleteKeysWithPrefix(this.settings.redis, `${this.queue}:`);
        return [];
      } catch (error) {
        return [(error as Error).message];
      }
    }
    const replyQueues = [...this.replyQueues];
    this.replyQueues.clear();
    return deleteTopology(this.settings.broker, {
      queues: [this.queue, `${this.queue}.dlq`, ...replyQueues],
      exchanges: [this.queue],
    });
  }
}
