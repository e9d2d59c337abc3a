import type {
  DashboardInfo,
  QueueView,
  Snapshot,
  StreamMessages,
  TaskSummary,
  ThroughputSeries,
  WorkerView,
} from '../src/wire';
import { setServerNow } from './format';

export type StoreTopic = 'tasks' | 'workers' | 'queues' | 'throughput' | 'info';

/** Queue samples kept per queue in the page (as many as the server keeps). */
const MAX_QUEUE_SAMPLES = 1000;

/**
 * The page's copy of the dashboard's state, kept current by the event stream. Tasks are kept in the
 * order the server first saw them; views read `tasksVersion` to know when to recompute.
 */
export class Store {
  info: DashboardInfo | null = null;
  readonly tasks = new Map<string, TaskSummary>();
  /** Task ids, first seen first. */
  order: string[] = [];
  tasksVersion = 0;
  workers: WorkerView[] = [];
  queues: QueueView[] = [];
  throughput: ThroughputSeries = { end: 0, succeeded: [], failed: [] };
  /** Task names, workers and states seen, for the filters. */
  readonly names = new Set<string>();
  readonly workerNames = new Set<string>();
  private readonly listeners = new Map<StoreTopic, Set<(ids?: ReadonlySet<string>) => void>>();

  /** Calls `listener` on each change of `topic` (for tasks: with the changed ids); returns the unsubscribe. */
  on(topic: StoreTopic, listener: (ids?: ReadonlySet<string>) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  apply<K extends keyof StreamMessages>(event: K, data: StreamMessages[K]): void {
    switch (event) {
      case 'snapshot':
        this.snapshot(data as Snapshot);
        break;
      case 'tasks': {
        const { updated, removed } = data as StreamMessages['tasks'];
        this.taskChanges(updated, removed);
        break;
      }
      case 'workers': {
        const message = data as StreamMessages['workers'];
        setServerNow(message.now);
        this.workers = message.workers;
        for (const worker of this.workers) this.workerNames.add(worker.hostname);
        this.emit('workers');
        break;
      }
      case 'queues':
        this.queueChanges(data as StreamMessages['queues']);
        break;
      case 'throughput':
        this.throughputTick(data as StreamMessages['throughput']);
        break;
    }
  }

  private emit(topic: StoreTopic, ids?: ReadonlySet<string>): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(ids);
  }

  private snapshot(snapshot: Snapshot): void {
    setServerNow(snapshot.now);
    this.info = snapshot.info;
    this.tasks.clear();
    for (const task of snapshot.tasks) this.remember(task);
    this.order = snapshot.tasks.map((task) => task.id);
    this.tasksVersion += 1;
    this.workers = snapshot.workers;
    for (const worker of this.workers) this.workerNames.add(worker.hostname);
    this.queues = snapshot.queues;
    this.throughput = snapshot.throughput;
    for (const topic of ['info', 'tasks', 'workers', 'queues', 'throughput'] as const) this.emit(topic);
  }

  private remember(task: TaskSummary): void {
    this.tasks.set(task.id, task);
    if (task.name) this.names.add(task.name);
    if (task.worker) this.workerNames.add(task.worker);
  }

  private taskChanges(updated: TaskSummary[], removed: string[]): void {
    const changed = new Set<string>();
    if (removed.length > 0) {
      const gone = new Set(removed);
      for (const id of gone) this.tasks.delete(id);
      this.order = this.order.filter((id) => !gone.has(id));
      for (const id of gone) changed.add(id);
    }
    for (const task of updated) {
      const known = this.tasks.has(task.id);
      this.remember(task);
      changed.add(task.id);
      if (!known) this.insert(task);
    }
    this.tasksVersion += 1;
    this.emit('tasks', changed);
  }

  /** New tasks are almost always the newest: appended, else placed by their `seen` time. */
  private insert(task: TaskSummary): void {
    const last = this.order[this.order.length - 1];
    if (last === undefined || (this.tasks.get(last)?.seen ?? 0) <= task.seen) {
      this.order.push(task.id);
      return;
    }
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.tasks.get(this.order[middle]!)?.seen ?? 0) <= task.seen) low = middle + 1;
      else high = middle;
    }
    this.order.splice(low, 0, task.id);
  }

  private queueChanges({ queues, source }: StreamMessages['queues']): void {
    const previous = new Map(this.queues.map((queue) => [queue.name, queue]));
    this.queues = queues.map((queue) => {
      const history = [...(previous.get(queue.name)?.history ?? []), ...queue.history];
      return { ...queue, history: history.slice(-MAX_QUEUE_SAMPLES) };
    });
    if (this.info) this.info = { ...this.info, queueSource: source };
    this.emit('queues');
  }

  private throughputTick(tick: StreamMessages['throughput']): void {
    const series = this.throughput;
    const window = this.info?.throughputWindow ?? series.succeeded.length;
    for (let index = 0; index < tick.succeeded.length; index += 1) {
      const second = tick.at + index;
      if (second < series.end) continue; // already in the snapshot
      // Seconds skipped (none expected) count as zero.
      while (series.end < second) {
        series.succeeded.push(0);
        series.failed.push(0);
        series.end += 1;
      }
      series.succeeded.push(tick.succeeded[index]!);
      series.failed.push(tick.failed[index]!);
      series.end += 1;
    }
    const excess = series.succeeded.length - window;
    if (excess > 0) {
      series.succeeded.splice(0, excess);
      series.failed.splice(0, excess);
    }
    this.emit('throughput');
  }
}
