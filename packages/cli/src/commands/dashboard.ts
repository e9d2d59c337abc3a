import type * as DashboardModule from '@queue/dashboard';
import type { DashboardAuth } from '@queue/dashboard';
import { clientApp, controlOf, type ClientAppOptions } from '../client-app';
import { eventsOf } from './events';

/** Loaded only by `queue dashboard`: the other commands (a worker's start) do not pay for a web server. */
function loadDashboard(): typeof DashboardModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
  return require('@queue/dashboard') as typeof DashboardModule;
}

export interface DashboardCommandOptions extends ClientAppOptions {
  host: string;
  port: number;
  prefix?: string;
  maxTasks: number;
  basicAuth?: string;
  token?: string;
  managementUrl?: string;
  queues?: string[];
  inspectInterval: number;
  enableEvents?: boolean;
}

function authOf(
  options: DashboardCommandOptions,
  dashboard: typeof DashboardModule,
): DashboardAuth | undefined {
  const auth: DashboardAuth = {};
  if (options.basicAuth) auth.basic = dashboard.parseBasicAuth(options.basicAuth);
  if (options.token) auth.token = options.token;
  return auth.basic || auth.token ? auth : undefined;
}

/**
 * `queue dashboard`: the live fleet page (`@queue/dashboard`) on its own HTTP server, until SIGINT or
 * SIGTERM; then the server and the broker connection close and it exits 0.
 */
export async function runDashboard(options: DashboardCommandOptions): Promise<number> {
  const dashboard = loadDashboard();
  const auth = authOf(options, dashboard);
  const app = await clientApp('dashboard', options);
  const stopHandlers: Array<() => void> = [];
  try {
    eventsOf(app);
    controlOf(app);
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, finish);
      stopHandlers.push(() => process.off(signal, finish));
    }
    const running = await dashboard.startDashboardServer({
      app,
      host: options.host,
      port: options.port,
      prefix: options.prefix,
      auth,
      maxTasks: options.maxTasks,
      managementUrl: options.managementUrl,
      queues: options.queues,
      inspectIntervalMs: Math.max(1, Math.round(options.inspectInterval * 1000)),
      enableEvents: options.enableEvents ?? false,
    });
    const loopback =
      options.host === 'localhost' || options.host === '::1' || options.host.startsWith('127.');
    if (!loopback && !auth)
      process.stderr.write(
        `queue dashboard: warning: listening on ${options.host} without --basic-auth or --token: anyone who reaches it can revoke tasks and stop workers\n`,
      );
    process.stdout.write(`queue dashboard: ${running.url} (broker ${app.transport.displayUrl}) ready.\n`);
    await finished;
    await running.close();
    return 0;
  } finally {
    for (const stop of stopHandlers) stop();
    await app.close({ timeoutMs: 0 });
  }
}
