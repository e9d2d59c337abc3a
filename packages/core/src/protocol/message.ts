/**
 * The one message model between App, transports and workers: an AMQP-shaped message (headers, properties,
 * body bytes) carrying Celery's protocol v2. The in-memory transport moves these same bytes, so every unit
 * test exercises the codec that RabbitMQ traffic uses.
 */

/** A JSON value as it travels on the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** AMQP basic properties that the protocol uses (amqplib spells them the same way). */
export interface MessageProperties {
  /** MIME type of the body: `application/json` for the messages we send. */
  contentType: string;
  /** Character encoding of the body: `utf-8` for the messages we send. */
  contentEncoding: string;
  /** Task id for task messages; the id the result belongs to for result messages. */
  correlationId?: string;
  /** Where results should go (the rpc backend's reply queue); empty or absent: no result is sent. */
  replyTo?: string;
  /** 2 = persistent (tasks), 1 = transient (results). */
  deliveryMode?: 1 | 2;
  /** Message priority 0–255 (honoured by queues declared with `x-max-priority`). */
  priority?: number;
  /** Per-message TTL in ms, as a string (AMQP `expiration`). */
  expiration?: string;
}

/** An encoded message: what a transport publishes and delivers. */
export interface WireMessage {
  /** Application headers (protocol v2 puts the task's metadata here: `task`, `id`, `retries`, …). */
  headers: Record<string, unknown>;
  /** AMQP basic properties. */
  properties: MessageProperties;
  /** The encoded body (protocol v2: the JSON of `[args, kwargs, embed]`). */
  body: Buffer;
}

/** Canvas data that travels in the third body element (`embed`). Kept as received, re-sent on retries. */
export interface TaskEmbed {
  /** Signatures to send with the result when the task succeeds (Celery's `link`). */
  callbacks: JsonValue[] | null;
  /** Signatures to send when the task fails (Celery's `link_error`). */
  errbacks: JsonValue[] | null;
  /** The rest of a chain, last step first (Celery's order): the next step is popped from the end. */
  chain: JsonValue[] | null;
  /** The body of the chord this task is a header task of. */
  chord: JsonValue | null;
}

/** A task call, decoded: everything protocol v2 says about one run of one task. */
export interface TaskEnvelope {
  /** Task id (header `id`, property `correlation_id`). */
  id: string;
  /** Registered task name (header `task`). */
  task: string;
  /** Positional arguments (body element 0). */
  args: JsonValue[];
  /** Keyword arguments (body element 1). */
  kwargs: Record<string, JsonValue>;
  /** Workflow data (body element 2): callbacks, errbacks, chain, chord. */
  embed: TaskEmbed;
  /** How many times this task has been retried; 0 on the first send. */
  retries: number;
  /** ISO-8601 with offset, or null: do not run before. */
  eta: string | null;
  /** ISO-8601 with offset, or null: revoke when received after this. */
  expires: string | null;
  /** `[hard, soft]` seconds, each null when unset. */
  timelimit: [number | null, number | null];
  /**
   * The id of the first task of the workflow this call belongs to (its own id when sent on its own; header
   * `root_id`).
   */
  rootId: string;
  /** The id of the task whose run sent this one, or null (header `parent_id`). */
  parentId: string | null;
  /** The id of the group this task is part of, or null (header `group`). */
  group: string | null;
  /** The task's place in its group, or null (header `group_index`). */
  groupIndex: number | null;
  /** A name shown in logs and events instead of the task name, or null (header `shadow`). */
  shadow: string | null;
  /** The arguments as shown in logs and events (header `argsrepr`). */
  argsrepr: string;
  /** The keyword arguments as shown in logs and events (header `kwargsrepr`). */
  kwargsrepr: string;
  /** Who sent the task: `gen<pid>@<hostname>`, as Celery writes it (header `origin`). */
  origin: string;
  /** The sender wants no result stored (header `ignore_result`). */
  ignoreResult: boolean;
  /** The language of the sender's task model; `py` for Celery compatibility (header `lang`). */
  lang: string;
  /** Where states go (the rpc backend's reply queue); '' when nobody listens (property `reply_to`). */
  replyTo: string;
  /** The task id again, for result routing (property `correlation_id`). */
  correlationId: string;
  /** Message priority 0–255 (property `priority`). */
  priority: number;
  /** Headers beyond protocol v2's own (user `headers=` and other clients' extensions). */
  extraHeaders: Record<string, unknown>;
}

/** Task states. Custom states (e.g. `PROGRESS`) are any other string. */
export const States = {
  /** Unknown to the backend: not sent yet, still queued, or forgotten. */
  PENDING: 'PENDING',
  /** A worker accepted the message (reported with `trackReceived`). */
  RECEIVED: 'RECEIVED',
  /** A worker began a run (reported with `trackStarted`). */
  STARTED: 'STARTED',
  /** The run failed and the task will run again later. */
  RETRY: 'RETRY',
  /** The task returned; the result is its return value. */
  SUCCESS: 'SUCCESS',
  /** The task failed for good; the result is the error. */
  FAILURE: 'FAILURE',
  /** The task was revoked, expired or terminated. */
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
  /** The task this state belongs to. */
  taskId: string;
  /** The reported state. */
  state: TaskState;
  /** The return value (SUCCESS), the meta (custom states, STARTED) or a serialized error (RETRY/FAILURE/REVOKED). */
  result: JsonValue;
  /** The worker-side stack of a failure, or null. */
  traceback: string | null;
  /** Results of tasks this run started (Celery's `children`), or null. */
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
  /** The error's class name (`ValueError`, `RangeError`). */
  exc_type: string;
  /** The error's arguments (its message first), as Python's `exc.args`. */
  exc_message: JsonValue[];
  /** Where the class lives: `builtins` for Python's built-in errors, `nodejs` for other JavaScript errors. */
  exc_module: string;
};
