import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { App } from '@queue/core';

/** Fault injection and bookkeeping for the broker-fault tests (the local RabbitMQ on 127.0.0.1:5672). */

function rabbitmqctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 120_000 });
}

/** Stops the RabbitMQ application (the node stays up, connections drop, listeners close). */
export function stopBroker(): void {
  rabbitmqctl('stop_app');
}

/** Starts the RabbitMQ application and waits until it serves. Returns when it does (epoch ms). */
export function startBroker(): number {
  rabbitmqctl('start_app');
  rabbitmqctl('await_startup', '--timeout', '60');
  return Date.now();
}

/** For `finally`: whatever a test did, the broker runs again with its normal memory watermark. */
export function restoreBroker(watermark = '0.4'): void {
  try {
    rabbitmqctl('await_startup', '--timeout', '5');
  } catch {
    startBroker();
  }
  rabbitmqctl('set_vm_memory_high_watermark', watermark);
}

/** The broker's memory high watermark as `set_vm_memory_high_watermark` takes it (e.g. `0.4`). */
export function memoryWatermark(): string {
  const value = rabbitmqctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().').trim();
  // A relative watermark prints as a float; an absolute one as {absolute,Bytes}.
  const absolute = /^\{absolute,(\d+)\}$/.exec(value);
  return absolute ? `absolute ${absolute[1]}` : value;
}

export function setMemoryWatermark(value: string): void {
  rabbitmqctl('set_vm_memory_high_watermark', ...value.split(' '));
}

/** Consumers of `queue` as the broker counts them. */
export function consumerCount(queue: string): number {
  const line = rabbitmqctl('list_queues', 'name', 'consumers', '-q', '--no-table-headers')
    .split('\n')
    .find((l) => l.split('\t')[0] === queue);
  return line ? Number(line.split('\t')[1]) : 0;
}

/** One run recorded by the ledger-app fixture. */
export interface LedgerEntry {
  id: string;
  at: number;
  pid: number;
}

/** Every run recorded in the ledger files (missing files are empty). */
export function readLedgers(...paths: string[]): LedgerEntry[] {
  return paths.flatMap((path) =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [id, at, pid] = line.split(' ');
            return { id: id!, at: Number(at), pid: Number(pid) };
          })
      : [],
  );
}

/** jepsen-style figures: of the confirmed sends, how many never ran, how many ran more than once. */
export function checkLedger(confirmed: readonly string[], runs: readonly LedgerEntry[]) {
  const count = new Map<string, number>();
  for (const run of runs) count.set(run.id, (count.get(run.id) ?? 0) + 1);
  const lost = confirmed.filter((id) => !count.has(id));
  const duplicated = [...count.values()].filter((n) => n > 1).length;
  return { confirmed: confirmed.length, ran: count.size, lost, duplicated };
}

/**
 * Sends `it.slow` tasks in a loop, `inFlight` at a time, until stopped: every send ends either confirmed
 * (its id recorded) or rejected (its error recorded); none may stay pending.
 */
export class LoadClient {
  readonly confirmed: string[] = [];
  readonly failed: Error[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly app: App,
    inFlight: number,
    private readonly maxSends: number,
  ) {
    this.loops = Array.from({ length: inFlight }, () => this.loop());
  }

  get sent(): number {
    return this.confirmed.length + this.failed.length;
  }

  private async loop(): Promise<void> {
    while (this.running && this.sent < this.maxSends) {
      try {
        const result = await this.app.sendTask('it.slow', [this.sent, 2]);
        this.confirmed.push(result.id);
      } catch (error) {
        this.failed.push(error as Error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Stops sending and waits for the sends in progress to settle. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
