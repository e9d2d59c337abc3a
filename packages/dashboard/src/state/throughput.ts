import type { ThroughputSeries, ThroughputTick } from '../wire';

/**
 * Succeeded and failed tasks per second over a fixed window (a ring of one-second buckets, by the
 * dashboard's clock when the event arrived: workers' clocks may disagree).
 */
export class Throughput {
  private readonly succeeded: Uint32Array;
  private readonly failed: Uint32Array;
  /** One bucket more than the window: the current, unfinished second has its own. */
  private readonly size: number;
  /** The second of bucket 0's last use; buckets are indexed by `second % window`. */
  private newest: number;
  /** The first second not yet handed out by `takeTick()`. */
  private ticked: number;

  constructor(
    private readonly windowSeconds: number,
    nowSeconds: number,
  ) {
    this.size = windowSeconds + 1;
    this.succeeded = new Uint32Array(this.size);
    this.failed = new Uint32Array(this.size);
    this.newest = Math.floor(nowSeconds);
    this.ticked = this.newest;
  }

  /** Counts one finished task at `nowSeconds`. */
  add(outcome: 'succeeded' | 'failed', nowSeconds: number): void {
    const second = this.advance(nowSeconds);
    const index = second % this.size;
    (outcome === 'succeeded' ? this.succeeded : this.failed)[index]! += 1;
  }

  /** The whole window, oldest first, ending before the current (unfinished) second. */
  series(nowSeconds: number): ThroughputSeries {
    const end = this.advance(nowSeconds);
    const succeeded: number[] = [];
    const failed: number[] = [];
    for (let second = end - this.windowSeconds; second < end; second += 1) {
      const index = ((second % this.size) + this.size) % this.size;
      succeeded.push(this.succeeded[index]!);
      failed.push(this.failed[index]!);
    }
    return { end, succeeded, failed };
  }

  /** The seconds that ended since the last call (at most the window), for the live chart. */
  takeTick(nowSeconds: number): ThroughputTick | undefined {
    const end = this.advance(nowSeconds);
    const from = Math.max(this.ticked, end - this.windowSeconds);
    this.ticked = end;
    if (from >= end) return undefined;
    const succeeded: number[] = [];
    const failed: number[] = [];
    for (let second = from; second < end; second += 1) {
      succeeded.push(this.succeeded[second % this.size]!);
      failed.push(this.failed[second % this.size]!);
    }
    return { at: from, succeeded, failed };
  }

  /** Moves to the current second, clearing the buckets of the seconds skipped; returns it. */
  private advance(nowSeconds: number): number {
    const second = Math.floor(nowSeconds);
    if (second <= this.newest) return this.newest;
    const steps = Math.min(second - this.newest, this.size);
    for (let step = 1; step <= steps; step += 1) {
      const index = (this.newest + step) % this.size;
      this.succeeded[index] = 0;
      this.failed[index] = 0;
    }
    this.newest = second;
    return second;
  }
}
