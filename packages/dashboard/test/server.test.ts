import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { App, type Worker } from '@queue/core';
import {
  Dashboard,
  dashboardPlugin,
  startDashboardServer,
  type RunningDashboard,
  type Snapshot,
  type TaskDetail,
} from '../src';
import { bundleAssets, waitFor } from './helpers';

/**
 * The dashboard's HTTP side on the in-memory broker (events and remote control between the Apps of this
 * process): mounted in a user's own Fastify server under a prefix, the API, the actions and their CSRF
 * guard, auth, the event stream over a real socket, and the management API read from a stand-in server.
 */
jest.setTimeout(30_000);

beforeAll(() => bundleAssets());

const ACTION = { 'x-queue-dashboard': '1', 'content-type': 'application/json' };

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * Real HTTP against a listening server (Fastify's inject() cannot run under jest here: light-my-request
 * loads the ESM-only `cookie`).
 */
async function call(
  base: string,
  options: { method?: string; url: string; headers?: Record<string, string>; payload?: unknown },
): Promise<Answer> {
  const body =
    options.payload === undefined
      ? undefined
      : typeof options.payload === 'string'
        ? options.payload
        : JSON.stringify(options.payload);
  const headers = {
    ...(body !== undefined && !options.headers?.['content-type']
      ? { 'content-type': 'application/json' }
      : {}),
    ...options.headers,
  };
  const response = await fetch(`${base}${options.url}`, {
    method: options.method ?? 'GET',
    headers,
    body,
    redirect: 'manual',
  });
  const text = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: text,
    json: <T>() => JSON.parse(text) as T,
  };
}

