import type { Logger } from '@queue/core';
import type { ControlChannel } from '@queue/core/transport';
import type { QueueReading } from '../state/queue-store';
import type { ManagementApi } from './management-api';

/** Queues read one by one through the broker connection at most per round (each costs a channel). */
const MAX_BROKER_QUEUES = 25;
/** Management API trouble is logged at most this often. */
const WARN_EVERY_MS = 60_000;

/** Where the monitor learns which queues to read and who consumes them. */
export interface QueueSources {
  /** Queues to read without the management API, most important first. */
  watched(): string[];
  /** Queue name → online workers consuming it. */
  consumers(): Map<string, number>;
}

/**
 * Reads the queues each round: the management API when there is one (every queue of the vhost, with
 * rates), else each watched queue's depth and consumers through the broker connection (`queueStats`, as
 * `queue inspect queues` does). A management API that fails falls back to the broker for that round.
 */
export class QueueMonitor {
  private lastWarning = 0;
  /** Where the last round's numbers came from. */
  source: 'management' | 'broker';

  constructor(
    private readonly control: ControlChannel,
    private readonly management: ManagementApi | undefined,
    private readonly sources: QueueSources,
    private readonly logger: Logger,
  ) {
    this.source = management ? 'management' : 'broker';
  }

  async read(): Promise<QueueReading[]> {
    if (this.management) {
      try {
        const readings = await this.management.queues();
        this.source = 'management';
        return readings;
      } catch (error) {
        this.warn(`queue numbers from the broker instead: ${(error as Error).message}`);
      }
    }
    this.source = 'broker';
    return this.readFromBroker();
  }

  private async readFromBroker(): Promise<QueueReading[]> {
    const consumers = this.sources.consumers();
    const readings: QueueReading[] = [];
    for (const name of this.sources.watched().slice(0, MAX_BROKER_QUEUES)) {
      let stats: { messages: number; consumers: number } | undefined;
      try {
        stats = await this.control.queueStats(name);
      } catch (error) {
        this.warn(`could not read queue ${name}: ${(error as Error).message}`);
        continue;
      }
      if (stats === undefined) continue; // no such queue (yet)
      readings.push({
        name,
        messages: stats.messages,
        // The broker's count, or the online workers that say they consume it (a transport may not know).
        consumers: Number.isFinite(stats.consumers) ? stats.consumers : (consumers.get(name) ?? 0),
        publishRate: null,
        deliverRate: null,
      });
    }
    return readings;
  }

  private warn(message: string): void {
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = Date.now();
    this.logger.warn(`dashboard: ${message}`);
  }
}
