import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { ConfigurationError } from '@queue/core/transport';
/** A RabbitMQ queue type: `classic` (one node), or `quorum` (replicated across a cluster). */
export type QueueType = 'classic' | 'quorum';
/** Which broker a (re)connect tries first when several URLs are given. */
export type FailoverStrategy = 'round-robin' | 'in-order';

/** TLS settings for `amqps://`, passed to Node's `tls.connect`. */
export interface AmqpTlsOptions {
  /** Certificate authorities to trust (PEM), instead of Node's bundled ones. @default Node's trusted CAs */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM), for brokers that authenticate clients by certificate. @default none */
  cert?: string | Buffer;
  /** The client certificate's private key (PEM). @default none */
  key?: string | Buffer;
  /** Passphrase of `key`. @default none */
  passphrase?: string;
  /** Server name for SNI and the certificate check. @default the URL's host name */
  servername?: string;
  /** Refuse a broker whose certificate does not verify against `ca`. @default true */
  rejectUnauthorized?: boolean;
}

/** `transportOptions` understood by the `amqp://` transport and the `rpc://` backend. */
export interface AmqpTransportOptions {
  /**
   * Declare arguments for task queues, by queue name; `'*'` applies to queues not listed. E.g.
   * `{ '*': { 'x-queue-type': 'quorum' }, urgent: { 'x-max-priority': 10 } }`. @default none (as Celery 5)
   */
  queueArguments?: Record<string, Record<string, unknown>>;
  /**
   * Type of the task queues this App declares, as Celery 5.5's `task_default_queue_type`. `quorum` queues
   * are replicated across a RabbitMQ cluster and survive the loss of a node; they get a delivery limit and
   * dead-letter to `<queue>.dlq` (see `deliveryLimit`). @default 'classic'
   */
  queueType?: QueueType;
  /** Per-queue override of `queueType`, e.g. `{ reports: 'quorum' }`. @default `{}` */
  queueTypes?: Record<string, QueueType>;
  /**
   * Quorum queues: deliveries of one message (crashes or requeues included) after which RabbitMQ
   * dead-letters it to `<queue>.dlq` instead of delivering it again (`x-delivery-limit`). @default 20
   */
  deliveryLimit?: number;
  /**
   * With several `;`-separated broker URLs: `round-robin` moves to the next broker after a loss (Celery's
   * default); `in-order` always tries the first one first. @default 'round-robin'
   */
  failoverStrategy?: FailoverStrategy;
  /**
   * Publishes that may wait at once for a reconnect or for a broker alarm to clear (each up to
   * `publishTimeoutMs`); beyond that a publish fails at once, so memory stays bounded. @default 1000
   */
  maxWaitingPublishes?: number;
  /** TLS settings, used with `amqps://` URLs. @default `{}` (Node's defaults) */
  tls?: AmqpTlsOptions;
  /**
   * Shown as the connection's name in RabbitMQ's management UI and `rabbitmqctl list_connections`.
   * @default 'queue <pid>'
   */
  connectionName?: string;
  /** AMQP heartbeat, seconds (0 disables). @default 60 */
  heartbeatSeconds?: number;
  /** How long the first connection may take, retries included, before `connect()` fails. @default 15000 */
  connectTimeoutMs?: number;
  /**
   * How long a publish may wait for a reconnect, an alarm to clear and the broker's confirm before it
   * rejects (`BrokerUnavailableError`, `BrokerBlockedError`, `PublishTimeoutError`). @default 15000
   */
  publishTimeoutMs?: number;
  /** First reconnect delay; doubles up to `reconnectMaxDelayMs`, with jitter. @default 100 */
  reconnectInitialDelayMs?: number;
  /** Longest pause between reconnect attempts (a returning broker is seen within it). @default 2000 */
  reconnectMaxDelayMs?: number;
  /** Queue type of the broker-side delay levels (`quorum` for clusters, as Celery 5.5). @default queueType */
  delayedQueueType?: QueueType;
  /** Expiry of the rpc reply queue once unused (`x-expires`, as Celery's `result_expires`). @default 1 day */
  resultExpiresMs?: number;
  /** States kept for tasks nobody follows yet (results that arrive before they are asked for). @default 10000 */
  resultCacheSize?: number;
}

class TlsSchema {
  @IsOptional() ca?: unknown;
  @IsOptional() cert?: unknown;
  @IsOptional() key?: unknown;
  @IsOptional() @IsString() passphrase?: string;
  @IsOptional() @IsString() servername?: string;
  @IsOptional() @IsBoolean() rejectUnauthorized?: boolean;
}

class AmqpOptionsSchema {
  @IsOptional() @IsObject() queueArguments?: Record<string, Record<string, unknown>>;
  @IsOptional() @IsIn(['classic', 'quorum']) queueType?: QueueType;
  @IsOptional() @IsObject() queueTypes?: Record<string, QueueType>;
  @IsOptional() @IsInt() @Min(1) deliveryLimit?: number;
  @IsOptional() @IsIn(['round-robin', 'in-order']) failoverStrategy?: FailoverStrategy;
  @IsOptional() @IsInt() @Min(1) maxWaitingPublishes?: number;
  @IsOptional() @ValidateNested() tls?: TlsSchema;
  @IsOptional() @IsString() connectionName?: string;
  @IsOptional() @IsInt() @Min(0) @Max(3600) heartbeatSeconds?: number;
  @IsOptional() @IsInt() @Min(1) connectTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) publishTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) reconnectInitialDelayMs?: number;
  @IsOptional() @IsInt() @Min(1) reconnectMaxDelayMs?: number;
  @IsOptional() @IsIn(['classic', 'quorum']) delayedQueueType?: 'classic' | 'quorum';
  @IsOptional() @IsInt() @Min(1000) resultExpiresMs?: number;
  @IsOptional() @IsInt() @Min(1) resultCacheSize?: number;
}

