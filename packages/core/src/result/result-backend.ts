import type { JsonValue, StateMessage } from '../protocol/message';

/** Where a worker sends the states of one task (from the task message). */
export interface ReplyTarget {
  /** The task the states belong to. */
  taskId: string;
  /** The caller's reply address (`reply_to`); empty: the caller wants nothing back over rpc. */
  replyTo: string;
  /** The id replies are matched by (`correlation_id`: the task id). */
  correlationId: string;
}

/** One chord header task that ended: its place in the header and its outcome, as stored. */
export interface ChordPart {
  /** The chord's group id (the header tasks' `group`). */
  readonly groupId: string;
  /** The header task's id. */
  readonly taskId: string;
  /** Its place in the header (the message's `group_index`); null sorts last. */
  readonly groupIndex: number | null;
  /** Its final state (SUCCESS, FAILURE or REVOKED). */
  readonly state: string;
  /** The value (SUCCESS) or the serialized error (FAILURE, REVOKED). */
  readonly result: JsonValue;
}

/** Counts a chord's header tasks as they end, atomically across processes, so that its body is sent once. */
export interface ChordStore {
  /** Caller side, before the header's last task is sent: the header's task ids, in order. */
  prepare(groupId: string, headerIds: readonly string[]): Promise<void>;
  /**
   * Worker side, after a header task's state is stored: records it, and resolves with every part in header
   * order to exactly one caller, the one whose part completed the header; undefined to the others.
   */
  partReturned(part: ChordPart): Promise<ChordPart[] | undefined>;
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
  /** How chords wait for their header here; absent where chords cannot work (rpc://, as in Celery). */
  readonly chords?: ChordStore;
  /** Releases connections and listeners; the backend is not used afterwards. */
  close(): Promise<void>;
}
