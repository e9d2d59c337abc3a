import { hostname } from 'node:os';

/**
 * Expands Celery's node-name variables in a worker name (`-n api@%h`): `%h` the host name with its domain,
 * `%n` the host name without it, `%d` the domain, `%%` a percent sign (as `celery worker -n`).
 */
export function expandNodeName(pattern: string, host: string = hostname()): string {
  const dot = host.indexOf('.');
  const values: Record<string, string> = {
    h: host,
    n: dot === -1 ? host : host.slice(0, dot),
    d: dot === -1 ? '' : host.slice(dot + 1),
    '%': '%',
  };
  return pattern.replace(/%([hnd%])/g, (_, key: string) => values[key]!);
}
