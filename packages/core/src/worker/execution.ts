import {
  Ignore,
  isError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TaskValidationError,
  TimeLimitExceeded,
} from '../errors';
import type { Logger } from 'winston';
import { States, type JsonValue, type TaskEnvelope, type TaskState } from '../protocol/message';
import { serializeError, tracebackOf } from '../protocol/result-codec';
import type { ResultBackend } from '../result/result-backend';
import type { BaseTask, ExceptionInfo } from '../task/base-task';
import { bindingOf } from '../task/binding';
import { bindArguments } from '../task/arguments';
import { validateArguments } from '../task/payload-validation';
import { runContext, type DeliveryInfo, type RunContext, type TaskRequest } from '../task/request';
import type { TaskRunner } from './pools/task-runner';
import { retryDelaySeconds, shouldAutoretry } from './retry-policy';

/** What one run ended in; the caller settles the message accordingly. */
export type Outcome =
  | { kind: 'success'; value: unknown }
  | { kind: 'failure'; error: Error }
  | { kind: 'retry' }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: string; requeue: boolean }
  /** The outcome could not be recorded (e.g. a retry could not be sent): give the message back. */
  | { kind: 'requeue'; error: Error };

/** What an execution needs from its worker (or from eager mode). */
export interface ExecutionHost {
  readonly backend: ResultBackend;
  readonly hostname: string;
  readonly logger: Logger;
  /** Where task bodies run (the pool). */
  readonly runner: TaskRunner;
  /** Sends the next attempt of a retried task, due in `delayMs`. */
  scheduleRetry(next: TaskEnvelope, delayMs: number, queue: string): Promise<void>;
}

function toError(value: unknown): Error {
  return isError(value) ? value : new Error(String(value));
}

function exceptionInfo(error: Error): ExceptionInfo {
  return { exception: error, type: error.name, traceback: tracebackOf(error) ?? '' };
}

/** A task body's return value as JSON (what a Celery client can read); undefined becomes null. */
function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Node APIs reject with an AbortError whose cause is the signal's reason; report the reason itself. */
function abortReason(error: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted || !isError(error)) return error;
  if (error === signal.reason) return error;
  if (error.name === 'AbortError' || error.cause === signal.reason) return signal.reason;
  return error;
}

/** Resolves with the body's outcome, or rejects with TimeLimitExceeded at the hard limit (the body is abandoned). */
function withTimeLimits<T>(
  body: () => Promise<T>,
  controller: AbortController,
  hardSeconds: number | null,
  softSeconds: number | null,
): Promise<T> {
  const timers: NodeJS.Timeout[] = [];
  if (softSeconds !== null) {
    timers.push(
      setTimeout(() => controller.abort(new SoftTimeLimitExceeded(softSeconds)), softSeconds * 1000),
    );
  }
  const run = body();
  const limited =
    hardSeconds === null
      ? run
      : Promise.race([
          run,
          new Promise<never>((_, reject) => {
            timers.push(
              setTimeout(() => {
                const error = new TimeLimitExceeded(hardSeconds);
                if (!controller.signal.aborted) controller.abort(error);
                reject(error);
              }, hardSeconds * 1000),
            );
          }),
        ]);
  return limited.finally(() => timers.forEach(clearTimeout));
}

export function buildRequest(
  envelope: TaskEnvelope,
  hostname: string,
  delivery: DeliveryInfo | null,
): TaskRequest {
  return {
    id: envelope.id,
    name: envelope.task,
    args: envelope.args,
    kwargs: envelope.kwargs,
    retries: envelope.retries,
    eta: envelope.eta,
    expires: envelope.expires,
    replyTo: envelope.replyTo,
    correlationId: envelope.correlationId,
    rootId: envelope.rootId,
    parentId: envelope.parentId,
    group: envelope.group,
    hostname,
    origin: envelope.origin,
    ignoreResult: envelope.ignoreResult,
    timelimit: envelope.timelimit,
    headers: envelope.extraHeaders,
    deliveryInfo: delivery,
    calledDirectly: false,
  };
}

/**
 * Runs one task message to its outcome: reports states (unless results are ignored), enforces time limits,
 * validates arguments, decides retries, calls the hooks. Never throws: every error becomes an outcome.
 */
