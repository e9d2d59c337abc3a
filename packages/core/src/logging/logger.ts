import winston from 'winston';
import { runContext } from '../task/request';

/**
 * What the framework and task code log through. winston implements it (and a winston logger can be
 * assigned wherever one is expected); the type is ours so that no user code depends on winston's types.
 */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
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

/** One line per record, control characters escaped (a message cannot forge extra log lines). */
const pretty = winston.format.printf((info) => {
  const { timestamp, level, message, logger, taskName, taskId, stack } = info as Record<string, unknown>;
  const task = taskName ? ` ${String(taskName)}${taskId ? `[${String(taskId)}]` : ''}` : '';
  const text = JSON.stringify(String(stack ?? message)).slice(1, -1);
  return `[${String(timestamp)}: ${String(level).toUpperCase()}/${String(logger ?? 'queue')}]${task} ${text}`;
});

export type LogFormat = 'json' | 'pretty';
/** A winston transport (e.g. `new winston.transports.Console()`). */
export type LogTransport = winston.transport;

export interface LoggingOptions {
  /** winston level, or 'silent'. @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** @default process.env.LOG_FORMAT, else 'pretty' on a terminal and 'json' otherwise */
  format?: LogFormat;
  /** Where lines go. @default the console (see `stream`) */
  transports?: LogTransport[];
  /**
   * With the default console transport: `stderr` keeps stdout for a program's own output (a CLI printing
   * JSON). @default 'stdout'
   */
  stream?: 'stdout' | 'stderr';
}

function formatFor(format: LogFormat): winston.Logform.Format {
  const { combine, timestamp, errors, json } = winston.format;
  return combine(taskContext(), timestamp(), errors({ stack: true }), format === 'json' ? json() : pretty);
}

function settings(options: LoggingOptions): winston.LoggerOptions {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const format =
    options.format ??
    (process.env.LOG_FORMAT as LogFormat | undefined) ??
    (process.stdout.isTTY ? 'pretty' : 'json');
  return {
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: formatFor(format),
    transports: options.transports ?? [
      new winston.transports.Console(
        options.stream === 'stderr' ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {},
      ),
    ],
  };
}

/** The root of every framework and task logger (winston). */
const rootLogger = winston.createLogger(settings({}));

/** Reconfigures logging for the whole process (task loggers already handed out follow). */
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