describe('mounted in a Fastify app under a prefix', () => {
  const broker = `memory://dash-${randomUUID()}`;
  const app = new App({ name: 'dash-test', broker, workerSendTaskEvents: true, setAsCurrent: false });
  const add = app.task({ name: 'dash.add' }, (a: number, b: number) => a + b);
  const fail = app.task({ name: 'dash.fail' }, (message: string) => {
    throw new TypeError(message);
  });
  const halfway = app.task({ name: 'dash.halfway', bind: true }, async (self, ms: number) => {
    await self.updateState('PROGRESS', { current: 1, total: 2 });
    await self.sleepMs(ms);
    return 'done';
  });
  let worker: Worker;
  let server: FastifyInstance;
  let base = '';
  const inject = (options: Parameters<typeof call>[1] | string) =>
    call(base, typeof options === 'string' ? { url: options } : options);

  beforeAll(async () => {
    worker = app.worker({ concurrency: 4, hostname: 'ts-dash@test' });
    await worker.start();
    server = Fastify();
    server.get('/health', async () => ({ ok: true }));
    await server.register(dashboardPlugin, {
      prefix: '/ops/queues',
      app,
      dashboardOptions: { inspectIntervalMs: 300, queueIntervalMs: 300, controlTimeoutMs: 150 },
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await server.close();
    await app.close({ timeoutMs: 1000 });
  });

  const snapshot = async (): Promise<Snapshot> =>
    (await inject({ url: '/ops/queues/api/snapshot' })).json<Snapshot>();

  it('serves the page at <prefix>/ with a strict CSP, and leaves the host app alone', async () => {
    const bare = await inject({ url: '/ops/queues' });
    expect(bare.statusCode).toBe(308);
    expect(bare.headers.location).toBe('/ops/queues/');
    const page = await inject({ url: '/ops/queues/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(page.body).toContain('src="./app.js"');
    const script = await inject({ url: '/ops/queues/app.js' });
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body.length).toBeGreaterThan(1000);
    const health = await inject({ url: '/health' });
    expect(health.json()).toEqual({ ok: true });
    expect(health.headers['content-security-policy']).toBeUndefined();
  });

  it('shows the worker and its tasks from events and inspect replies', async () => {
    const ok = await add.delay(2, 3);
    const bad = await fail.delay('<b>nope</b>');
    await waitFor(async () => {
      const { tasks, workers } = await snapshot();
      const states = new Map(tasks.map((task) => [task.id, task.state]));
      return (
        states.get(ok.id) === 'SUCCESS' &&
        states.get(bad.id) === 'FAILURE' &&
        workers.some((w) => w.hostname === 'ts-dash@test' && w.concurrency === 4)
      );
    });
    const { workers, info } = await snapshot();
    expect(workers.find((w) => w.hostname === 'ts-dash@test')).toMatchObject({
      online: true,
      swIdent: 'queue-ts',
      pool: 'async',
      concurrency: 4,
      queues: ['celery'],
    });
    expect(workers[0]!.registered).toEqual(expect.arrayContaining(['dash.add', 'dash.fail']));
    expect(info).toMatchObject({ progress: true, queueSource: 'broker', maxTasks: 10_000 });
    const detail = (await inject({ url: `/ops/queues/api/tasks/${bad.id}` })).json<TaskDetail>();
    expect(detail).toMatchObject({ name: 'dash.fail', state: 'FAILURE', worker: 'ts-dash@test' });
    expect(detail.exception).toContain('<b>nope</b>'); // JSON carries it as is: the page sets it as text
    expect(detail.traceback).toContain('TypeError');
    expect(detail.history.map((step) => step.state)).toEqual(['RECEIVED', 'STARTED', 'FAILURE']);
    const missing = await inject({ url: `/ops/queues/api/tasks/${randomUUID()}` });
    expect(missing.statusCode).toBe(404);
  });

  it('reads PROGRESS from the result backend, and terminates a running task from a POST', async () => {
    const running = await halfway.delay(20_000);
    await waitFor(async () => (await snapshot()).tasks.some((t) => t.id === running.id && t.progress === 50));
    const refused = await inject({
      method: 'POST',
      url: `/ops/queues/api/tasks/${running.id}/revoke`,
      payload: { terminate: true },
    });
    expect(refused.statusCode).toBe(403);
    const answer = await inject({
      method: 'POST',
      url: `/ops/queues/api/tasks/${running.id}/revoke`,
      headers: ACTION,
      payload: { terminate: true },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      ok: true,
      replies: { 'ts-dash@test': { ok: `terminate: ${running.id}` } },
    });
    await waitFor(async () =>
      (await snapshot()).tasks.some((t) => t.id === running.id && t.state === 'REVOKED'),
    );
    const detail = (await inject({ url: `/ops/queues/api/tasks/${running.id}` })).json<TaskDetail>();
    expect(detail.terminated).toBe(true);
  });

  it('guards the actions: header, JSON, known worker, sane input', async () => {
    const url = '/ops/queues/api/workers/ts-dash@test/pool';
    const textPlain = await inject({
      method: 'POST',
      url,
      headers: { 'x-queue-dashboard': '1', 'content-type': 'text/plain' },
      payload: '{"delta":1}',
    });
    expect(textPlain.statusCode).toBe(403);
    const crossSite = await inject({
      method: 'POST',
      url,
      headers: { ...ACTION, 'sec-fetch-site': 'cross-site' },
      payload: { delta: 1 },
    });
    expect(crossSite.statusCode).toBe(403);
    const unknown = await inject({
      method: 'POST',
      url: '/ops/queues/api/workers/nobody@x/pool',
      headers: ACTION,
      payload: { delta: 1 },
    });
    expect(unknown.statusCode).toBe(404);
    const badDelta = await inject({ method: 'POST', url, headers: ACTION, payload: { delta: 0 } });
    expect(badDelta.statusCode).toBe(400);
    const grown = await inject({ method: 'POST', url, headers: ACTION, payload: { delta: 1 } });
    expect(grown.json()).toMatchObject({ ok: true, replies: { 'ts-dash@test': { ok: 'pool will grow' } } });
    await waitFor(async () =>
      (await snapshot()).workers.some((w) => w.hostname === 'ts-dash@test' && w.concurrency === 5),
    );
    const get = await inject({ method: 'GET', url: '/ops/queues/api/tasks/x/revoke' });
    expect(get.statusCode).toBe(404); // actions are POST only
  });
});

describe('standalone, with auth', () => {
  const broker = `memory://dash-auth-${randomUUID()}`;
  const app = new App({ name: 'dash-auth', broker, setAsCurrent: false });
  let running: RunningDashboard | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(() => app.close({ timeoutMs: 0 }));

  it('with a token: the shell is public, the data and actions need the token', async () => {
    running = await startDashboardServer({ app, port: 0, auth: { token: 'let-me-in-123' } });
    const page = await fetch(running.url);
    expect(page.status).toBe(200);
    const data = await fetch(`${running.url}api/snapshot`);
    expect(data.status).toBe(401);
    expect(data.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const withToken = await fetch(`${running.url}api/snapshot`, {
      headers: { authorization: 'Bearer let-me-in-123' },
    });
    expect(withToken.status).toBe(200);
    const wrong = await fetch(`${running.url}api/snapshot`, {
      headers: { authorization: 'Bearer let-me-in-124' },
    });
    expect(wrong.status).toBe(401);
    const action = await fetch(`${running.url}api/tasks/abc/revoke`, {
      method: 'POST',
      headers: ACTION,
      body: '{}',
    });
    expect(action.status).toBe(401);
  });

  it('with basic auth: everything asks for it; a foreign Host header is refused', async () => {
    running = await startDashboardServer({
      app,
      port: 0,
      prefix: '/flower',
      auth: { basic: { username: 'ops', password: 'pw' } },
    });
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/flower\/$/);
    const page = await fetch(running.url);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const basic = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
    expect((await fetch(running.url, { headers: { authorization: basic } })).status).toBe(200);
    const rebound = await rawGet(running.url, { host: 'attacker.example', authorization: basic });
    expect(rebound).toBe(421);
  });
});

describe('the event stream over a real socket', () => {
  const broker = `memory://dash-sse-${randomUUID()}`;
  const app = new App({ name: 'dash-sse', broker, workerSendTaskEvents: true, setAsCurrent: false });
  const add = app.task({ name: 'sse.add' }, (a: number, b: number) => a + b);
  let running: RunningDashboard;

  beforeAll(async () => {
    await app.worker({ hostname: 'sse@test' }).start();
    running = await startDashboardServer({ app, port: 0, controlTimeoutMs: 100 });
  });
  afterAll(async () => {
    await running.close();
    await app.close({ timeoutMs: 1000 });
  });

  it('sends a snapshot, then the changes; closing the server ends the stream', async () => {
    const response = await fetch(`${running.url}api/stream`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: Array<{ event: string; data: unknown }> = [];
    let buffer = '';
    const readUntil = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        if (Date.now() > deadline)
          throw new Error(`stream: not seen in time; got ${events.map((e) => e.event)}`);
        const { value, done: ended } = await reader.read();
        if (ended) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    };
    await readUntil(() => events.length > 0);
    expect(events[0]!.event).toBe('snapshot');
    const result = await add.delay(1, 2);
    await readUntil(() =>
      events.some(
        (e) =>
          e.event === 'tasks' &&
          (e.data as { updated: Array<{ id: string; state: string }> }).updated.some(
            (t) => t.id === result.id && t.state === 'SUCCESS',
          ),
      ),
    );
    const closing = running.close();
    await readUntil(() => false); // returns when the server ends the stream
    await closing;
  });
});

describe('queue numbers from the RabbitMQ management API', () => {
  const broker = `memory://dash-mgmt-${randomUUID()}`;
  const app = new App({ name: 'dash-mgmt', broker, setAsCurrent: false });
  let api: Server;
  let status = 200;
  const seen: IncomingHttpHeaders[] = [];
  const paths: string[] = [];

  beforeAll(async () => {
    api = createServer((request, response) => {
      seen.push(request.headers);
      paths.push(request.url ?? '');
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify([
          {
            name: 'emails',
            messages: 12,
            consumers: 2,
            message_stats: { publish_details: { rate: 3.5 }, deliver_get_details: { rate: 2 } },
          },
          { name: 'idle', messages: 0, consumers: 0 },
          { name: 'w1@host.celery.pidbox', messages: 0, consumers: 1 },
          { name: 'celeryev.0c1d', messages: 0, consumers: 1 },
        ]),
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => api.close(resolve));
    await app.close({ timeoutMs: 0 });
  });

  it('shows every work queue with its rates, and falls back to the broker when the API fails', async () => {
    const port = (api.address() as AddressInfo).port;
    const dashboard = new Dashboard(app, {
      managementUrl: `http://guest:guest@127.0.0.1:${port}`,
      queueIntervalMs: 100,
      inspectIntervalMs: 60_000,
      controlTimeoutMs: 50,
      queues: ['celery'],
    });
    await app.sendTask('anything', [], {}, { queue: 'celery' }); // something for the broker fallback to read
    await dashboard.start();
    try {
      await waitFor(() => dashboard.queues().length === 2);
      expect(dashboard.info().queueSource).toBe('management');
      expect(dashboard.queues()[0]).toMatchObject({
        name: 'emails',
        messages: 12,
        consumers: 2,
        publishRate: 3.5,
        deliverRate: 2,
      });
      expect(paths[0]).toMatch(/^\/api\/queues\/%2F\?columns=/);
      expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('guest:guest').toString('base64')}`);
      status = 503;
      await waitFor(() => dashboard.info().queueSource === 'broker');
      await waitFor(() => dashboard.queues().some((queue) => queue.name === 'celery'));
      expect(dashboard.queues().find((queue) => queue.name === 'celery')).toMatchObject({
        messages: 1,
        publishRate: null,
      });
    } finally {
      await dashboard.stop();
    }
  });
});

/** A GET with headers fetch will not let us set (Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path: pathname, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}
