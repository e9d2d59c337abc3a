import { InvalidRateLimitError } from '../../errors';

/**
 * A rate limit as Celery writes it (`Task.rate_limit`): `null`/`0`/`''` for none, a number of tasks per
 * second, or `"<float>/<s|m|h>"` (`'10/m'`, `'0.5/s'`, `'100/h'`; no unit means per second).
 */
export type RateLimit = string | number | null;

const PER_SECOND: Readonly<Record<string, number>> = { s: 1, m: 1 / 60, h: 1 / 3600 };
/** What Python's `float()` reads, less `inf`/`nan` and digit underscores (no use in a rate). */
const FLOAT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Tasks per second of a rate limit, 0 for none (Celery's `celery.utils.time.rate`).
 * @throws InvalidRateLimitError naming the value: an unknown unit, an amount that is not a number, or a
 * negative or infinite rate (Celery would build a bucket that never or always fills).
 */
export function parseRateLimit(value: RateLimit | undefined): number {
  if (value === null || value === undefined || value === '' || value === 0) return 0;
  let perSecond: number;
  if (typeof value === 'string') {
    // Python's str.partition: only the first '/' splits, so '1/m/s' has the unit 'm/s'.
    const slash = value.indexOf('/');
    const amount = slash < 0 ? value : value.slice(0, slash);
    const unit = slash < 0 ? 's' : value.slice(slash + 1) || 's';
    const factor = Object.hasOwn(PER_SECOND, unit) ? PER_SECOND[unit] : undefined;
    if (factor === undefined)
      throw new InvalidRateLimitError(value, 'unit', unit, `unknown unit '${unit}' (use s, m or h)`);
    if (!FLOAT.test(amount))
      throw new InvalidRateLimitError(value, 'number', amount, `'${amount}' is not a number`);
    perSecond = Number(amount) * factor;
  } else if (typeof value === 'number') {
    perSecond = value;
  } else {
    throw new InvalidRateLimitError(value, 'type', typeof value, 'must be a string, a number or null');
  }
  if (!Number.isFinite(perSecond) || perSecond < 0)
    throw new InvalidRateLimitError(value, 'range', String(perSecond), 'must be a finite rate ≥ 0');
  return perSecond;
}

/**
 * A token bucket of capacity 1 that fills at `rate` tokens per second and starts full.
 *
 * Unlike kombu's `TokenBucket`, the fill clock always moves: kombu does not move its timestamp while the
 * bucket is full, so after an idle spell it credits the idle time to the next token and lets **two** tasks
 * through at once (PROTOCOL-2 §6). Here the burst is one task, then one every 1/rate s: a limit that a
 * caller can rely on as the maximum, at the cost of differing from Celery by that one early task.
 */
export class TokenBucket {
  private tokens = 1;
  private stamp: number;

  constructor(
    /** Tokens per second (> 0). */
    readonly rate: number,
    /** Milliseconds from a monotonic clock (injectable for tests). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.stamp = now();
  }

  /** Takes a token if there is one. */
  tryTake(): boolean {
    this.refill();
    // A timer may fire a hair before the token is whole in floating point: that is still its turn.
    if (this.tokens < 1 - 1e-9) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Milliseconds until a token is there (0: now). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(1, this.tokens + ((now - this.stamp) / 1000) * this.rate);
    this.stamp = now;
  }
}

/** How a task's wait for its rate limit ended. */
export type Turn = 'run' | 'revoked' | 'stopped';

interface Waiter {
  readonly id: string;
  readonly resolve: (turn: Turn) => void;
}

/** The tasks of one name: their bucket (none: unlimited) and who waits for it, first come first served. */
interface Lane {
  bucket: TokenBucket | undefined;
  readonly waiting: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

/** What the limiter asks of its worker. */
export interface RateLimitHost {
  /** The task's own rate limit (its `rateLimit` option). */
  defaultRateOf(taskName: string): RateLimit;
  isRevoked(taskId: string): boolean;
}

/**
 * One worker's rate limits (Celery's `Consumer.task_buckets`): a bucket per task name, and a FIFO of the
 * tasks of that name waiting for a token. A waiting task holds no pool slot, so tasks of other names (and
 * the consumer) go on; it stays delivered and unacked, so it does hold a prefetch slot, as in Celery.
 */
export class RateLimiter {
  private readonly lanes = new Map<string, Lane>();
  /** Rates set at run time (`rate_limit`), as given. */
  private readonly overrides = new Map<string, RateLimit>();
  private closed = false;

  constructor(
    private readonly host: RateLimitHost,
    /** Celery's `worker_disable_rate_limits`: nothing waits (rates can still be set and shown). */
    private readonly disabled = false,
  ) {}

  /** The rate limit in force for a task name, as written (what `registered` shows). */
  rateOf(taskName: string): RateLimit {
    return this.overrides.has(taskName) ? this.overrides.get(taskName)! : this.host.defaultRateOf(taskName);
  }

  /**
   * Sets (or, with a falsy rate, clears) a task's rate. The bucket is rebuilt full, as Celery's
   * `reset_rate_limits` does, and the tasks already waiting follow the new rate at once (in Celery they keep
   * draining from the old bucket). @throws InvalidRateLimitError before anything changes.
   */
  setRate(taskName: string, rate: RateLimit): void {
    const perSecond = parseRateLimit(rate);
    this.overrides.set(taskName, rate);
    const lane = this.lanes.get(taskName);
    if (!lane) return; // built with the new rate when a task of that name first arrives
    lane.bucket = perSecond > 0 ? new TokenBucket(perSecond) : undefined;
    this.drain(lane);
  }

  /** Waits until a task of this name may take a pool slot: `run`, or `revoked`/`stopped` while it waited. */
  turn(taskName: string, taskId: string): Turn | Promise<Turn> {
    // Synchronous unless it must wait: most tasks have no limit, and the worker's path stays promise-free.
    if (this.closed) return 'stopped';
    if (this.disabled) return 'run';
    const lane = this.laneOf(taskName);
    if (!lane.bucket) return 'run';
    // FIFO: a newcomer may go only when nobody of its name waits ahead of it.
    if (lane.waiting.length === 0 && lane.bucket.tryTake()) return 'run';
    return new Promise<Turn>((resolve) => {
      lane.waiting.push({ id: taskId, resolve });
      this.schedule(lane);
    });
  }

  /** Revoked tasks that wait here leave at once (REVOKED, never run); returns the ids found. */
  revoke(taskIds: readonly string[]): string[] {
    const ids = new Set(taskIds);
    const found: string[] = [];
    for (const lane of this.lanes.values()) {
      for (let i = lane.waiting.length - 1; i >= 0; i--) {
        const waiter = lane.waiting[i]!;
        if (!ids.has(waiter.id)) continue;
        lane.waiting.splice(i, 1);
        waiter.resolve('revoked');
        found.push(waiter.id);
      }
    }
    return found;
  }

  /** How many tasks wait for their rate limit (all names, or one). */
  waiting(taskName?: string): number {
    if (taskName !== undefined) return this.lanes.get(taskName)?.waiting.length ?? 0;
    let total = 0;
    for (const lane of this.lanes.values()) total += lane.waiting.length;
    return total;
  }

  /** Worker stop: every waiting task ends its wait `stopped` (its message is left to return to its queue). */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      for (const waiter of lane.waiting.splice(0)) waiter.resolve('stopped');
    }
  }

  private laneOf(taskName: string): Lane {
    let lane = this.lanes.get(taskName);
    if (!lane) {
      const perSecond = parseRateLimit(this.rateOf(taskName));
      lane = {
        bucket: perSecond > 0 ? new TokenBucket(perSecond) : undefined,
        waiting: [],
        timer: undefined,
      };
      this.lanes.set(taskName, lane);
    }
    return lane;
  }

  /** Lets the head of the line go while there are tokens; then sleeps until the next token. */
  private drain(lane: Lane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    while (lane.waiting.length > 0) {
      const head = lane.waiting[0]!;
      // Revoked by another route (an `app.control.revoke` in this process, mingle): out without a token.
      if (this.host.isRevoked(head.id)) {
        lane.waiting.shift();
        head.resolve('revoked');
        continue;
      }
      if (lane.bucket && !lane.bucket.tryTake()) break;
      lane.waiting.shift();
      head.resolve('run');
    }
    this.schedule(lane);
  }

  private schedule(lane: Lane): void {
    if (lane.timer || lane.waiting.length === 0 || !lane.bucket) return;
    // +1 ms: Node's timers round, and an early wake-up would only sleep again.
    lane.timer = setTimeout(() => this.drain(lane), Math.ceil(lane.bucket.msUntilToken()) + 1);
    // The running worker keeps the process alive; a forgotten limiter must not.
    lane.timer.unref();
  }
}