export async function executeTask(
  task: BaseTask,
  envelope: TaskEnvelope,
  delivery: DeliveryInfo | null,
  host: ExecutionHost,
): Promise<Outcome> {
  const binding = bindingOf(task);
  const options = binding.options;
  const ignoreResult = options.ignoreResult || envelope.ignoreResult;
  const target = { taskId: envelope.id, replyTo: envelope.replyTo, correlationId: envelope.correlationId };
  const report = async (
    state: TaskState,
    result: JsonValue,
    traceback: string | null = null,
  ): Promise<void> => {
    if (ignoreResult) return;
    await host.backend.report(target, { taskId: envelope.id, state, result, traceback, children: null });
  };
  const controller = new AbortController();
  const context: RunContext = {
    request: buildRequest(envelope, host.hostname, delivery),
    signal: controller.signal,
    reportState: (state, meta) => report(state, toJson(meta)),
  };
  const args = envelope.args as unknown[];
  const kwargs = envelope.kwargs as Record<string, unknown>;
  const hook = async (name: string, call: () => void | Promise<void>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      host.logger.error(
        `${name} hook of ${envelope.task}[${envelope.id}] raised: ${toError(error).message}`,
        { error },
      );
    }
  };

  return runContext.run(context, async (): Promise<Outcome> => {
    let value: unknown;
    try {
      if (options.trackStarted) await report(States.STARTED, { pid: process.pid, hostname: host.hostname });
      value = await withTimeLimits(
        async () => {
          const positional = bindArguments(options.name, binding.parameterNames, args, kwargs);
          const validated = await validateArguments(options.name, binding.parameterTypes, positional);
          return host.runner.run(task, { validated, plain: positional }, context);
        },
        controller,
        envelope.timelimit[0] ?? options.timeLimit ?? null,
        envelope.timelimit[1] ?? options.softTimeLimit ?? null,
      );
    } catch (thrown) {
      const error = toError(abortReason(thrown, controller.signal));
      if (error instanceof Ignore) return { kind: 'ignored' };
      if (error instanceof Reject) return { kind: 'rejected', reason: error.reason, requeue: error.requeue };
      let retry: Retry | undefined = error instanceof Retry ? error : undefined;
      if (
        !retry &&
        !(error instanceof TaskValidationError) &&
        !(error instanceof TimeLimitExceeded) &&
        envelope.retries < options.maxRetries &&
        shouldAutoretry(options, error)
      ) {
        retry = new Retry(
          'autoretry',
          error,
          Date.now() + retryDelaySeconds(options, envelope.retries) * 1000,
        );
      }
      if (retry) {
        const delayMs = Math.max(0, retry.when - Date.now());
        const next: TaskEnvelope = {
          ...envelope,
          retries: envelope.retries + 1,
          eta: new Date(retry.when).toISOString(),
        };
        try {
          await host.scheduleRetry(next, delayMs, delivery?.routingKey || options.queue || '');
        } catch (sendError) {
          host.logger.error(
            `could not send the retry of ${envelope.task}[${envelope.id}]; giving the message back`,
            {
              error: sendError,
            },
          );
          return { kind: 'requeue', error: toError(sendError) };
        }
        const cause = retry.exc ?? retry;
        await report(
          States.RETRY,
          retry.exc ? (serializeError(retry.exc) as unknown as JsonValue) : null,
          tracebackOf(retry.exc),
        );
        await hook('onRetry', () => task.onRetry(cause, envelope.id, args, kwargs, exceptionInfo(cause)));
        return { kind: 'retry' };
      }
      const einfo = exceptionInfo(error);
      await report(States.FAILURE, serializeError(error) as unknown as JsonValue, einfo.traceback);
      await hook('onFailure', () => task.onFailure(error, envelope.id, args, kwargs, einfo));
      await hook('afterReturn', () =>
        task.afterReturn(States.FAILURE, error, envelope.id, args, kwargs, einfo),
      );
      return { kind: 'failure', error };
    }
    let result: JsonValue;
    try {
      result = toJson(value);
    } catch (error) {
      const failure = new TypeError(
        `the return value of ${envelope.task} is not JSON-serializable: ${toError(error).message}`,
      );
      await report(States.FAILURE, serializeError(failure) as unknown as JsonValue, tracebackOf(failure));
      return { kind: 'failure', error: failure };
    }
    await report(States.SUCCESS, result);
    await hook('onSuccess', () => task.onSuccess(value, envelope.id, args, kwargs));
    await hook('afterReturn', () => task.afterReturn(States.SUCCESS, value, envelope.id, args, kwargs, null));
    return { kind: 'success', value };
  });
}
