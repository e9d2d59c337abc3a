import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { App } from '@queue/core';
import { waitFor } from '../helpers';

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

/** One confirmed send: when it was started and when the broker confirmed it. */
export interface Sent {
  id: string;
  startedAt: number;
  confirmedAt: number;
}

/**
 * Sends `it.slow` tasks in a loop, `inFlight` at a time, `maxSends` in all, until stopped: every send ends
 * either confirmed (recorded with its times) or rejected (its error recorded); none may stay pending.
 */
export class LoadClient {
  readonly sends: Sent[] = [];
  readonly failed: Error[] = [];
  private started = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly app: App,
    inFlight: number,
    private readonly maxSends: number,
  ) {
    this.loops = Array.from({ length: inFlight }, () => this.loop());
  }

  get confirmed(): string[] {
    return this.sends.map((send) => send.id);
  }

  /** Sends that ended, confirmed or not. */
  get sent(): number {
    return this.sends.length + this.failed.length;
  }

  /** Ms from `since` to the first confirm of a send started after it (the client is publishing again). */
  resumedAfter(since: number): number | undefined {
    const first = this.sends.find((send) => send.startedAt > since);
    return first && first.confirmedAt - since;
  }

  private async loop(): Promise<void> {
    while (this.running && this.started < this.maxSends) {
      const startedAt = Date.now();
      const index = this.started++;
      try {
        const result = await this.app.sendTask('it.slow', [index, 2]);
        this.sends.push({ id: result.id, startedAt, confirmedAt: Date.now() });
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

/**
 * Ms from `since` until each worker (by pid) ran a task that was sent after `since`: it consumes from the
 * broker as it is now, not merely finishing what it held or what was already on its way.
 */
export function consumingAgainAfter(
  since: number,
  sends: readonly Sent[],
  runs: readonly LedgerEntry[],
  pids: readonly number[],
): Array<number | undefined> {
  const fresh = new Set(sends.filter((send) => send.startedAt > since).map((send) => send.id));
  return pids.map((pid) => {
    const times = runs.filter((run) => run.pid === pid && fresh.has(run.id)).map((run) => run.at - since);
    return times.length > 0 ? Math.min(...times) : undefined;
  });
}

/** Ms from `since` until every worker ran a task sent after `since` (waits up to `timeoutMs`). */
export async function resumeTimes(
  load: LoadClient,
  ledgers: string[],
  pids: number[],
  since: number,
  timeoutMs: number,
): Promise<number[]> {
  let times: Array<number | undefined> = [];
  await waitFor(() => {
    times = consumingAgainAfter(since, load.sends, readLedgers(...ledgers), pids);
    return times.every((time) => time !== undefined);
  }, timeoutMs);
  return times as number[];
}
