import { ConfigurationError } from '@queue/core/transport';

/** A `redis://` / `rediss://` URL, checked, with its password masked for messages. */
export interface RedisAddress {
  /** What ioredis connects to (it reads host, port, password, db and TLS from the URL). */
  readonly url: string;
  readonly displayUrl: string;
  readonly tls: boolean;
}

/**
 * `redis://[[user]:password@]host[:port][/db]` as Celery writes it (db 0 by default); `rediss://` for TLS.
 * @throws ConfigurationError naming what is wrong (never the password).
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
  return { url, displayUrl: mask(url), tls: parsed.protocol === 'rediss:' };
}

function mask(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@');
}
