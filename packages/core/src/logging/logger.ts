import winston from 'winston';
import { runContext } from '../task/request';
import { parseLogFormat, parseLogLevel, type LogFormat, type LogLevel } from './levels';
import { textFormat } from './text-format';

/**
 * What the framework and task code log through. winston implements it (and a winston logger can be
 * assigned wherever one is expected); the type is ours so that no user code depends on winston's types.
 */
export interface Logger {
  /** Logs a failure; `meta` fields are added to the line. */
  error(message: string, meta?: Record<string, unknown>): void;
  /** Logs something odd that does not stop the work. */
  warn(message: string, meta?: Record<string, unknown>): void;
  /** Logs a normal event (a worker started, a task succeeded). */
  info(message: string, meta?: Record<string, unknown>): void;
  /** Logs detail for debugging (written only at level `debug`). */
  debug(message: string, meta?: Record<string, unknown>): void;
  /** A logger that adds `meta` to every line. */
  child(meta: Record<string, unknown>): Logger;
}

/** Adds the running task's name and id to every line logged inside a run, whatever logger logs it. */
const taskContext = winston.format((info) => {
  const context = runContext.getStore();
  if (context && !context.request.calledDirectly) {
    info.taskName ??= context.request.name;
    info.taskId ??= context.request.id;
  } else if (context) {
    info.taskName ??= context.request.name;
  }
  return info;
});

/** A winston transport (e.g. `new winston.transports.Console()`). */
export type LogTransport = winston.transport;

/** Options of `configureLogging({...})` (the CLI sets them from `--loglevel` and `--log-format`). */
export interface LoggingOptions {
  /**
   * Lowest level written: `debug`, `info`, `warning`/`warn`, `error`, `critical` (as `error`), `silent`,
   * any case (see `parseLogLevel`). @default process.env.LOG_LEVEL ?? 'info'
   */
  level?: string;
  /**
   * `text`: one readable line per event (time, level, logger, message, task); `json`: one object per line.
   * `pretty` is the former name of `text`.
   * @default process.env.QUEUE_LOG_FORMAT ?? process.env.LOG_FORMAT, else `text` when the console stream is
   * a terminal and `json` otherwise (always `json` with custom `transports`)
   */
  format?: LogFormat | 'pretty';
  /** Colour the `text` format (ANSI). @default the console stream is a terminal and NO_COLOR is unset */
  colour?: boolean;
  /** Where lines go. @default the console (see `stream`) */
  transports?: LogTransport[];
  /**
   * With the default console transport: `stderr` keeps stdout for a program's own output (a CLI printing
   * JSON). @default 'stdout'
   */
  stream?: 'stdout' | 'stderr';
}

/** What `configureLogging` settles on: the level, the format and whether to colour. */
export interface ResolvedLogging {
  level: LogLevel;
  format: LogFormat;
  colour: boolean;
}

/** Where settings come from besides the options (the process's, unless a test says otherwise). */
export interface LoggingEnvironment {
  env: NodeJS.ProcessEnv;
  /** Whether the console stream the default transport writes to is a terminal. */
  isTTY: (stream: 'stdout' | 'stderr') => boolean;
}

const PROCESS_ENVIRONMENT: LoggingEnvironment = {
  env: process.env,
  isTTY: (stream) => Boolean(process[stream].isTTY),
};

/** Reads an environment value with `parse`, ignoring one it cannot read (logging must not stop a start). */
function fromEnv<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  if (!value) return undefined;
  try {
    return parse(value);
  } catch {
    return undefined;
  }
}

/**
 * The level, format and colour that `options` lead to here. Explicit options win over the environment
 * (`LOG_LEVEL`, `QUEUE_LOG_FORMAT`, `LOG_FORMAT`, `NO_COLOR`), which wins over the terminal test.
 * @throws ConfigurationError for an unknown level or format in `options`.
 */
export function resolveLogging(
  options: LoggingOptions,
  { env, isTTY }: LoggingEnvironment = PROCESS_ENVIRONMENT,
): ResolvedLogging {
  const level =
    options.level !== undefined
      ? parseLogLevel(options.level)
      : (fromEnv(env.LOG_LEVEL, parseLogLevel) ?? 'info');
  // Custom transports are not a terminal we can see: JSON unless told otherwise.
  const terminal = !options.transports && isTTY(options.stream ?? 'stdout');
  const format =
    (options.format !== undefined ? parseLogFormat(options.format) : undefined) ??
    fromEnv(env.QUEUE_LOG_FORMAT, parseLogFormat) ??
    fromEnv(env.LOG_FORMAT, parseLogFormat) ??
    (terminal ? 'text' : 'json');
  const colour = format === 'text' && (options.colour ?? (terminal && !env.NO_COLOR));
  return { level, format, colour };
}

function formatFor({ format, colour }: ResolvedLogging): winston.Logform.Format {
  const { combine, timestamp, errors, json } = winston.format;
  return combine(
    taskContext(),
    timestamp(),
    errors({ stack: true }),
    format === 'json' ? json() : textFormat(colour),
  );
}

function settings(options: LoggingOptions, environment?: LoggingEnvironment): winston.LoggerOptions {
  const resolved = resolveLogging(options, environment);
  return {
    level: resolved.level === 'silent' ? 'error' : resolved.level,
    silent: resolved.level === 'silent',
    format: formatFor(resolved),
    transports: options.transports ?? [
      new winston.transports.Console(
        options.stream === 'stderr' ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {},
      ),
    ],
  };
}

/** The root of every framework and task logger (winston). */
const rootLogger = winston.createLogger(settings({}));

/**
 * Reconfigures logging for the whole process (task loggers already handed out follow).
 * @throws ConfigurationError for an unknown level or format.
 */
export function configureLogging(options: LoggingOptions): void {
  rootLogger.configure(settings(options));
}

/**
 * A logger for task code (Celery's `get_task_logger`); lines logged during a run carry `taskName` and
 * `taskId`. Transports and backends name theirs the same way (`getTaskLogger('queue.amqp')`).
 */
export function getTaskLogger(name: string): Logger {
  return rootLogger.child({ logger: name });
}
