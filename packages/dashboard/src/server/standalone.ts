import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '@queue/core';
import { Dashboard } from '../dashboard';
import { DashboardOptionsError } from '../errors';
import { checkAuth, type DashboardAuth, type DashboardOptions } from '../options';
import { LOOPBACK_HOSTS } from './auth';
import { dashboardPlugin } from './plugin';

/** Options of `startDashboardServer`. */
export interface DashboardServerOptions extends DashboardOptions {
  /** The App whose fleet to show (its broker, and its result backend for progress). */
  app: App;
  /** Address to listen on; anything but loopback makes the dashboard reachable from other machines. @default '127.0.0.1' */
  host?: string;
  /** Port (0: any free one). @default 5555 */
  port?: number;
  /** Path the dashboard is served under (`/flower` → http://host:port/flower/). @default '' */
  prefix?: string;
  /** Who may look and act. @default none: anyone who can reach the server (keep it on 127.0.0.1) */
  auth?: DashboardAuth;
}

/** A dashboard serving HTTP. */
export interface RunningDashboard {
  /** Where it answers (`http://127.0.0.1:5555/`). */
  readonly url: string;
  /** The dashboard behind it (its state, its events). */
  readonly dashboard: Dashboard;
  /** The Fastify server (add routes of your own, or hooks). */
  readonly server: FastifyInstance;
  /** Stops the server and the dashboard (the App stays open). */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function normalisePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return '';
  if (!/^\/[\w\-./~]*$/.test(prefix))
    throw new DashboardOptionsError('must be a path such as /flower', 'prefix');
  return prefix.replace(/\/+$/, '');
}

/**
 * Starts the dashboard on its own HTTP server (what `queue dashboard` runs). On a loopback address it
 * answers only to loopback host names, so a web page cannot reach it through DNS rebinding.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  const { app, host = '127.0.0.1', port = 5555, prefix, auth, ...dashboardOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new DashboardOptionsError(`must be a port number, got ${port}`, 'port');
  const checkedAuth = checkAuth(auth);
  const path = normalisePrefix(prefix);
  const dashboard = new Dashboard(app, dashboardOptions);
  const server = Fastify({ logger: false, bodyLimit: 16 * 1024, forceCloseConnections: true });
  const allowedHosts = isLoopback(host) ? [...LOOPBACK_HOSTS, host] : undefined;
  await server.register(dashboardPlugin, { prefix: path, dashboard, auth: checkedAuth, allowedHosts });
  try {
    await dashboard.start();
    await server.listen({ host, port });
  } catch (error) {
    await dashboard.stop();
    await server.close();
    throw error;
  }
  const address = server.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}${path}/`,
    dashboard,
    server,
    async close() {
      await server.close();
      await dashboard.stop();
    },
  };
}
