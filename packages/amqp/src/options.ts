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
import { ConfigurationError } from '@queue/core';

/** TLS settings for `amqps://`, passed to Node's `tls.connect`. */
export interface AmqpTlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  servername?: string;
  /** @default true */
  rejectUnauthorized?: boolean;
}

/** `transportOptions` understood by the `amqp://` transport and the `rpc://` backend. */
export interface AmqpTransportOptions {
  /**
   * Declare arguments for task queues, by queue name; `'*'` applies to queues not listed. E.g.
   * `{ '*': { 'x-queue-type': 'quorum' }, urgent: { 'x-max-priority': 10 } }`. @default none (as Celery 5)
   */
  queueArguments?: Record<string, Record<string, unknown>>;
  tls?: AmqpTlsOptions;
  /** Shown as the connection's name in RabbitMQ's management UI and `rabbitmqctl list_connections`. */
  connectionName?: string;
  /** AMQP heartbeat, seconds (0 disables). @default 60 */
  heartbeatSeconds?: number;
  /** How long the first connection may take, retries included, before `connect()` fails. @default 15000 */
  connectTimeoutMs?: number;
  /** How long a publish may wait for a reconnect before it rejects. @default 15000 */
  publishTimeoutMs?: number;
  /** First reconnect delay; doubles up to `reconnectMaxDelayMs`, with jitter. @default 100 */
  reconnectInitialDelayMs?: number;
  /** @default 5000 */
  reconnectMaxDelayMs?: number;
  /** Queue type of the broker-side delay levels (`quorum` for clusters, as Celery 5.5). @default 'classic' */
  delayedQueueType?: 'classic' | 'quorum';
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

export type CompiledAmqpOptions = Required<Omit<AmqpTransportOptions, 'tls' | 'connectionName'>> & {
  tls: AmqpTlsOptions;
  connectionName: string | undefined;
};

export const DEFAULT_AMQP_OPTIONS: CompiledAmqpOptions = Object.freeze({
  queueArguments: {},
  tls: {},
  connectionName: undefined,
  heartbeatSeconds: 60,
  connectTimeoutMs: 15_000,
  publishTimeoutMs: 15_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
  delayedQueueType: 'classic',
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
  return Object.freeze(compiled);
}
