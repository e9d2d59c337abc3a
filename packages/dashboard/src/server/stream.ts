import type { ServerResponse } from 'node:http';
import type { Dashboard } from '../dashboard';
import type { StreamMessages, TaskSummary, ThroughputTick } from '../wire';

/** Changes are sent at most this often: 1,000 task events a second become 4 messages. */
const FLUSH_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** A client this far behind (bytes not yet sent) is dropped; it reconnects and gets a fresh snapshot. */
const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

function frame<K extends keyof StreamMessages>(event: K, data: StreamMessages[K]): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The Server-Sent Events fan-out: each client gets a snapshot when it connects, then the changes, batched
 * every FLUSH_MS and serialised once for all clients.
 */
export class StreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly changedTasks = new Map<string, TaskSummary>();
  private readonly removedTasks = new Set<string>();
  private workersChanged = false;
  private queuesChanged = false;
  private ticks: ThroughputTick[] = [];
  private readonly timers: NodeJS.Timeout[];

  private readonly onTask = (task: TaskSummary): void => {
    this.removedTasks.delete(task.id);
    this.changedTasks.set(task.id, task);
  };
  private readonly onTaskRemoved = (id: string): void => {
    this.changedTasks.delete(id);
    this.removedTasks.add(id);
  };
  private readonly onWorkers = (): void => {
    this.workersChanged = true;
  };
  private readonly onQueues = (): void => {
    this.queuesChanged = true;
  };
  private readonly onThroughput = (tick: ThroughputTick): void => {
    this.ticks.push(tick);
  };

  constructor(private readonly dashboard: Dashboard) {
    dashboard.on('task', this.onTask);
    dashboard.on('taskRemoved', this.onTaskRemoved);
    dashboard.on('workers', this.onWorkers);
    dashboard.on('queues', this.onQueues);
    dashboard.on('throughput', this.onThroughput);
    this.timers = [
      setInterval(() => this.flush(), FLUSH_MS),
      setInterval(() => this.keepAlive(), KEEPALIVE_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts streaming to `response` (headers not yet sent); it ends when the client goes. */
  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
      'x-content-type-options': 'nosniff',
    });
    response.write(`retry: 2000\n${frame('snapshot', this.dashboard.snapshot())}`);
    this.clients.add(response);
    const remove = () => this.clients.delete(response);
    response.once('close', remove);
    response.once('error', remove);
  }

  /** Ends every stream (the server is closing) and stops listening to the dashboard. */
  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.dashboard.off('task', this.onTask);
    this.dashboard.off('taskRemoved', this.onTaskRemoved);
    this.dashboard.off('workers', this.onWorkers);
    this.dashboard.off('queues', this.onQueues);
    this.dashboard.off('throughput', this.onThroughput);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private flush(): void {
    let out = '';
    if (this.changedTasks.size > 0 || this.removedTasks.size > 0) {
      out += frame('tasks', { updated: [...this.changedTasks.values()], removed: [...this.removedTasks] });
      this.changedTasks.clear();
      this.removedTasks.clear();
    }
    if (this.workersChanged) {
      out += frame('workers', { workers: this.dashboard.workers(), now: Date.now() / 1000 });
      this.workersChanged = false;
    }
    if (this.queuesChanged) {
      out += frame('queues', {
        queues: this.dashboard.queues(true),
        source: this.dashboard.info().queueSource,
      });
      this.queuesChanged = false;
    }
    for (const tick of this.ticks.splice(0)) out += frame('throughput', tick);
    if (out) this.send(out);
  }

  private keepAlive(): void {
    this.send(': keep-alive\n\n');
  }

  private send(text: string): void {
    for (const client of this.clients) {
      if (client.writableLength > MAX_BACKLOG_BYTES) {
        client.destroy();
        this.clients.delete(client);
        continue;
      }
      client.write(text);
    }
  }
}
