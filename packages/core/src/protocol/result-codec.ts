import { CorruptResultError, isError, RemoteTaskError } from '../errors';
import { JSON_CONTENT_TYPE } from './task-codec';
import { DEFAULT_JSON_LIMITS, parseJsonBody, toJsonBody } from './json';
import { type JsonValue, type SerializedError, type StateMessage, type WireMessage } from './message';

/** Python has these under the same names, so a Celery client rebuilds them as real exceptions. */
const PYTHON_BUILTIN_NAMES = new Set(['TypeError', 'SyntaxError', 'NotImplementedError']);
/** Ours that mean what Celery's own exception of that name means (a Python caller rebuilds Celery's class). */
const CELERY_EXCEPTION_NAMES = new Set(['ChordError']);
/** `exc_module` for errors raised by JavaScript code (unknown to Python: it makes a stand-in class of that name). */
export const JS_EXC_MODULE = 'nodejs';

/** Serializes an error the way Celery's result backends do: `{exc_type, exc_message: [message], exc_module}`. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof RemoteTaskError) {
    return {
      exc_type: error.excType,
      exc_message: [error.excMessage],
      exc_module: error.excModule ?? JS_EXC_MODULE,
    };
  }
  if (isError(error)) {
    // A subclass that does not set `name` still says 'Error': its class name is what Celery would report.
    const className = error.constructor?.name;
    const name =
      error.name && !(error.name === 'Error' && className && className !== 'Error')
        ? error.name
        : className || 'Error';
    return {
      exc_type: name,
      exc_message: [error.message],
      exc_module: PYTHON_BUILTIN_NAMES.has(name)
        ? 'builtins'
        : CELERY_EXCEPTION_NAMES.has(name)
          ? 'celery.exceptions'
          : JS_EXC_MODULE,
    };
  }
  return { exc_type: 'Error', exc_message: [String(error)], exc_module: JS_EXC_MODULE };
}

export function tracebackOf(error: unknown): string | null {
  if (error instanceof RemoteTaskError) return error.traceback ?? null;
  return isError(error) ? (error.stack ?? `${error.name}: ${error.message}`) : null;
}

function isSerializedError(value: JsonValue): value is SerializedError & { [key: string]: JsonValue } {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.exc_type === 'string'
  );
}

function messageText(excMessage: JsonValue | undefined): string {
  if (Array.isArray(excMessage))
    return excMessage.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(', ');
  if (typeof excMessage === 'string') return excMessage;
  return excMessage === undefined || excMessage === null ? '' : JSON.stringify(excMessage);
}

/**
 * Turns a serialized error from any worker into a plain {@link RemoteTaskError}. No class is ever looked up
 * from the strings in a message (Celery's CVE-2021-23727 came from doing that).
 */
export function deserializeError(
  result: JsonValue,
  traceback: string | null,
  taskId: string,
): RemoteTaskError {
  if (isSerializedError(result)) {
    const module = typeof result.exc_module === 'string' ? result.exc_module : undefined;
    return new RemoteTaskError(
      result.exc_type,
      messageText(result.exc_message),
      module,
      traceback ?? undefined,
      taskId,
    );
  }
  return new RemoteTaskError('Error', messageText(result), undefined, traceback ?? undefined, taskId);
}

/** Encodes a state report as Celery's rpc backend sends it. */
export function encodeStateMessage(state: StateMessage): WireMessage {
  return {
    headers: {},
    properties: {
      contentType: JSON_CONTENT_TYPE,
      contentEncoding: 'utf-8',
      correlationId: state.taskId,
      deliveryMode: 1,
    },
    body: toJsonBody({
      task_id: state.taskId,
      status: state.state,
      result: state.result,
      traceback: state.traceback,
      children: state.children,
    }),
  };
}

/** Decodes a state report; returns undefined for a message that is not one (it is then ignored). */
export function decodeStateMessage(message: WireMessage): StateMessage | undefined {
  let body: JsonValue;
  try {
    body = parseJsonBody(message.body, DEFAULT_JSON_LIMITS);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const taskId = typeof body.task_id === 'string' ? body.task_id : message.properties.correlationId;
  if (typeof taskId !== 'string' || typeof body.status !== 'string') return undefined;
  const state = body.status;
  return {
    taskId,
    state,
    result: body.result ?? null,
    traceback: typeof body.traceback === 'string' ? body.traceback : null,
    children: Array.isArray(body.children) ? body.children : null,
  };
}

/** A stored document may be as large as a result a worker was allowed to store (Redis's own cap: 512 MiB). */
const STORED_DOCUMENT_LIMITS = { ...DEFAULT_JSON_LIMITS, maxBytes: 512 * 1024 * 1024 };

/**
 * A state as Celery's key-value result backends store it (Redis `celery-task-meta-<id>`): `status`, `result`,
 * `traceback`, `children`, `date_done` (ISO 8601 for ready states, else null), `group_id`/`parent_id` when
 * known, `task_id`. The same JSON is what a Celery client reads.
 */
export function encodeStateDocument(state: StateMessage): Buffer {
  const document: Record<string, JsonValue> = {
    status: state.state,
    result: state.result,
    traceback: state.traceback,
    children: state.children ?? [],
    date_done: state.dateDone ?? null,
  };
  if (state.groupId) document.group_id = state.groupId;
  if (state.parentId) document.parent_id = state.parentId;
  document.task_id = state.taskId;
  return toJsonBody(document);
}

/**
 * Reads a stored state document (ours or a Celery worker's). @throws CorruptResultError when it is not one
 * (a foreign or damaged value): the caller sees that error for this result only.
 */
export function decodeStateDocument(stored: Buffer | string, taskId: string): StateMessage {
  let body: JsonValue;
  try {
    body = parseJsonBody(Buffer.isBuffer(stored) ? stored : Buffer.from(stored), STORED_DOCUMENT_LIMITS);
  } catch (error) {
    throw new CorruptResultError(taskId, (error as Error).message);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CorruptResultError(taskId, 'not a JSON object');
  }
  if (typeof body.status !== 'string' || body.status.length === 0) {
    throw new CorruptResultError(taskId, 'no "status"');
  }
  if (body.task_id !== undefined && body.task_id !== taskId) {
    throw new CorruptResultError(taskId, `it names task ${JSON.stringify(body.task_id)}`);
  }
  return {
    taskId,
    state: body.status,
    result: body.result ?? null,
    traceback: typeof body.traceback === 'string' ? body.traceback : null,
    children: Array.isArray(body.children) ? body.children : null,
    parentId: typeof body.parent_id === 'string' ? body.parent_id : null,
    groupId: typeof body.group_id === 'string' ? body.group_id : null,
    dateDone: typeof body.date_done === 'string' ? body.date_done : null,
  };
}
