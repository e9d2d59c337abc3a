import type { QueueSample, QueueView } from '../wire';

/** Queues shown at most (a vhost with thousands of queues must not flood the page). */
export const MAX_QUEUES = 100;

/** One reading of one queue. */
export interface QueueReading {
  name: string;
  messages: number | null;
  consumers: number | null;
  publishRate: number | null;
  deliverRate: number | null;
}

interface QueueEntry extends QueueReading {
  history: QueueSample[];
}

/** The latest reading of each queue and a bounded history of samples for the charts. */
export class QueueStore {
  private readonly queues = new Map<string, QueueEntry>();

  constructor(private readonly historyLength: number) {}

  /** Records one round of readings taken at `at`; queues not in it are dropped (deleted, or no longer watched). */
  record(readings: readonly QueueReading[], at: number): void {
    const seen = new Set<string>();
    for (const reading of readings.slice(0, MAX_QUEUES)) {
      seen.add(reading.name);
      const entry = this.queues.get(reading.name) ?? { ...reading, history: [] };
      Object.assign(entry, reading);
      entry.history.push({
        at,
        messages: reading.messages,
        publishRate: reading.publishRate,
        deliverRate: reading.deliverRate,
      });
      if (entry.history.length > this.historyLength) entry.history.shift();
      this.queues.set(reading.name, entry);
    }
    for (const name of [...this.queues.keys()]) if (!seen.has(name)) this.queues.delete(name);
  }

  /** Every queue by name; with `latestOnly`, each history holds just the newest sample (stream updates). */
  views(latestOnly = false): QueueView[] {
    return [...this.queues.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((entry) => ({
        name: entry.name,
        messages: entry.messages,
        consumers: entry.consumers,
        publishRate: entry.publishRate,
        deliverRate: entry.deliverRate,
        history: latestOnly ? entry.history.slice(-1) : [...entry.history],
      }));
  }
}
