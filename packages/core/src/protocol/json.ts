import sjson from 'secure-json-parse';
import { MessageDecodeError } from '../errors';
import type { JsonValue } from './message';

/** Limits applied before and while parsing untrusted message bodies. */
export interface JsonLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays/objects accepted. */
  maxDepth: number;
}

/**
 * The limits unless an App says otherwise: 16 MiB (RabbitMQ's own message limit) and 64 levels of nesting.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxBytes: 16 * 1024 * 1024, maxDepth: 64 };

/**
 * Parses an untrusted JSON body: size checked before parsing, `__proto__`/`constructor` keys removed
 * (prototype-pollution guard), depth checked iteratively (recursion on hostile input would overflow the
 * stack), and kombu ≥ 5.3 `{"__type__", "__value__"}` tags turned back into plain JSON values.
 */
export function parseJsonBody(body: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonValue {
  if (body.length > limits.maxBytes) {
    throw new MessageDecodeError(
      'payload-too-large',
      `body is ${body.length} bytes, limit ${limits.maxBytes}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = sjson.parse(body.toString('utf8'), undefined, {
      protoAction: 'remove',
      constructorAction: 'remove',
    });
  } catch (error) {
    throw new MessageDecodeError('invalid-json', (error as Error).message);
  }
  return untagAndCheckDepth(parsed as JsonValue, limits.maxDepth);
}

/**
 * kombu's tagged types, carried as the plain JSON that kombu 5.2 would have sent (ISO strings, strings).
 * Returns undefined when the object is not such a tag (unknown `__type__`, or a `__value__` that is an array or
 * object): it is then kept as data and its contents are depth-checked like any other value.
 */
function untag(tagged: { __type__: JsonValue; __value__: JsonValue }): JsonValue | undefined {
  const value = tagged.__value__;
  if (typeof value === 'object' && value !== null) return undefined;
  switch (tagged.__type__) {
    case 'datetime':
    case 'date':
    case 'time':
    case 'decimal':
    case 'uuid':
    case 'base64':
    case 'bytes':
      return typeof value === 'string' ? value : String(value);
    default:
      return undefined;
  }
}

function isTagged(value: JsonValue): value is { __type__: JsonValue; __value__: JsonValue } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    '__type__' in value &&
    '__value__' in value &&
    Object.keys(value).length === 2
  );
}

function untagAndCheckDepth(root: JsonValue, maxDepth: number): JsonValue {
  const plainRoot = isTagged(root) ? untag(root) : undefined;
  if (plainRoot !== undefined) return plainRoot;
  const stack: Array<{ node: JsonValue[] | { [key: string]: JsonValue }; depth: number }> = [];
  if (typeof root === 'object' && root !== null) stack.push({ node: root, depth: 1 });
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > maxDepth)
      throw new MessageDecodeError('too-deeply-nested', `nesting deeper than ${maxDepth}`);
    const entries: Array<[string | number, JsonValue]> = Array.isArray(node)
      ? node.map((v, i) => [i, v])
      : Object.entries(node);
    for (const [key, child] of entries) {
      if (typeof child !== 'object' || child === null) continue;
      const plain = isTagged(child) ? untag(child) : undefined;
      if (plain !== undefined) {
        (node as Record<string | number, JsonValue>)[key] = plain;
      } else {
        stack.push({ node: child, depth: depth + 1 });
      }
    }
  }
  return root;
}

/** Serializes a value to a JSON body. Values that JSON cannot carry become what `JSON.stringify` makes of them. */
export function toJsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
