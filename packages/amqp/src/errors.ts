import { ConfigurationError, TransportError } from '@queue/core/transport';

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
  override readonly code: string = 'BROKER_UNAVAILABLE';
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

/**
 * RabbitMQ blocks publishing connections while a memory or disk alarm is in effect (`connection.blocked`):
 * a publish waited for the alarm to clear, or for its confirm, until its publish timeout.
 */
export class BrokerBlockedError extends BrokerUnavailableError {
  override readonly code = 'BROKER_BLOCKED';
  constructor(
    message: string,
    /** The reason RabbitMQ gave (e.g. `low on memory`). */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'BrokerBlockedError';
  }
}

/** The broker did not confirm a publish within the publish timeout (it may still arrive: at-least-once). */
export class PublishTimeoutError extends BrokerUnavailableError {
  override readonly code = 'PUBLISH_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'PublishTimeoutError';
  }
}

/** How a failed connection attempt reads to a user, and whether retrying can help. */
export interface ConnectFailure {
  /** Retrying with the same settings cannot succeed (wrong login or vhost). */
  readonly final: boolean;
  /** What failed and what to check, in one line. */
  readonly text: string;
}

/** Turns amqplib's connect errors into a line that says what to check. */
export function describeConnectFailure(
  error: unknown,
  target: { host: string; port: number; username: string; vhost: string },
): ConnectFailure {
  const message = (error as Error | undefined)?.message ?? String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const where = `${target.host}:${target.port}`;
  if (amqpReplyCode(error) === ACCESS_REFUSED || /ACCESS[-_]REFUSED/.test(message)) {
    return {
      final: true,
      text: `login refused for user ${JSON.stringify(target.username)} (ACCESS_REFUSED): check the user name and password`,
    };
  }
  // RabbitMQ answers connection.open for an unknown or forbidden vhost with connection.close (530 NOT_ALLOWED).
  if (/NOT[-_]ALLOWED|Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return {
      final: true,
      text: `vhost ${JSON.stringify(target.vhost)} refused for user ${JSON.stringify(target.username)} (it does not exist or the user has no permissions on it): check the vhost in the URL (rabbitmqctl list_vhosts)`,
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      final: false,
      text: `nothing listens on ${where} (${message}): is RabbitMQ running, on this host and port?`,
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      final: false,
      text: `host ${JSON.stringify(target.host)} not found (${message}): check the host name`,
    };
  }
  if (/ETIMEDOUT|timed? ?out/i.test(message) || code === 'ETIMEDOUT') {
    return { final: false, text: `no answer from ${where} (${message}): check the host, port and firewall` };
  }
  if (/closed abruptly|ECONNRESET|EPIPE/.test(message)) {
    return {
      final: false,
      text: `${where} closed the connection during the AMQP handshake (${message}): is it a RabbitMQ AMQP port (TLS needs amqps://), and does the broker accept connections (connection limits, alarms)?`,
    };
  }
  return { final: false, text: `${message}: check that RabbitMQ runs at ${where}` };
}

/** An AMQP error's numeric reply code (amqplib sets `code` on channel/connection errors), if any. */
export function amqpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const PRECONDITION_FAILED = 406;
export const ACCESS_REFUSED = 403;
export const NOT_FOUND = 404;
