/**
 * This process's Lamport clock (kombu's `LamportClock`): stamped on events and remote-control messages,
 * adjusted to the clocks seen in them. Used for ordering only, so one counter per process is enough.
 */
class LamportClock {
  private value = 0;

  /** Advances the clock for something this process sends; returns the new value. */
  forward(): number {
    return ++this.value;
  }

  /** Moves past a clock seen in a message from elsewhere. */
  adjust(other: number): number {
    this.value = Math.max(this.value, Number.isFinite(other) ? other : 0) + 1;
    return this.value;
  }

  get current(): number {
    return this.value;
  }
}

export const clock = new LamportClock();
