import { createHash, timingSafeEqual } from 'node:crypto';
import type { DashboardAuth } from '../options';

/** The header every state-changing request must carry: a page on another origin cannot set it (CORS). */
export const ACTION_HEADER = 'x-queue-dashboard';

/** Compares secrets in constant time (hashing first evens out the lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether an `Authorization` header satisfies `auth` (basic credentials or the bearer token). */
export function authorized(header: string | undefined, auth: DashboardAuth): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2) as [string, string?];
  if (auth.token && /^bearer$/i.test(scheme)) return sameSecret(value, auth.token);
  if (auth.basic && /^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Both compared, always: no early exit tells which one was wrong.
    const user = sameSecret(decoded.slice(0, colon), auth.basic.username);
    const password = sameSecret(decoded.slice(colon + 1), auth.basic.password);
    return user && password;
  }
  return false;
}

/** The `WWW-Authenticate` challenge: Basic makes the browser ask; Bearer leaves it to the page. */
export function challenge(auth: DashboardAuth): string {
  return auth.basic ? 'Basic realm="queue dashboard", charset="UTF-8"' : 'Bearer realm="queue dashboard"';
}

/**
 * Why a state-changing request must be refused, or undefined when it may go on: it must be a JSON POST
 * carrying ACTION_HEADER (a cross-site form or image cannot; a cross-site fetch would need a CORS preflight
 * that is never granted), and not marked cross-site by the browser.
 */
export function csrfProblem(headers: Record<string, string | string[] | undefined>): string | undefined {
  if (headers[ACTION_HEADER] !== '1') return `the ${ACTION_HEADER}: 1 header is missing`;
  const type = String(headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) return 'the body must be application/json';
  if (headers['sec-fetch-site'] === 'cross-site') return 'cross-site requests are refused';
  return undefined;
}

/** Host names always allowed for a server bound to a loopback address (DNS-rebinding guard). */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1', '[::1]'];

/** `Host: name:port` → `name` (IPv6 literals keep their brackets). */
export function hostnameOf(host: string | undefined): string {
  if (!host) return '';
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return match ? match[1]! : '';
}
