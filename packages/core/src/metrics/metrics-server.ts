import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { QueueError } from '../errors';

/** Where the metrics are served. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (read it back from `port`). */
  port: number;
  /** Address to listen on; `0.0.0.0` (or `::`) lets other machines scrape. @default '127.0.0.1' */
  host?: string;
  /** Path that answers with the metrics; any other path is a 404. @default '/metrics' */
  path?: string;
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port/path` */
  readonly url: string;
  /** The port it listens on (the chosen one when asked for 0). */
  readonly port: number;
  /** Stops listening and closes open scrape connections. */
  close(): Promise<void>;
}

/** The metrics endpoint could not listen (port in use, address not on this machine, no permission). */
export class MetricsServerError extends QueueError {
  override readonly code = 'METRICS_SERVER_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsServerError';
  }
}

async function answer(
  registry: Registry,
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://metrics');
  if (url.pathname !== path) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  try {
    const text = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(request.method === 'HEAD' ? undefined : text);
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`);
  }
}

/**
 * Serves `registry` over HTTP (`GET /metrics`, Prometheus' text format). The server does not keep the
 * process alive by itself: a worker does, until it stops.
 * @throws MetricsServerError when it cannot listen.
 */
export async function serveMetrics(
  registry: Registry,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/metrics';
  const server = createServer((request, response) => void answer(registry, path, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MetricsServerError(
          `cannot serve metrics on ${host}:${options.port}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${path}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
