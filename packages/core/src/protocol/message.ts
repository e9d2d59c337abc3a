/**
 * The one message model between App, transports and workers: an AMQP-shaped message (headers, properties,
 * body bytes) carrying Celery's protocol v2. The in-memory transport moves these same bytes, so every unit
 * test exercises the codec that RabbitMQ traffic uses.
 */

/** A JSON value as it travels on the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** AMQP basic properties that the protocol uses (amqplib spells them the same way). */
export interface MessageProperties {
  contentType: string;
  contentEncoding: string;
  /** Task id for task messages; the id the result belongs to for result messages. */
  correlationId?: string;
  /** Where results should go (the rpc backend's reply queue); empty or absent: no result is sent. */
  replyTo?: string;
  /** 2 = persistent (tasks), 1 = transient (results). */
  deliveryMode?: 1 | 2;
  priority?: number;
  /** Per-message TTL in ms, as a string (AMQP `expiration`). */
  expiration?: string;
}

/** An encoded message: what a transport publishes and delivers. */
export interface WireMessage {
  headers: Record<string, unknown>;
  properties: MessageProperties;
  body: Buffer;
}

/** Canvas data that travels in the third body element (`embed`). Kept as received, re-sent on retries. */
export interface TaskEmbed {
  callbacks: JsonValue[] | null;
  errbacks: JsonValue[] | null;
  chain: JsonValue[] | null;
  chord: JsonValue | null;
}

/** A task call, decoded: everything protocol v2 says about one run of one task. */
export interface TaskEnvelope {
  /** Task id (header `id`, property `correlation_id`). */
  id: string;
  /** Registered task name (header `task`). */
  task: string;
  args: JsonValue[];
  kwargs: Record<string, JsonValue>;
  embed: TaskEmbed;
  /** How many times this task has been retried; 0 on the first send. */
  retries: number;
  /** ISO-8601 with offset, or null: do not run before. */
  eta: string | null;
  /** ISO-8601 with offset, or null: revoke when received after this. */
  expires: string | null;
  /** `[hard, soft]` seconds, each null when unset. */
  timelimit: [number | null, number | null];
  rootId: string;
  parentId: string | null;
  group: string | null;
  groupIndex: number | null;
  shadow: string | null;
  argsrepr: string;
  kwargsrepr: string;
  origin: string;
  ignoreResult: boolean;
  lang: string;
  replyTo: string;
  correlationId: string;
  priority: number;
  /** Headers beyond protocol v2's own (user `headers=` and other clients' extensions). */
  extraHeaders: Record<string, unknown>;
}

/** Task states. Custom states (e.g. `PROGRESS`) are any other string. */
export const States = {
  PENDING: 'PENDING',
  RECEIVED: 'RECEIVED',
  STARTED: 'STARTED',
  RETRY: 'RETRY',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  REVOKED: 'REVOKED',
} as const;

export type BuiltinState = (typeof States)[keyof typeof States];
/** A task state: one of {@link States} or a custom one such as `'PROGRESS'`. */
export type TaskState = BuiltinState | (string & {});

/** States after which nothing more happens to a task. */
export const READY_STATES: ReadonlySet<string> = new Set([States.SUCCESS, States.FAILURE, States.REVOKED]);
/** States whose `result` is a serialized error. */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set([States.RETRY, States.FAILURE, States.REVOKED]);

/** One state report of one task, as the rpc backend carries it (`{task_id, status, result, traceback, children}`). */
export interface StateMessage {
  taskId: string;
  state: TaskState;
  /** The return value (SUCCESS), the meta (custom states, STARTED) or a serialized error (RETRY/FAILURE/REVOKED). */
  result: JsonValue;
  traceback: string | null;
  children: JsonValue[] | null;
  /** The task that sent this one (stored by key-value backends as Celery's `parent_id`). */
  parentId?: string | null;
  /** The group the task belongs to (Celery's `group_id`). */
  groupId?: string | null;
  /** When a ready state was stored (ISO 8601, Celery's `date_done`); null before. */
  dateDone?: string | null;
}

/** An error as Celery serializes it in results (a type, not an interface: it is a JsonValue as it is). */
export type SerializedError = {
  exc_type: string;
  exc_message: JsonValue[];
  exc_module: string;
};
