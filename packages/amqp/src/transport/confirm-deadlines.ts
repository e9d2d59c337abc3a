/** One publish waiting for its confirm. */
interface Pending {
  readonly deadline: number;
  /** Called if the confirm has not come by the deadline; dropped once settled (it holds the caller's promise). */
  expire: (() => void) | undefined;
}

/**
 * Deadlines of the publishes awaiting their broker confirm, kept with one timer for all of them instead of
 * a timer per publish (a publisher at full speed has thousands in flight). Deadlines arrive nearly in
 * order (now + the same publish timeout), so the earliest is at the head: one timer for the head, and
 * finished entries are dropped when they reach it.
 */
export class ConfirmDeadlines {
  private readonly queue: Pending[] = [];
  private head = 0;
  /** Entries not settled yet: at 0 the timer goes (it must not keep an idle process alive). */
  private live = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Tracks a publish; returns the function to call when its confirm (or error) arrives. */
  track(deadline: number, expire: () => void): () => void {
    const pending: Pending = { deadline, expire };
    this.live++;
    if ((this.queue.push(pending) & 255) === 0) this.dropDone();
    if (!this.timer) this.arm();
    return () => {
      if (pending.expire) this.settle(pending);
    };
  }

  private settle(pending: Pending): void {
    pending.expire = undefined;
    if (--this.live > 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
  }

  private arm(): void {
    this.dropDone();
    const first = this.queue[this.head];
    if (!first) {
      this.queue.length = 0;
      this.head = 0;
      return;
    }
    this.timer = setTimeout(this.fire, Math.max(0, first.deadline - Date.now()));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = Date.now();
    const queue = this.queue;
    // Not strictly ordered (a shorter deadline may follow a longer one), so expire every due entry.
    for (let i = this.head; i < queue.length; i++) {
      const pending = queue[i]!;
      const expire = pending.expire;
      if (expire && pending.deadline <= now) {
        this.settle(pending);
        expire();
      }
    }
    if (this.live > 0) this.arm();
  };

  private dropDone(): void {
    while (this.head < this.queue.length && !this.queue[this.head]!.expire) this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