/**
 * {@link AmqpTransportOptions} with every default filled in, as the transport uses them (`tls` is `{}`,
 * `connectionName` and `delayedQueueType` stay undefined when not given).
 */
export type CompiledAmqpOptions = Required<
  Omit<AmqpTransportOptions, 'tls' | 'connectionName' | 'delayedQueueType'>
> & {
  /** See {@link AmqpTransportOptions.tls}. */
  tls: AmqpTlsOptions;
  /** See {@link AmqpTransportOptions.connectionName}; undefined: `queue <pid>`. */
  connectionName: string | undefined;
  /** See {@link AmqpTransportOptions.delayedQueueType}; undefined: `queueType`. */
  delayedQueueType: QueueType | undefined;
};

/** The default of every {@link AmqpTransportOptions} setting. */
export const DEFAULT_AMQP_OPTIONS: CompiledAmqpOptions = Object.freeze({
  queueArguments: {},
  tls: {},
  connectionName: undefined,
  heartbeatSeconds: 60,
  connectTimeoutMs: 15_000,
  publishTimeoutMs: 15_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 2_000,
  queueType: 'classic',
  queueTypes: {},
  deliveryLimit: 20,
  failoverStrategy: 'round-robin',
  maxWaitingPublishes: 1000,
  delayedQueueType: undefined,
  resultExpiresMs: 86_400_000,
  resultCacheSize: 10_000,
});

function describe(errors: readonly ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}).map((text) => `${prefix}${error.property}: ${text}`),
    ...describe(error.children ?? [], `${prefix}${error.property}.`),
  ]);
}

/** @throws ConfigurationError naming each bad option. */
export function compileAmqpOptions(options: Readonly<Record<string, unknown>>): CompiledAmqpOptions {
  const schema = Object.assign(new AmqpOptionsSchema(), options);
  if (options.tls && typeof options.tls === 'object')
    schema.tls = Object.assign(new TlsSchema(), options.tls);
  const errors = validateSync(schema, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new ConfigurationError(`Invalid transportOptions for amqp: ${describe(errors).join(', ')}`);
  }
  const given = options as AmqpTransportOptions;
  const compiled = { ...DEFAULT_AMQP_OPTIONS };
  for (const key of Object.keys(DEFAULT_AMQP_OPTIONS) as Array<keyof CompiledAmqpOptions>) {
    if (given[key] !== undefined) Object.assign(compiled, { [key]: given[key] });
  }
  checkQueueTypes(compiled);
  return Object.freeze(compiled);
}

/** Per-queue types are valid, and no queue asks quorum for what quorum queues cannot do. */
function checkQueueTypes(options: CompiledAmqpOptions): void {
  const invalid = (what: string) => new ConfigurationError(`Invalid transportOptions for amqp: ${what}`);
  for (const [queue, type] of Object.entries(options.queueTypes)) {
    if (type !== 'classic' && type !== 'quorum') {
      throw invalid(`queueTypes.${queue} must be 'classic' or 'quorum', got ${JSON.stringify(type)}`);
    }
  }
  for (const [queue, args] of Object.entries(options.queueArguments)) {
    const declared = args['x-queue-type'];
    if (declared !== undefined && declared !== 'classic' && declared !== 'quorum') {
      throw invalid(`queueArguments[${JSON.stringify(queue)}]: x-queue-type must be 'classic' or 'quorum'`);
    }
    const explicit = options.queueTypes[queue];
    if (declared !== undefined && explicit !== undefined && declared !== explicit) {
      throw invalid(
        `queue ${JSON.stringify(queue)} is '${explicit}' in queueTypes but '${String(declared)}' in queueArguments`,
      );
    }
    if (queueTypeOf(options, queue) === 'quorum' && args['x-max-priority'] !== undefined) {
      throw invalid(
        `queue ${JSON.stringify(queue)} is a quorum queue, which takes no x-max-priority (on RabbitMQ 4 quorum queues have two levels: priority 5 and above is high)`,
      );
    }
  }
}

/** The declared arguments of task queue `queue` (`queueArguments[queue]`, else `queueArguments['*']`). */
export function queueArgumentsOf(options: CompiledAmqpOptions, queue: string): Record<string, unknown> {
  return options.queueArguments[queue] ?? options.queueArguments['*'] ?? {};
}

/** The type of task queue `queue`: `queueTypes[queue]`, else an `x-queue-type` argument, else `queueType`. */
export function queueTypeOf(options: CompiledAmqpOptions, queue: string): QueueType {
  return (
    options.queueTypes[queue] ??
    (queueArgumentsOf(options, queue)['x-queue-type'] as QueueType | undefined) ??
    options.queueType
  );
}
