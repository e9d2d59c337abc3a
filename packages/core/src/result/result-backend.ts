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
 * (Celery's RabbitMQ reply-queue backend) comes with `@queue/amqp`.
 */
export interface ResultBackend {
  /** Worker side: record or send one state report. */
  report(target: ReplyTarget, state: StateMessage): Promise<void>;
  /** Caller side: the `reply_to` to put on outgoing tasks; resolves once replies can be received. */
  replyTo(): Promise<string>;
  /** Caller side: call `listener` for every state of `taskId` reported from now on. Returns the unsubscribe function. */
  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void;
  /** Caller side: the newest state known for `taskId`, if any. */
  latest(taskId: string): StateMessage | undefined;
  close(): Promise<void>;
}
