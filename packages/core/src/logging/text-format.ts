import winston from 'winston';

/** ANSI styles, written only when the console is a terminal (see `colour`). */
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const LEVEL_STYLES: Readonly<Record<string, string>> = {
  error: '\u001b[1;31m',
  warn: '\u001b[1;33m',
  info: '\u001b[32m',
  http: '\u001b[36m',
  verbose: '\u001b[36m',
  debug: '\u001b[34m',
  silly: '\u001b[35m',
};
const LOGGER_STYLE = '\u001b[36m';
const TASK_STYLE = '\u001b[35m';

/** Fields the line shows in its own places; any other meta follows the message as `key=value`. */
const PLACED = new Set(['timestamp', 'level', 'message', 'logger', 'taskName', 'taskId', 'stack']);

/** Escapes control characters: a message cannot forge extra log lines or move the cursor. */
function oneLine(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-11-30 12:41:06.565`, local time: what a person at the terminal reads. */
function localTime(timestamp: unknown): string {
  const date = typeof timestamp === 'string' ? new Date(timestamp) : new Date();
  if (Number.isNaN(date.getTime())) return String(timestamp);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  );
}

function extras(info: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(info)) {
    if (PLACED.has(key) || value === undefined) continue;
    let shown: string;
    try {
      shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    } catch {
      shown = String(value); // a cycle: still one line, never a crash while logging
    }
    pairs.push(`${key}=${oneLine(shown)}`);
  }
  return pairs.length ? ` ${pairs.join(' ')}` : '';
}

/**
 * One readable line per record: time, level, logger, message, then the task (`name[id]`) and any other
 * meta. With `colour`, the level, logger and task are coloured (ANSI) and the time dimmed.
 */
export function textFormat(colour: boolean): winston.Logform.Format {
  const paint = (style: string, text: string) => (colour ? `${style}${text}${RESET}` : text);
  return winston.format.printf((record) => {
    const info = record as Record<string, unknown>;
    const level = String(info.level);
    const { taskName, taskId } = info;
    const task = taskName || taskId ? `${String(taskName ?? '')}${taskId ? `[${String(taskId)}]` : ''}` : '';
    return [
      paint(DIM, localTime(info.timestamp)),
      paint(LEVEL_STYLES[level] ?? '', level.toUpperCase().padEnd(5)),
      paint(LOGGER_STYLE, String(info.logger ?? 'queue')),
      oneLine(String(info.stack ?? info.message)) +
        (task ? ` ${paint(TASK_STYLE, task)}` : '') +
        extras(info),
    ].join(' ');
  });
}
