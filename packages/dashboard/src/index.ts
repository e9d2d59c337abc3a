/**
 * `@queue/dashboard`: a live page for a fleet of workers, ours and Celery's (Flower-class). Workers, tasks
 * (with PROGRESS from the result backend), queues and throughput, fed by Celery's events and remote control,
 * pushed to the browser as Server-Sent Events. Run it with `queue dashboard`, start it from code with
 * `startDashboardServer`, or mount `dashboardPlugin` in your own Fastify server.
 *
 * @example
 * ```ts
 * import { App } from '@queue/core';
 * import { startDashboardServer } from '@queue/dashboard';
 *
 * const app = new App({ name: 'ops', broker: 'amqp://guest:guest@127.0.0.1:5672//', resultBackend: 'redis://127.0.0.1:6379/0' });
 * const running = await startDashboardServer({ app, port: 5555, auth: { token: process.env.DASHBOARD_TOKEN } });
 * console.log(running.url);
 * ```
 *
 * @module \@queue/dashboard
 */
export { Dashboard, type DashboardEvents } from './dashboard';
export {
  compileDashboardOptions,
  parseBasicAuth,
  DEFAULT_DASHBOARD_OPTIONS,
  type CompiledDashboardOptions,
  type DashboardAuth,
  type DashboardOptions,
} from './options';
export { DashboardOptionsError, DashboardUnsupportedError, ManagementApiError } from './errors';
export { DashboardAssetsError } from './server/assets';
export { dashboardPlugin, type DashboardPluginOptions } from './server/plugin';
export {
  startDashboardServer,
  type DashboardServerOptions,
  type RunningDashboard,
} from './server/standalone';
export type {
  ActionResult,
  DashboardInfo,
  Json,
  QueueSample,
  QueueView,
  Snapshot,
  StreamMessages,
  TaskChanges,
  TaskDetail,
  TaskStep,
  TaskSummary,
  ThroughputSeries,
  ThroughputTick,
  WorkerView,
} from './wire';
