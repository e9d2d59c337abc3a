import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '../errors';
import type { JsonValue, TaskEmbed } from '../protocol/message';
import type { ApplyOptions } from '../task/apply-options';
import type { CanvasFields } from '../task/envelope';

/** Celery's signature as JSON (`dict(add.s(1, 2))`): what callbacks, chains and chords carry on the wire. */
// A type, not an interface: it is a JsonValue as it is.
export type SignatureDict = {
  /** The task name (`celery.chain`, `celery.group`, `celery.chord` for workflows). */
  task: string;
  /** Positional arguments. */
  args: JsonValue[];
  /** Keyword arguments. */
  kwargs: Record<string, JsonValue>;
  /** `apply_async` options in Celery's names (`task_id`, `queue`, `countdown`, `link`, `chain`, …). */
  options: Record<string, JsonValue>;
  /** null for a task; `chain`, `group` or `chord` for a workflow. */
  subtask_type: string | null;
  /** Ignores the parent's result (Celery's `.si()`). */
  immutable: boolean;
};

/** Call options a signature carries (`.set({...})`), in the units of `applyAsync`. */
export type SignatureOptions = Pick<
  ApplyOptions,
  'taskId' | 'countdown' | 'eta' | 'expires' | 'queue' | 'priority' | 'headers'
>;

export type WireOptions = Record<string, JsonValue>;

const isObject = (value: unknown): value is Record<string, JsonValue> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a signature dict received from the wire (a callback, a chain step, a chord body), Python's or ours.
 * @throws ConfigurationError naming what is wrong.
 */
export function readSignatureDict(value: JsonValue, where: string): SignatureDict {
  if (!isObject(value)) throw new ConfigurationError(`${where}: a signature must be an object`);
  const { task, args = [], kwargs = {}, options = {}, subtask_type = null, immutable = false } = value;
  if (typeof task !== 'string' || task.length === 0) {
    throw new ConfigurationError(`${where}: the signature has no task name`);
  }
  if (!Array.isArray(args)) throw new ConfigurationError(`${where}: signature args must be a list`);
  if (!isObject(kwargs)) throw new ConfigurationError(`${where}: signature kwargs must be an object`);
  if (!isObject(options)) throw new ConfigurationError(`${where}: signature options must be an object`);
  if (subtask_type !== null && typeof subtask_type !== 'string') {
    throw new ConfigurationError(`${where}: subtask_type must be a string or null`);
  }
  return { task, args, kwargs, options, subtask_type, immutable: immutable === true };
}

/** `.set({...})` options in Celery's option names. */
export function toWireOptions(options: SignatureOptions): WireOptions {
  const wire: WireOptions = {};
  if (options.taskId !== undefined) wire.task_id = options.taskId;
  if (options.countdown !== undefined) wire.countdown = options.countdown;
  if (options.eta !== undefined) wire.eta = options.eta.toISOString();
  if (options.expires !== undefined) {
    wire.expires = typeof options.expires === 'number' ? options.expires : options.expires.toISOString();
  }
  if (options.queue !== undefined) wire.queue = options.queue;
  if (options.priority !== undefined) wire.priority = options.priority;
  if (options.headers !== undefined) wire.headers = options.headers as Record<string, JsonValue>;
  return wire;
}

/** Celery's merge (`Signature._merge`): the applier's options win, but the signature keeps its own group. */
export function mergeOptions(own: WireOptions, applied: WireOptions): WireOptions {
  const merged = { ...own, ...applied };
  if (own.group_id !== undefined && own.group_id !== null) merged.group_id = own.group_id;
  return merged;
}

/** The task id a signature will run under, assigned now if it has none (Celery's `freeze`). */
export function frozenId(options: WireOptions): string {
  if (typeof options.task_id !== 'string' || options.task_id.length === 0) options.task_id = randomUUID();
  return options.task_id;
}

const listOf = (value: JsonValue | undefined): JsonValue[] | null =>
  value === undefined || value === null ? null : Array.isArray(value) ? value : [value];

const stringOr = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

const dateOf = (value: JsonValue | undefined, name: string): Date | undefined => {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new ConfigurationError(
      `signature option ${name} must be an ISO 8601 time, got ${JSON.stringify(value)}`,
    );
  }
  return date;
};

/**
 * A signature's options as one call: what `applyTask` takes, and the workflow fields of the message. Options
 * that do not apply to a message of ours (`serializer`, `exchange`, …) are left out, as a Python worker
 * ignores those it does not know.
 */
export function toCall(
  dict: Pick<SignatureDict, 'args' | 'kwargs'>,
  options: WireOptions,
): { options: ApplyOptions; canvas: CanvasFields } {
  const expires = options.expires;
  const apply: ApplyOptions = {
    args: dict.args,
    kwargs: dict.kwargs,
    taskId: stringOr(options.task_id),
    countdown: typeof options.countdown === 'number' ? options.countdown : undefined,
    eta: dateOf(options.eta, 'eta'),
    expires: typeof expires === 'number' ? expires : dateOf(expires, 'expires'),
    queue: stringOr(options.queue) ?? stringOr(options.routing_key),
    priority: typeof options.priority === 'number' ? options.priority : undefined,
    headers: isObject(options.headers) ? options.headers : undefined,
  };
  for (const key of Object.keys(apply) as Array<keyof ApplyOptions>) {
    if (apply[key] === undefined) delete apply[key];
  }
  const embed: TaskEmbed = {
    callbacks: listOf(options.link),
    errbacks: listOf(options.link_error),
    chain: listOf(options.chain),
    chord: options.chord ?? null,
  };
  const canvas: CanvasFields = {
    embed,
    groupId: stringOr(options.group_id) ?? null,
    groupIndex: typeof options.group_index === 'number' ? options.group_index : null,
    rootId: stringOr(options.root_id),
    parentId: stringOr(options.parent_id),
    replyTo: typeof options.reply_to === 'string' ? options.reply_to : undefined,
  };
  return { options: apply, canvas };
}
