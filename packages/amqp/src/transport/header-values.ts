/** An integer header value tagged as a 64-bit integer for amqplib. */
export interface LongValue {
  '!': 'long';
  value: number;
}

/**
 * Header values as py-amqp (Celery's client) reads them. Left to itself, amqplib tags integers from 128 to
 * 32767 as a signed short ('s'), which py-amqp reads as a short *string*: the rest of the table is misread
 * and a Celery worker fails on the message (a `timelimit` of 300, a `group_index` past 127, a Lamport
 * clock). Tagged as 64-bit integers ('l'), they read alike on both sides. Returns `headers` itself when
 * nothing needs a tag (the common case: no copy on the hot path).
 */
export function celeryHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in headers) {
    const value = headers[key];
    const tagged = tagged16(value);
    if (tagged !== value) (copy ??= { ...headers })[key] = tagged;
  }
  return copy ?? headers;
}

/** The value with every integer amqplib would send as a short tagged as a long (arrays and tables too). */
function tagged16(value: unknown): unknown {
  if (typeof value === 'number') return isShort(value) ? long(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    // Copied only when an item changes (`timelimit: [null, null]` on every task message stays as it is).
    let items: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = tagged16(value[index]);
      if (item !== value[index]) (items ??= [...value])[index] = item;
    }
    return items ?? value;
  }
  if ('!' in value || Buffer.isBuffer(value)) return value;
  return celeryHeaders(value as Record<string, unknown>);
}

/** Integers amqplib would encode as 's' (it uses 'b' below, 'I'/'l' above). */
function isShort(value: number): boolean {
  return Number.isInteger(value) && (value > 127 || value < -128) && value >= -32768 && value <= 32767;
}

export function long(value: number): LongValue {
  return { '!': 'long', value };
}
