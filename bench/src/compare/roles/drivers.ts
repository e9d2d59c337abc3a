/** The client roles and the worker's run counting, the same for every Node system (the adapter differs). */
import { nowMs, type RunWindow } from '../protocol';
import { checkDeadline, type ClientAdapter } from './adapter';

export interface Sent {
  firstSendAt: number;
  lastConfirmAt: number;
}

/**
 * Runs `job(i)` for i = 0 … n-1 with `lanes` of them pending at once; the first failure stops every lane
 * and is thrown. Bounded by `n` and by `deadline` (epoch ms).
 */
async function inLanes(
  n: number,
  lanes: number,
  deadline: number,
  what: string,
  job: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < n && failure === undefined) {
      checkDeadline(deadline, `${what} (${next} of ${n} started)`);
      await job(next++);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(lanes, n)) }, () =>
      lane().catch((error: unknown) => {
        failure ??= error;
        throw error;
      }),
    ),
  );
  if (results.some((result) => result.status === 'rejected')) throw failure;
}

/** `n` sends, `inFlight` awaiting their confirm at once. */
export async function sendAll(
  client: ClientAdapter,
  n: number,
  inFlight: number,
  offset: number,
  deadline: number,
): Promise<Sent> {
  const firstSendAt = nowMs();
  await inLanes(n, inFlight, deadline, 'sending', (i) => client.send(offset + i));
  return { firstSendAt, lastConfirmAt: nowMs() };
}

/** `n` round trips (send, then await the result), `inFlight` awaiting at once. */
export async function roundTrips(
  client: ClientAdapter,
  n: number,
  inFlight: number,
  offset: number,
  deadline: number,
): Promise<{ startedAt: number; endedAt: number }> {
  const startedAt = nowMs();
  await inLanes(n, inFlight, deadline, 'round trips', (i) => client.call(offset + i));
  return { startedAt, endedAt: nowMs() };
}

/** `n` round trips one after the other; the duration of each, in ms. */
export async function latencies(client: ClientAdapter, n: number, deadline: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    checkDeadline(deadline, `timing round trips (${i} of ${n} done)`);
    const start = performance.now();
    await client.call(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/**
 * Counts a worker's runs for the harness: after `expect(n)`, the start of the first run and the end of the
 * n-th are reported as one window. Runs outside a window (round trips, latency) are not counted.
 */
export class RunCounter {
  private target = 0;
  private done = 0;
  private firstStartAt: number | undefined;

  constructor(private readonly report: (window: RunWindow) => void) {}

  expect(n: number): void {
    this.target = n;
    this.done = 0;
    this.firstStartAt = undefined;
  }

  started(): void {
    if (this.target > 0) this.firstStartAt ??= nowMs();
  }

  finished(): void {
    if (this.target === 0 || ++this.done < this.target) return;
    const window = { n: this.target, firstStartAt: this.firstStartAt ?? nowMs(), lastDoneAt: nowMs() };
    this.target = 0;
    this.report(window);
  }
}
