import type { Options } from 'amqplib';
import { ConfigurationError } from '@queue/core';
import type { AmqpTlsOptions } from '../options';

/** What amqplib needs to open a connection, read from a Celery-style broker URL. */
export interface BrokerAddress {
  connect: Options.Connect;
  /** Passed to `net.connect`/`tls.connect`. */
  socket: Record<string, unknown>;
  /** The URL with its password masked, for logs and banners. */
  displayUrl: string;
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
export function parseBrokerUrl(
  url: string,
  options: { heartbeatSeconds: number; tls: AmqpTlsOptions; connectionName?: string | undefined },
): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigurationError(`broker URL ${JSON.stringify(url)} is not a valid URL`, { cause: error });
  }
  const scheme = SCHEMES[parsed.protocol];
  if (!scheme)
    throw new ConfigurationError(`broker URL scheme ${parsed.protocol}// is not amqp, amqps or pyamqp`);
  if (!parsed.hostname) throw new ConfigurationError(`broker URL ${JSON.stringify(url)} names no host`);
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
