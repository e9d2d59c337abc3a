import { workerData } from 'node:worker_threads';
import type { App } from '../../app/app';
import { SoftTimeLimitExceeded } from '../../errors';
import { bindingOf } from '../../task/binding';
import { validateArguments } from '../../task/payload-validation';
import { runContext, type RunContext } from '../../task/request';
import { TerminatedError } from '../run/termination';
import { transferError } from './error-transfer';
import type { DownMessage, ThreadAppModule, ThreadResult, ThreadTask, UpMessage } from './thread-protocol';

/** Loaded once per thread: the worker's App module, whose tasks register themselves here too. */
function loadApp({ module, exportName }: ThreadAppModule): App {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's module, named at run time
  const exports = require(module) as Record<string, unknown>;
  const app = (exportName ? exports[exportName] : (exports.app ?? exports.default)) as App | undefined;
  if (!app || typeof app.getTask !== 'function')
    throw new Error(`${module} exports no App for the threads pool`);
  return app;
}

const app = loadApp(workerData as ThreadAppModule);

/** Runs one task body in this thread; every outcome, errors included, goes back as plain data. */
export default async function runInThread({
  taskName,
  args,
  request,
  port,
}: ThreadTask): Promise<ThreadResult> {
  const controller = new AbortController();
  port.on('message', (message: DownMessage) => {
    if (message.type === 'soft-limit') controller.abort(new SoftTimeLimitExceeded(message.seconds));
    else if (message.type === 'terminate') controller.abort(new TerminatedError(message.signum));
  });
  const context: RunContext = {
    request,
    signal: controller.signal,
    reportState: async (state, meta) => port.postMessage({ type: 'state', state, meta } satisfies UpMessage),
  };
  try {
    const task = app.getTask(taskName);
    const validated = await validateArguments(taskName, bindingOf(task).parameterTypes, args);
    const value = await runContext.run(context, async () => task.run(...validated));
    return { ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) };
  } catch (error) {
    const reason =
      controller.signal.aborted && (error as Error)?.name === 'AbortError' ? controller.signal.reason : error;
    return { ok: false, error: transferError(reason) };
  } finally {
    port.close();
  }
}
