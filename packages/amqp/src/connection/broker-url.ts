import type { Options } from 'amqplib';
import { ConfigurationError } from '@queue/core/transport';
import type { AmqpTlsOptions } from '../options';

/** What amqplib needs to open a connection, read from a Celery-style broker URL. */
export interface BrokerAddress {
  /** amqplib's connect options: protocol, host, port, credentials, vhost, heartbeat. */
  connect: Options.Connect;
  /** Passed to `net.connect`/`tls.connect`. */
  socket: Record<string, unknown>;
  /** The URL with its password masked, for logs and banners. */
  displayUrl: string;
}

/** The transport settings a broker address is built with (see {@link AmqpTransportOptions}). */
export type AddressOptions = {
  /** AMQP heartbeat, seconds (0 disables). */
  heartbeatSeconds: number;
  /** TLS settings, used for `amqps://`. */
  tls: AmqpTlsOptions;
  /** The connection's name in RabbitMQ's management UI. @default 'queue <pid>' */
  connectionName?: string | undefined;
};

/**
 * Several brokers for failover, `;`-separated as Celery accepts them
 * (`amqp://h1//;amqp://h2//`): tried in turn at connect time and after a loss.
 */
export function parseBrokerUrls(urls: string, options: AddressOptions): BrokerAddress[] {
  const parts = urls
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new ConfigurationError('the broker URL is empty');
  return parts.map((url) => parseBrokerUrl(url, options));
}

const SCHEMES: Record<string, { protocol: 'amqp' | 'amqps'; port: number }> = {
  'amqp:': { protocol: 'amqp', port: 5672 },
  'pyamqp:': { protocol: 'amqp', port: 5672 },
  'amqps:': { protocol: 'amqps', port: 5671 },
};

/**
 * Parses `amqp://user:pass@host:port/vhost` as kombu does: no path or `/` means vhost `/`, `//` too, and the
 * vhost is percent-decoded (`%2F` is `/`). `pyamqp://` is Celery's spelling of `amqp://`.
 */
export function parseBrokerUrl(url: string, options: AddressOptions): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigurationError(`broker URL ${JSON.stringify(maskPassword(url))} is not a valid URL`, {
      cause: error,
    });
  }
  const scheme = SCHEMES[parsed.protocol];
  if (!scheme)
    throw new ConfigurationError(`broker URL scheme ${parsed.protocol}// is not amqp, amqps or pyamqp`);
  if (!parsed.hostname)
    throw new ConfigurationError(`broker URL ${JSON.stringify(maskPassword(url))} names no host`);
  const path = parsed.pathname.replace(/^\//, '');
  const vhost = path === '' || path === '/' ? '/' : decodeURIComponent(path);
  const username = parsed.username ? decodeURIComponent(parsed.username) : 'guest';
  const password = parsed.password ? decodeURIComponent(parsed.password) : 'guest';
  const port = parsed.port ? Number(parsed.port) : scheme.port;
  const masked = new URL(url);
  if (masked.password) masked.password = '****';
  return {
    connect: {
      protocol: scheme.protocol,
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      username,
      password,
      vhost,
      heartbeat: options.heartbeatSeconds,
    },
    socket: {
      // Nagle's algorithm turns a 0.6 ms round trip into ~40 ms: small AMQP frames must go out at once.
      noDelay: true,
      clientProperties: { connection_name: options.connectionName ?? `queue ${process.pid}` },
      ...(scheme.protocol === 'amqps' ? options.tls : {}),
    },
    displayUrl: masked.toString(),
  };
}

/** A URL that may not parse, with anything between `://user:` and `@` hidden. */
function maskPassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@');
}
