import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A named lock held through the transport's own connection (so a process needs no other service to hold
 * one). It is held while that connection lives: when the connection drops, the broker frees it, and the
 * holder is told (`onLost`), so at most one process holds a name at a time.
 */
export interface TransportLock {
  /** The lock's name. */
  readonly name: string;
  /** True until the lock is released or lost (its connection dropped). */
  readonly held: boolean;
  /** Calls `listener` once, if the lock is lost without being released. Returns how to stop listening. */
  onLost(listener: (reason: string) => void): () => void;
  /** Frees the name for the next taker; nothing to do if it was lost already. */
  release(): Promise<void>;
}

/**
 * An optional transport capability: named locks. Over RabbitMQ, an exclusive queue of that name declared
 * on the transport's connection (the broker refuses it to other connections and deletes it when its
 * connection dies); on `memory://`, a table shared by the Apps of the process that use the same broker.
 */
export interface LockService {
  /** One try: the held lock, or undefined while someone else holds `name`. Rejects if the broker cannot be reached. */
  tryAcquire(name: string): Promise<TransportLock | undefined>;
}

const fences = new AsyncLocalStorage<TransportLock>();

/**
 * Runs `fn` so that every publish it makes (through the transport that granted `lock`) is written only while
 * `lock` is held: a transport with locks fails such a publish with `LockLostError` instead of waiting for a
 * reconnect or sending it again on a connection that does not hold the lock. That is what keeps a process
 * that lost its lock from publishing after another one took it over.
 */
export function whileHolding<T>(lock: TransportLock, fn: () => Promise<T>): Promise<T> {
  return fences.run(lock, fn);
}

/** The lock the current publish must hold (see `whileHolding`), if any; transports with locks check it. */
export function publishFence(): TransportLock | undefined {
  return fences.getStore();
}
