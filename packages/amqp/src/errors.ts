import { ConfigurationError, TransportError } from '@queue/core';

/**
 * A queue already exists with other arguments than ours (AMQP 406 PRECONDITION_FAILED). Retrying cannot
 * help, so this is raised at once instead of entering a reconnect loop.
 */
export class QueueDeclarationError extends ConfigurationError {
  override readonly code = 'QUEUE_DECLARATION_ERROR';
  constructor(
    /** The queue whose declaration was refused. */
    readonly queue: string,
    /** The argument that differs (e.g. `x-max-priority`), when the broker names it. */
    readonly argument: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `queue ${JSON.stringify(queue)} already exists with different ${
        argument ? `argument ${JSON.stringify(argument)}` : 'properties'
      } (${detail}); delete it or declare it with the same arguments (transportOptions.queueArguments)`,
      options,
    );
    this.name = 'QueueDeclarationError';
  }
}

/** The broker could not be reached in time (initial connect, or a publish waiting out a reconnect). */
export class BrokerUnavailableError extends TransportError {
  override readonly code = 'BROKER_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
  }
}

/** The broker refused our credentials or vhost: reconnecting with the same settings cannot succeed. */
export class BrokerAccessRefusedError extends TransportError {
  override readonly code = 'BROKER_ACCESS_REFUSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerAccessRefusedError';
  }
}

/** An AMQP error's numeric reply code (amqplib sets `code` on channel/connection errors), if any. */
export function amqpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const PRECONDITION_FAILED = 406;
export const ACCESS_REFUSED = 403;
export const NOT_FOUND = 404;
