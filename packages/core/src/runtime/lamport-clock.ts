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

  /**
   * Moves past a clock seen in a message from elsewhere. A value JavaScript cannot count past (over 2^53,
   * negative, fractional) is ignored: taking it would freeze this clock for the life of the process.
   */
  adjust(other: number): number {
    this.value =
      Math.max(this.value, Number.isSafeInteger(other) && other < Number.MAX_SAFE_INTEGER / 2 ? other : 0) +
      1;
    return this.value;
  }

  /** The clock's value now. */
  get current(): number {
    return this.value;
  }
}

/** This process's Lamport clock: `forward()` for what it sends, `adjust(seen)` for what it receives. */
export const clock = new LamportClock();
