/**
 * Celery's `LimitedSet`: members with the time they were added, bounded in count. Entries older than
 * `expiresMs` (then the oldest ones) make room only when an add reaches `maxlen`; membership does not
 * check age, as in Celery, so an id stays known until it has to go.
 */
export class LimitedSet {
  /** id → epoch ms added; a Map keeps insertion order, so the first entry is the oldest. */
  private readonly members = new Map<string, number>();

  constructor(
    readonly maxlen: number,
    readonly expiresMs: number,
  ) {}

  add(id: string, at = Date.now()): void {
    this.members.delete(id);
    this.members.set(id, at);
    if (this.members.size > this.maxlen) this.purge(at);
  }

  has(id: string): boolean {
    return this.members.has(id);
  }

  get size(): number {
    return this.members.size;
  }

  /** Ids, oldest first. */
  ids(): string[] {
    return [...this.members.keys()];
  }

  /** Ids with the epoch ms they were added, oldest first. */
  entries(): Array<[id: string, at: number]> {
    return [...this.members.entries()];
  }

  private purge(now: number): void {
    for (const [id, at] of this.members) {
      if (now - at < this.expiresMs) break;
      this.members.delete(id);
    }
    while (this.members.size > this.maxlen) this.members.delete(this.members.keys().next().value!);
  }
}
