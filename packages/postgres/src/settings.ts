import { ConfigurationError } from '@queue/core/transport';

/** The URL schemes this package serves (`db+postgresql://` is Celery's SQLAlchemy spelling). */
export const POSTGRES_SCHEMES = ['postgresql', 'postgres', 'db+postgresql'] as const;

/** The tables of one backend and the channel its state changes are announced on. */
export interface TableNames {
  /** One row per task: its newest state document. */
  readonly results: string;
  /** One row per chord waiting for its header: the header's size (`count`). */
  readonly groups: string;
  /** One row per header task of a waiting chord that has ended: its place in the header and its outcome. */
  readonly chordParts: string;
  /** The NOTIFY channel (the results table's name): the payload is a task id. */
  readonly channel: string;
}

/** Everything the backend takes from its URL. */
export interface PostgresSettings {
  /** What `pg` connects with: the URL as `postgresql://`, without this package's own parameters. */
  readonly connectionString: string;
  /** The URL for messages and logs, password masked. */
  readonly displayUrl: string;
  /** The password given in the URL (kept out of every message), or ''. */
  readonly password: string;
  /** The tables, named with `?tablePrefix=` (lower case letters, digits and `_`). @default prefix 'queue_' */
  readonly tables: TableNames;
  /** Connections for commands (LISTEN takes one more): `?poolSize=`, 1–100. @default 4 */
  readonly poolSize: number;
  /**
   * How long opening a connection may take (TCP, TLS, login): `?connectTimeoutMs=`, or libpq's
   * `?connect_timeout=` in seconds. @default 10000
   */
  readonly connectTimeoutMs: number;
  /**
   * How long one command may take before it fails (client side; the connection is then dropped):
   * `?queryTimeoutMs=`. @default 30000
   */
  readonly queryTimeoutMs: number;
}

/** The table prefix unless the URL sets `?tablePrefix=`. */
export const DEFAULT_TABLE_PREFIX = 'queue_';
/** The pool size unless the URL sets `?poolSize=`. */
export const DEFAULT_POOL_SIZE = 4;
/** The connect timeout unless the URL sets `?connectTimeoutMs=` (or `?connect_timeout=`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The query timeout unless the URL sets `?queryTimeoutMs=`. */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

/** Lower case (quoted and unquoted names agree), short enough for the longest derived name (63 bytes). */
const TABLE_PREFIX = /^[a-z_][a-z0-9_]{0,37}$/;

/** Query parameters read here and not passed on to `pg`. */
const OWN_PARAMETERS = ['tablePrefix', 'poolSize', 'connectTimeoutMs', 'queryTimeoutMs'] as const;

/**
 * The tables of a backend whose tables start with `prefix`.
 * @throws ConfigurationError when `prefix` is not 1–38 characters of a-z, 0-9 and _ (not starting with a digit).
 */
export function tableNames(prefix: string = DEFAULT_TABLE_PREFIX): TableNames {
  if (!TABLE_PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `tablePrefix must be 1-38 characters of a-z, 0-9 and _ (not starting with a digit), got ${JSON.stringify(prefix)}`,
    );
  }
  const results = `${prefix}task_results`;
  return {
    results,
    groups: `${prefix}group_counters`,
    chordParts: `${prefix}chord_parts`,
    channel: results,
  };
}

/** `scheme://user:****@host/db`: the password of the user info and of a `password=` parameter masked. */
export function maskUrl(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url.replace(/(password=)[^&#]*/gi, '$1****');
  const authorityStart = start + 3;
  const rest = url.slice(authorityStart);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  let masked = url;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) {
      masked = `${url.slice(0, authorityStart)}${userInfo.slice(0, colon)}:****${url.slice(authorityStart + at)}`;
    }
  }
  return masked.replace(/([?&]password=)[^&#]*/gi, '$1****');
}

function positiveInteger(
  params: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
  displayUrl: string,
): number {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ConfigurationError(
      `${name} in ${displayUrl} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Reads a `postgresql://`, `postgres://` or `db+postgresql://` URL: libpq's `postgresql://user:pass@host:port/db`
 * with any parameter `pg` understands (`sslmode`, `application_name`, `options`, `host=/socket/dir`, ...),
 * plus this package's own: `tablePrefix`, `poolSize`, `connectTimeoutMs`, `queryTimeoutMs` (libpq's
 * `connect_timeout`, in seconds, is honoured too). @throws ConfigurationError (password masked)
 */
export function parsePostgresUrl(url: string): PostgresSettings {
  const displayUrl = maskUrl(url);
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url);
  const scheme = match?.[1]?.toLowerCase();
  if (!match || !(POSTGRES_SCHEMES as readonly string[]).includes(scheme ?? '')) {
    throw new ConfigurationError(
      `a PostgreSQL result backend URL starts with postgresql://, postgres:// or db+postgresql://, got ${displayUrl}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(`postgresql://${match[2]}`);
  } catch {
    throw new ConfigurationError(`not a valid PostgreSQL URL: ${displayUrl}`);
  }
  const params = parsed.searchParams;
  const libpqTimeout = params.get('connect_timeout');
  const connectTimeoutMs = positiveInteger(
    params,
    'connectTimeoutMs',
    libpqTimeout !== null && /^\d+$/.test(libpqTimeout) && Number(libpqTimeout) > 0
      ? Number(libpqTimeout) * 1000
      : DEFAULT_CONNECT_TIMEOUT_MS,
    3_600_000,
    displayUrl,
  );
  const settings: PostgresSettings = {
    connectionString: '',
    displayUrl,
    password: decodeURIComponent(parsed.password) || (params.get('password') ?? ''),
    tables: tableNames(params.get('tablePrefix') ?? DEFAULT_TABLE_PREFIX),
    poolSize: positiveInteger(params, 'poolSize', DEFAULT_POOL_SIZE, 100, displayUrl),
    connectTimeoutMs,
    queryTimeoutMs: positiveInteger(
      params,
      'queryTimeoutMs',
      DEFAULT_QUERY_TIMEOUT_MS,
      86_400_000,
      displayUrl,
    ),
  };
  const own = OWN_PARAMETERS.filter((name) => params.has(name));
  if (own.length === 0) return { ...settings, connectionString: `postgresql://${match[2]}` };
  for (const name of own) params.delete(name);
  return { ...settings, connectionString: parsed.toString() };
}
