import { ConfigurationError } from '@queue/core/transport';

/** A `redis://` / `rediss://` URL, checked, with its password masked for messages. */
export interface RedisAddress {
  /** What ioredis connects to (it reads host, port, password, db and TLS from the URL). */
  readonly url: string;
  /** The URL with its password masked, for messages and logs. */
  readonly displayUrl: string;
  /** TLS is used (`rediss://`). */
  readonly tls: boolean;
  /** `?timeoutMs=`: connect and command timeout. @default 10000 */
  readonly timeoutMs: number;
}

/**
 * `redis://[[user]:password@]host[:port][/db][?timeoutMs=N]` as Celery writes it (db 0 by default);
 * `rediss://` for TLS. The backend's settings live in the URL (the App's `transportOptions` belong to the
 * broker). @throws ConfigurationError naming what is wrong (never the password).
 */
export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(`result backend URL ${JSON.stringify(mask(url))} is not a valid URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigurationError(`result backend URL scheme ${parsed.protocol}// is not redis or rediss`);
  }
  if (!parsed.hostname) throw new ConfigurationError(`result backend URL ${mask(url)} names no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new ConfigurationError(
      `result backend URL ${mask(url)}: the path must be a database number, got /${db}`,
    );
  }
  let timeoutMs = 10_000;
  for (const [name, value] of parsed.searchParams) {
    if (name !== 'timeoutMs') {
      throw new ConfigurationError(
        `result backend URL ${mask(url)}: unknown parameter ${JSON.stringify(name)} (known: timeoutMs)`,
      );
    }
    timeoutMs = Number(value);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new ConfigurationError(
        `result backend URL ${mask(url)}: timeoutMs must be a whole number of ms ≥ 1`,
      );
    }
  }
  const plain = new URL(url);
  plain.search = '';
  return { url: plain.toString(), displayUrl: mask(url), tls: parsed.protocol === 'rediss:', timeoutMs };
}

function mask(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@');
}
