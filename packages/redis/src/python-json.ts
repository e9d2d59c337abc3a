import type { JsonValue } from '@queue/core';

/**
 * JSON as Python's `json.dumps` writes it by default (kombu's encoder): `", "` and `": "` separators and
 * non-ASCII escaped. Chord members are compared as bytes by Redis (ZADD), so a redelivered header task of
 * ours must write the very bytes a Python worker would.
 */
export function pythonJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return asciiOnly(JSON.stringify(value));
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value).map(
    ([key, item]) => `${asciiOnly(JSON.stringify(key))}: ${pythonJson(item)}`,
  );
  return `{${entries.join(', ')}}`;
}

function asciiOnly(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
