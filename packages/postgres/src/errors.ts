import { TransportError } from '@queue/core/transport';
import type { PostgresSettings } from './settings';

/** SQLSTATE of the server ending a session (terminated, shut down, crash recovery). */
const SESSION_ENDED_CODES = new Set(['57P01', '57P02', '57P03']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when a command failed because the connection it was sent on had died (the server ended the session,
 * the socket was reset), not because of the command: sending it again on a fresh connection may succeed.
 * Connection attempts that fail (refused, timed out, login refused) are not such errors.
 */
export function isLostConnection(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (SESSION_ENDED_CODES.has(code) || code === 'ECONNRESET' || code === 'EPIPE')) {
    return true;
  }
  const message = isErrorLike(error) ? error.message : '';
  return /Connection terminated unexpectedly|Client has encountered a connection error/.test(message);
}

/** `undefined_table`: the tables were dropped after this process created or found them. */
export function isMissingTable(error: unknown): boolean {
  return codeOf(error) === '42P01';
}

interface ErrorLike {
  message: string;
  name?: unknown;
  errors?: unknown;
}

/** Duck-typed: errors made in another realm (Node's socket errors seen from a vm sandbox) fail `instanceof`. */
function isErrorLike(error: unknown): error is ErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as ErrorLike).message === 'string';
}

/** What went wrong, in one line: the server's message and SQLSTATE, or the socket errors of every address tried. */
export function describeError(error: unknown): string {
  if (!isErrorLike(error)) return String(error);
  if (!error.message && Array.isArray(error.errors) && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  const code = codeOf(error);
  const text = error.message || (typeof error.name === 'string' ? error.name : 'unknown error');
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * A failed command or connection as a TransportError naming the backend (password masked) and what was being
 * done; the original error is its `cause`.
 */
export function backendError(
  settings: PostgresSettings,
  doing: string,
  error: unknown,
  hint = '',
): TransportError {
  let detail = `${hint}${describeError(error)}`;
  // pg never puts the password in its messages; this keeps it so if a layer below ever did.
  if (settings.password.length >= 4) detail = detail.split(settings.password).join('****');
  return new TransportError(`PostgreSQL result backend ${settings.displayUrl}: ${doing} failed: ${detail}`, {
    cause: error,
  });
}
