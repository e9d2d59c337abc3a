import { ConfigurationError } from '../errors';

/** The levels our loggers write at (winston's npm levels), plus `silent`. */
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly' | 'silent';

/** Celery's names (`-l WARNING`, `CRITICAL`, `FATAL`) and winston's, any case, to the level we log at. */
const LEVEL_NAMES: Readonly<Record<string, LogLevel>> = {
  critical: 'error', // winston's npm levels stop at error: CRITICAL/FATAL keep only the most severe lines
  fatal: 'error',
  error: 'error',
  warning: 'warn',
  warn: 'warn',
  info: 'info',
  http: 'http',
  verbose: 'verbose',
  debug: 'debug',
  silly: 'silly',
  silent: 'silent',
};

/** The level names accepted, as Celery spells them first (for help texts and error messages). */
export const LOG_LEVEL_NAMES = ['debug', 'info', 'warning', 'error', 'critical'] as const;

/**
 * A level name as a user types it (`-l`, `LOG_LEVEL`): `debug`, `info`, `warning`/`warn`, `error`,
 * `critical`/`fatal` (logged as `error`), `silent`, in any case.
 * @throws ConfigurationError for any other name.
 */
export function parseLogLevel(name: string): LogLevel {
  const level = LEVEL_NAMES[name.trim().toLowerCase()];
  if (!level) {
    throw new ConfigurationError(
      `unknown log level '${name}' (choose: ${LOG_LEVEL_NAMES.join(', ')}; any case)`,
    );
  }
  return level;
}

/** How log lines are written: `text` (one readable line each), or `json` (one object per line). */
export type LogFormat = 'json' | 'text';

/**
 * A format name as a user types it (`--log-format`, `QUEUE_LOG_FORMAT`): `json` or `text` (`pretty` is
 * the former name of `text`), any case.
 * @throws ConfigurationError for any other name.
 */
export function parseLogFormat(name: string): LogFormat {
  const format = name.trim().toLowerCase();
  if (format === 'json') return 'json';
  if (format === 'text' || format === 'pretty') return 'text';
  throw new ConfigurationError(`unknown log format '${name}' (choose: text, json)`);
}
