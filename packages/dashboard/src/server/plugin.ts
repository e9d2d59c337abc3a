import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { App } from '@queue/core';
import { Dashboard } from '../dashboard';
import { checkAuth, type DashboardAuth, type DashboardOptions } from '../options';
import { isTaskId } from '../state/task-store';
import type { ApiError } from '../wire';
import { loadAssets } from './assets';
import { authorized, challenge, csrfProblem, hostnameOf } from './auth';
import { PAGE } from './page';
import { StreamHub } from './stream';

/** Options of `dashboardPlugin`: a Dashboard to serve, or an App to make one for (started and stopped with the server). */
export interface DashboardPluginOptions {
  /** A Dashboard you made (and start/stop yourself). @default none: give `dashboard` or `app` */
  dashboard?: Dashboard;
  /**
   * Or the App whose fleet to show: the plugin makes a Dashboard, starts it, and stops it on close. @default
   * none
   */
  app?: App;
  /** With `app`: how the Dashboard watches the fleet. @default `{}` */
  dashboardOptions?: DashboardOptions;
  /** Who may look and act. @default none: anyone who can reach the server (bind it to 127.0.0.1) */
  auth?: DashboardAuth;
  /**
   * Host names (of the `Host` header) the routes answer to; others get 421. Guards a server on a loopback
   * address against DNS rebinding. @default any
   */
  allowedHosts?: string[];
}

/** Security headers of every answer: nothing inline, nothing framed, nothing sniffed, no referrer. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Requests that change something carry at most this much JSON. */
const ACTION_BODY_LIMIT = 1024;

/** The page shell and its assets: public under token auth (the page then asks for the token). */
const SHELL_ROUTES = new Set(['', '/', '/app.js', '/app.css']);

function apiError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  const body: ApiError = { error, message };
  return reply.code(status).send(body);
}

/** The route path below the plugin's prefix (`/dash/app.js` → `/app.js`). */
function routeOf(request: FastifyRequest, prefix: string): string {
  const path = (request.raw.url ?? '').split('?')[0]!;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** `{ terminate: true }` → true; anything but a boolean (or nothing) → false. */
function flag(body: unknown, name: string): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>)[name] === true;
}

function poolDelta(body: unknown): number | undefined {
  const delta =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).delta : undefined;
  return typeof delta === 'number' && Number.isInteger(delta) && delta !== 0 && Math.abs(delta) <= 32
    ? delta
    : undefined;
}

/**
 * The dashboard as a Fastify plugin: mount it in your own server under a prefix.
 *
 * @example
 * ```ts
 * const server = Fastify();
 * await server.register(dashboardPlugin, { prefix: '/ops/queues', app, auth: { token: process.env.DASH_TOKEN } });
 * await server.listen({ port: 3000 }); // http://127.0.0.1:3000/ops/queues/
 * ```
 */
export const dashboardPlugin: FastifyPluginAsync<DashboardPluginOptions> = async (
  fastify: FastifyInstance,
  options: DashboardPluginOptions,
) => {
  const auth = checkAuth(options.auth);
  const owned = !options.dashboard;
  if (!options.dashboard && !options.app) throw new TypeError('dashboardPlugin needs `dashboard` or `app`');
  const dashboard = options.dashboard ?? new Dashboard(options.app!, options.dashboardOptions);
  const assets = loadAssets();
  const prefix = fastify.prefix;
  const allowedHosts = options.allowedHosts
    ? new Set(options.allowedHosts.map((host) => host.toLowerCase()))
    : undefined;
  const hub = new StreamHub(dashboard);

  fastify.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (allowedHosts && !allowedHosts.has(hostnameOf(request.headers.host)))
      return apiError(reply, 421, 'misdirected', 'this host name is not served here');
    if (!auth) return;
    const route = routeOf(request, prefix);
    if (!auth.basic && SHELL_ROUTES.has(route)) return;
    if (authorized(request.headers.authorization, auth)) return;
    reply.header('www-authenticate', challenge(auth));
    return apiError(reply, 401, 'unauthorized', 'log in first');
  });

  fastify.setErrorHandler((error: FastifyError, _request, reply) => {
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      return apiError(reply, error.statusCode, error.code ?? 'bad_request', error.message);
    fastify.log.error(error);
    return apiError(reply, 500, 'internal', 'internal error');
  });

  fastify.addHook('preClose', async () => hub.close());
  if (owned) {
    await dashboard.start();
    fastify.addHook('onClose', async () => dashboard.stop());
  }

  // The page's URLs are relative: it must be served at `<prefix>/`, with the slash.
  fastify.get('/', async (request, reply) => {
    const path = (request.raw.url ?? '/').split('?')[0]!;
    if (!path.endsWith('/')) return reply.redirect(`${path}/`, 308);
    return reply.type('text/html; charset=utf-8').send(PAGE);
  });
  fastify.get('/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(assets.js),
  );
  fastify.get('/app.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(assets.css),
  );

  fastify.get('/api/snapshot', async () => dashboard.snapshot());
  fastify.get('/api/workers', async () => ({ workers: dashboard.workers() }));
  fastify.get('/api/queues', async () => ({
    queues: dashboard.queues(),
    source: dashboard.info().queueSource,
  }));

  fastify.get('/api/stream', async (_request, reply) => {
    reply.hijack(); // a long-lived stream: written by the hub, not by Fastify
    hub.add(reply.raw);
  });

  fastify.get<{ Params: { id: string } }>('/api/tasks/:id', async (request, reply) => {
    const detail = await dashboard.taskDetail(request.params.id);
    if (!detail) return apiError(reply, 404, 'not_found', 'no such task here or in the result backend');
    return detail;
  });

  // ---- actions: POST, JSON, the action header, and the credentials when auth is on ----
  fastify.register(async (actions) => {
    actions.addHook('preHandler', async (request, reply) => {
      const problem = csrfProblem(request.headers);
      if (problem) return apiError(reply, 403, 'forbidden', problem);
    });

    actions.post<{ Params: { id: string } }>(
      '/api/tasks/:id/revoke',
      { bodyLimit: ACTION_BODY_LIMIT },
      async (request, reply) => {
        if (!isTaskId(request.params.id)) return apiError(reply, 400, 'bad_request', 'not a task id');
        return dashboard.revoke(request.params.id, flag(request.body, 'terminate'));
      },
    );

    actions.post<{ Params: { hostname: string } }>(
      '/api/workers/:hostname/shutdown',
      { bodyLimit: ACTION_BODY_LIMIT },
      async (request, reply) => {
        if (!dashboard.hasWorker(request.params.hostname))
          return apiError(reply, 404, 'not_found', 'no such worker');
        return dashboard.shutdownWorker(request.params.hostname);
      },
    );

    actions.post<{ Params: { hostname: string } }>(
      '/api/workers/:hostname/pool',
      { bodyLimit: ACTION_BODY_LIMIT },
      async (request, reply) => {
        if (!dashboard.hasWorker(request.params.hostname))
          return apiError(reply, 404, 'not_found', 'no such worker');
        const delta = poolDelta(request.body);
        if (delta === undefined)
          return apiError(reply, 400, 'bad_request', 'delta must be a whole number from -32 to 32, not 0');
        return dashboard.resizePool(request.params.hostname, delta);
      },
    );
  });
};
