import { DashboardOptionsError } from './errors';

/** Who may use the dashboard. Either credential is enough when both are set. */
export interface DashboardAuth {
  /** HTTP basic auth (the browser asks for it). @default none */
  basic?: {
    /** The user name. */
    username: string;
    /** The password. */
    password: string;
  };
  /**
   * A bearer token, at least 8 characters (the page asks for it once and keeps it for the tab). @default none
   */
  token?: string;
}

/** How the dashboard watches the fleet. Every field is optional. */
export interface DashboardOptions {
  /** Tasks kept in memory (the oldest-updated go first). @default 10000 */
  maxTasks?: number;
  /** Milliseconds between two rounds of `inspect stats/active/registered/active_queues`. @default 5000 */
  inspectIntervalMs?: number;
  /** Milliseconds between two readings of the queues. @default 3000 */
  queueIntervalMs?: number;
  /** Milliseconds to wait for the next remote-control reply. @default 1000 */
  controlTimeoutMs?: number;
  /**
   * The RabbitMQ management API (`http://guest:guest@127.0.0.1:15672`): queue depths, consumers and
   * publish/deliver rates for every queue. Without it, depths come from the broker connection for the
   * queues the workers consume. @default none
   */
  managementUrl?: string;
  /**
   * Queues to show besides those the workers consume (and, without the management API, to read). @default
   * `[]`
   */
  queues?: string[];
  /** Ask the workers to send task events (`enable_events`) each inspection round, as Flower does. @default false */
  enableEvents?: boolean;
  /** Follow running tasks' PROGRESS in the result backend (not possible with rpc://). @default true */
  progress?: boolean;
  /** Running tasks followed in the result backend at once. @default 500 */
  maxFollowed?: number;
  /** Seconds of succeeded/failed history for the throughput chart. @default 900 */
  throughputWindowSeconds?: number;
}

/** The options with defaults filled in and checked; nothing else reads `DashboardOptions`. */
export interface CompiledDashboardOptions {
  /** See {@link DashboardOptions.maxTasks}. */
  readonly maxTasks: number;
  /** See {@link DashboardOptions.inspectIntervalMs}. */
  readonly inspectIntervalMs: number;
  /** See {@link DashboardOptions.queueIntervalMs}. */
  readonly queueIntervalMs: number;
  /** See {@link DashboardOptions.controlTimeoutMs}. */
  readonly controlTimeoutMs: number;
  /** See {@link DashboardOptions.managementUrl}; undefined: none. */
  readonly managementUrl: string | undefined;
  /** See {@link DashboardOptions.queues}: trimmed, without blanks and repeats. */
  readonly queues: readonly string[];
  /** See {@link DashboardOptions.enableEvents}. */
  readonly enableEvents: boolean;
  /** See {@link DashboardOptions.progress}. */
  readonly progress: boolean;
  /** See {@link DashboardOptions.maxFollowed}. */
  readonly maxFollowed: number;
  /** See {@link DashboardOptions.throughputWindowSeconds}. */
  readonly throughputWindowSeconds: number;
}

/** The default of each {@link DashboardOptions} setting that has one. */
export const DEFAULT_DASHBOARD_OPTIONS = {
  /** See {@link DashboardOptions.maxTasks}. */
  maxTasks: 10_000,
  /** See {@link DashboardOptions.inspectIntervalMs}. */
  inspectIntervalMs: 5000,
  /** See {@link DashboardOptions.queueIntervalMs}. */
  queueIntervalMs: 3000,
  /** See {@link DashboardOptions.controlTimeoutMs}. */
  controlTimeoutMs: 1000,
  /** See {@link DashboardOptions.enableEvents}. */
  enableEvents: false,
  /** See {@link DashboardOptions.progress}. */
  progress: true,
  /** See {@link DashboardOptions.maxFollowed}. */
  maxFollowed: 500,
  /** See {@link DashboardOptions.throughputWindowSeconds}. */
  throughputWindowSeconds: 900,
} as const;

function positiveInteger(value: number | undefined, fallback: number, option: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new DashboardOptionsError(`must be a whole number from 1 to ${max}, got ${value}`, option);
  return value;
}

/** Fills in the defaults and refuses values that cannot work. */
export function compileDashboardOptions(options: DashboardOptions = {}): CompiledDashboardOptions {
  const d = DEFAULT_DASHBOARD_OPTIONS;
  const managementUrl = options.managementUrl?.trim() || undefined;
  if (managementUrl !== undefined && !/^https?:\/\/[^/]/i.test(managementUrl))
    throw new DashboardOptionsError('must be an http:// or https:// URL', 'managementUrl');
  const queues = [...new Set((options.queues ?? []).map((queue) => queue.trim()).filter(Boolean))];
  return {
    maxTasks: positiveInteger(options.maxTasks, d.maxTasks, 'maxTasks', 1_000_000),
    inspectIntervalMs: positiveInteger(
      options.inspectIntervalMs,
      d.inspectIntervalMs,
      'inspectIntervalMs',
      3_600_000,
    ),
    queueIntervalMs: positiveInteger(
      options.queueIntervalMs,
      d.queueIntervalMs,
      'queueIntervalMs',
      3_600_000,
    ),
    controlTimeoutMs: positiveInteger(
      options.controlTimeoutMs,
      d.controlTimeoutMs,
      'controlTimeoutMs',
      60_000,
    ),
    managementUrl,
    queues,
    enableEvents: options.enableEvents ?? d.enableEvents,
    progress: options.progress ?? d.progress,
    maxFollowed: positiveInteger(options.maxFollowed, d.maxFollowed, 'maxFollowed', 100_000),
    throughputWindowSeconds: positiveInteger(
      options.throughputWindowSeconds,
      d.throughputWindowSeconds,
      'throughputWindowSeconds',
      86_400,
    ),
  };
}

/** Refuses empty credentials: an empty token would let anyone in who sends `Bearer `. */
export function checkAuth(auth: DashboardAuth | undefined): DashboardAuth | undefined {
  if (!auth) return undefined;
  if (auth.token !== undefined && auth.token.length < 8)
    throw new DashboardOptionsError('must be at least 8 characters', 'token');
  if (auth.basic && (!auth.basic.username || !auth.basic.password))
    throw new DashboardOptionsError('needs a user name and a password (user:pass)', 'basicAuth');
  if (!auth.token && !auth.basic) return undefined;
  return auth;
}

/** `user:pass` (the password may contain colons). */
export function parseBasicAuth(text: string): {
  /** Before the first colon. */
  username: string;
  /** After it. */
  password: string;
} {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1)
    throw new DashboardOptionsError('must look like user:pass', 'basicAuth');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
