/**
 * `@queue/postgres`: the `postgresql://` result backend (also `postgres://`, and `db+postgresql://` as in
 * Celery's configuration): results any process can read, `LISTEN`/`NOTIFY` streaming, expiry, chords joined
 * across processes. `@queue/core` loads it by itself for these URLs, when it is installed. Its settings live
 * in the URL ({@link parsePostgresUrl}); {@link migrate} creates the tables ahead of time.
 *
 * @example
 * ```ts
 * const app = new App({
 *   name: 'billing',
 *   broker: 'amqp://localhost',
 *   resultBackend: 'postgresql://app:secret@db.internal:5432/billing?poolSize=8',
 * });
 * ```
 *
 * @module \@queue/postgres
 */
import { registerResultBackend } from '@queue/core/transport';
import { PostgresResultBackend } from './postgres-result-backend';
import { POSTGRES_SCHEMES } from './settings';

/** `transportOptions.resultCacheSize` when it is a positive integer (the key `@queue/amqp` knows too). */
function cacheSizeOf(options: Readonly<Record<string, unknown>>): number | undefined {
  const size = options.resultCacheSize;
  return typeof size === 'number' && Number.isSafeInteger(size) && size > 0 ? size : undefined;
}

registerResultBackend(
  POSTGRES_SCHEMES,
  (url, { options, resultExpires }) =>
    new PostgresResultBackend(url, { resultExpires, cacheSize: cacheSizeOf(options) }),
);

export { PostgresResultBackend, type PostgresBackendOptions } from './postgres-result-backend';
export { PostgresChordStore } from './chord-store';
export { migrate } from './migrate';
export { schemaStatements } from './schema';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_SIZE,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_TABLE_PREFIX,
  maskUrl,
  parsePostgresUrl,
  POSTGRES_SCHEMES,
  tableNames,
  type PostgresSettings,
  type TableNames,
} from './settings';
