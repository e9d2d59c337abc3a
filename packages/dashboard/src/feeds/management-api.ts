import { ManagementApiError } from '../errors';
import type { QueueReading } from '../state/queue-store';

/** Management API answers bigger than this are refused (a vhost with very many queues). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 3000;

/** kombu's reading of a broker URL's vhost: no path, `/` or `//` mean `/`; the rest is percent-decoded. */
export function vhostOf(brokerUrl: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(brokerUrl.split(/[?#]/)[0]!);
  const path = (match?.[1] ?? '').slice(1);
  return path === '' || path === '/' ? '/' : decodeURIComponent(path);
}

/**
 * Queues that are plumbing, not work: pidbox mailboxes and replies, event receivers, server-named ones, and
 * the delay levels of `@queue/amqp`'s delayed delivery (`celery_delayed_<n>`).
 */
export function isInternalQueue(name: string): boolean {
  return (
    name.endsWith('.celery.pidbox') ||
    /^celery_delayed_\d+$/.test(name) ||
    name.startsWith('celeryev.') ||
    name.startsWith('amq.gen-') ||
    /^[0-9a-f-]{36}$/i.test(name) // rpc:// reply queues and other uuid-named private queues
  );
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function field(value: Json | undefined, ...path: string[]): Json | undefined {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}

function numberOrNull(value: Json | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The RabbitMQ management API's queue list (`GET /api/queues/<vhost>`): depth, consumers and message
 * rates of every queue of the broker's vhost. Credentials come from the URL and go in a header (fetch
 * refuses URLs that carry them).
 */
export class ManagementApi {
  private readonly base: string;
  private readonly authorization: string | undefined;
  /** The URL with its password masked, for messages. */
  readonly displayUrl: string;

  constructor(
    url: string,
    private readonly vhost: string,
  ) {
    const parsed = new URL(url);
    this.authorization =
      parsed.username || parsed.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
        : undefined;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed.toString().replace(/\/+$/, '');
    this.displayUrl = this.authorization ? this.base.replace('://', '://***@') : this.base;
  }

  /** Every queue of the vhost, plumbing left out. */
  async queues(): Promise<QueueReading[]> {
    const columns = [
      'name',
      'messages',
      'consumers',
      'message_stats.publish_details.rate',
      'message_stats.deliver_get_details.rate',
    ].join(',');
    const body = await this.get(`/api/queues/${encodeURIComponent(this.vhost)}?columns=${columns}`);
    if (!Array.isArray(body))
      throw new ManagementApiError(`${this.displayUrl}: /api/queues is not a list`, 200);
    return body.flatMap((queue): QueueReading[] => {
      const name = field(queue, 'name');
      if (typeof name !== 'string' || isInternalQueue(name)) return [];
      return [
        {
          name,
          messages: numberOrNull(field(queue, 'messages')),
          consumers: numberOrNull(field(queue, 'consumers')),
          publishRate: numberOrNull(field(queue, 'message_stats', 'publish_details', 'rate')) ?? 0,
          deliverRate: numberOrNull(field(queue, 'message_stats', 'deliver_get_details', 'rate')) ?? 0,
        },
      ];
    });
  }

  private async get(path: string): Promise<Json> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        headers: {
          accept: 'application/json',
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new ManagementApiError(`${this.displayUrl} unreachable: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ManagementApiError(
        `${this.displayUrl}${path.split('?')[0]} answered ${response.status}`,
        response.status,
      );
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BODY_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new ManagementApiError(`${this.displayUrl}: answer too large (${length} bytes)`, response.status);
    }
    const text = await response.text();
    if (text.length > MAX_BODY_BYTES)
      throw new ManagementApiError(`${this.displayUrl}: answer too large`, response.status);
    try {
      return JSON.parse(text) as Json;
    } catch (error) {
      throw new ManagementApiError(`${this.displayUrl}: answer is not JSON`, response.status, {
        cause: error,
      });
    }
  }
}
