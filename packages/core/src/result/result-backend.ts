import type { StateMessage } from '../protocol/message';

/** Where a worker sends the states of one task (from the task message). */
export interface ReplyTarget {
  taskId: string;
  /** The caller's reply address (`reply_to`); empty: the caller wants nothing back over rpc. */
  replyTo: string;
  correlationId: string;
}

/**
 * Stores/sends task states (worker side) and follows them (caller side). `memory://` is built in; `rpc://`
 * (Celery's RabbitMQ reply-queue backend) comes with `@queue/amqp`, `redis://` with `@queue/redis`,
 * `postgresql://` with `@queue/postgres`.
 */
export interface ResultBackend {
  /** Worker side: record or send one state report. A ready state is never replaced by a later non-ready one. */
  report(target: ReplyTarget, state: StateMessage): Promise<void>;
  /** Caller side: the `reply_to` to put on outgoing tasks; resolves once replies can be received. */
  replyTo(): Promise<string>;
  /** Caller side: call `listener` for every state of `taskId` reported from now on. Returns the unsubscribe function. */
  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void;
  /** Caller side: the newest state known here for `taskId` (seen or fetched), without asking the store. */
  latest(taskId: string): StateMessage | undefined;
  /**
   * Caller side: the stored state of `taskId`, read from the store (any process can: redis://,
   * postgresql://; rpc:// and memory:// know what reached this process). Undefined when none is stored.
   * @throws CorruptResultError when what is stored is not a state document.
   */
  fetch(taskId: string): Promise<StateMessage | undefined>;
  /** Removes what is stored for `taskId`. */
  forget(taskId: string): Promise<void>;
  /**
   * Adds `by` to the counter of group `groupId`, atomically across processes, and returns the new value
   * (what a chord counts its finished header tasks with). @throws ConfigurationError when the backend has
   * none (rpc://, as in Celery).
   */
  incrementGroup(groupId: string, by?: number): Promise<number>;
  close(): Promise<void>;
}
