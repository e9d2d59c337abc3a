import type { TransportLock } from '../locks';

class MemoryLock implements TransportLock {
  private state: 'held' | 'released' | 'lost' = 'held';
  private readonly listeners = new Set<(reason: string) => void>();

  constructor(
    readonly name: string,
    /** The transport that took it (its "connection"). */
    readonly owner: object,
    private readonly free: (lock: MemoryLock) => void,
  ) {}

  get held(): boolean {
    return this.state === 'held';
  }

  onLost(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async release(): Promise<void> {
    if (this.state !== 'held') return;
    this.state = 'released';
    this.free(this);
  }

  /** As when the holder's connection drops: freed, and the holder told. */
  lose(reason: string): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.free(this);
    for (const listener of [...this.listeners]) listener(reason);
    this.listeners.clear();
  }
}

/**
 * The locks of one in-memory broker (shared by the Apps of this process on the same `memory://name`), with
 * the broker's rules: one holder per name, freed on release or when the holder's transport closes.
 */
export class MemoryLockTable {
  private readonly holders = new Map<string, MemoryLock>();

  /** The lock if `name` is free, else undefined. */
  acquire(name: string, owner: object): TransportLock | undefined {
    if (this.holders.has(name)) return undefined;
    const lock = new MemoryLock(name, owner, (freed) => {
      if (this.holders.get(name) === freed) this.holders.delete(name);
    });
    this.holders.set(name, lock);
    return lock;
  }

  isHeld(name: string): boolean {
    return this.holders.has(name);
  }

  /**
   * Takes `name` away from its holder as a dropped connection would (for tests of a lost lock); the holder's
   * `onLost` listeners run. False when nobody held it.
   */
  break(name: string, reason = 'connection lost'): boolean {
    const lock = this.holders.get(name);
    if (!lock) return false;
    lock.lose(reason);
    return true;
  }

  /** Every lock `owner` holds is lost (its transport closed). */
  breakAllOf(owner: object, reason: string): void {
    for (const lock of [...this.holders.values()]) if (lock.owner === owner) lock.lose(reason);
  }
}
