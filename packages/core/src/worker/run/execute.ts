import { Ignore, isError, Reject, ResultTooLargeError, TaskRevokedError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { States, type JsonValue, type TaskEnvelope } from '../../protocol/message';
import { serializeError } from '../../protocol/result-codec';
import type { ResultBackend } from '../../result/result-backend';
import { bindArguments } from '../../task/arguments';
import type { BaseTask } from '../../task/base-task';
import { bindingOf, type TaskBinding } from '../../task/binding';
import { validateArguments } from '../../task/payload-validation';
import { runContext, type DeliveryInfo, type RunContext, type TaskRequest } from '../../task/request';
import { decideRetry } from '../../task/retry-policy';
import type { TaskTracer } from '../../tracing/task-tracer';
import type { TaskRunner } from '../pools/task-runner';
import { RunHooks } from './hooks';
import { toJson, type RunReport } from './run-report';
import { TerminatedError, type Termination } from './termination';
import { abortReason, withTimeLimits } from './time-limits';
import { hasWorkflow, type Workflow } from './workflow';

/** What one run ended in; the worker settles the message accordingly. */
export type Outcome =
  | { kind: 'success'; value: unknown }
  | { kind: 'failure'; error: Error }
  | { kind: 'retry'; error: Error }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: string; requeue: boolean }
  /** Stopped by `revoke(…, terminate=True)`: REVOKED, never retried. */
  | { kind: 'terminated'; signum: number }
  /** The outcome could not be recorded (e.g. a retry could not be sent): give the message back. */
  | { kind: 'requeue'; error: Error };

/** What an execution needs from its worker (or from eager mode). */
export interface ExecutionHost {
  readonly backend: ResultBackend;
  readonly hostname: string;
  readonly logger: Logger;
  /** Where task bodies run (the pool). */
  readonly runner: TaskRunner;
  /** Time limits (seconds) set for a task at run time (remote control's `time_limit`), if any. */
  timeLimitsOf?(taskName: string): TimeLimits | undefined;
  /** Sends the next attempt of a retried task, due in `delayMs`. */
  scheduleRetry(next: TaskEnvelope, delayMs: number, queue: string): Promise<void>;
  /** Callbacks, chains, errbacks and chords of the messages that carry them. */
  readonly workflow?: Workflow;
  /** Spans around runs, when the App has `tracing: true`. */
  readonly tracer?: TaskTracer;
}

/** A task's hard and soft time limits in seconds; null: none. */
export interface TimeLimits {
  readonly hard: number | null;
  readonly soft: number | null;
}

/** One admitted task message, ready to run. */
export interface Run {
  readonly task: BaseTask;
  readonly envelope: TaskEnvelope;
  readonly delivery: DeliveryInfo | null;
  readonly report: RunReport;
  /**
   * Called once the body has ended (before its outcome is reported): the pool's slot is free again while
   * the result is stored and the message settled, which only the prefetch window bounds.
   */
  readonly bodyEnded?: () => void;
  /** How a worker stops this run when it is revoked with `terminate`. */
  readonly termination?: Termination;
}

const NEVER_ABORTED = new AbortController().signal;

function toError(value: unknown): Error {
  return isError(value) ? value : new Error(String(value));
}

/**
 * Runs one task message to its outcome: run the body (arguments bound and validated, time limits), decide
 * (success, retry, failure, ignore, reject), report the state, call the hooks. Never throws: every error
 * becomes an outcome, except a report the backend refuses (the worker then gives the message back).
 */
export function executeTask(run: Run, host: ExecutionHost): Promise<Outcome> {
  if (!host.tracer) return executeRun(run, host);
  return host.tracer.run(run.envelope, run.delivery, host.hostname, () => executeRun(run, host));
}

async function executeRun(run: Run, host: ExecutionHost): Promise<Outcome> {
  const { task, envelope, report } = run;
  const binding = bindingOf(task);
  // A message's own limits win over the task's (as set at definition, or by the `time_limit` command).
  const limits = host.timeLimitsOf?.(envelope.task) ?? {
    hard: binding.options.timeLimit ?? null,
    soft: binding.options.softTimeLimit ?? null,
  };
  const hardLimit = envelope.timelimit[0] ?? limits.hard;
  const softLimit = envelope.timelimit[1] ?? limits.soft;
  // Only a run with limits, whose body can see `this.signal`, or in another thread (which is told to stop
  // through it) pays for an AbortController.
  const controller =
    hardLimit !== null || softLimit !== null || binding.seesRun || host.runner.kind === 'threads'
      ? new AbortController()
      : undefined;
  const signal = controller?.signal ?? NEVER_ABORTED;
  run.termination?.attach(controller);
  const context: RunContext = {
    request: buildRequest(envelope, host.hostname, run.delivery),
    signal,
    reportState: (state, meta) => report.progress(state, meta),
  };
  const hooks = new RunHooks(task, envelope, host.logger);
  return runContext.run(context, async (): Promise<Outcome> => {
    let value: unknown;
    try {
      if (binding.options.trackStarted) await report.started(host.hostname);
      // Terminated while STARTED was being reported: the body never begins.
      if (run.termination?.reason) throw run.termination.reason;
      const body = () => runBody(task, binding, envelope, context, host.runner);
      const limited = controller ? withTimeLimits(body, controller, hardLimit, softLimit) : body();
      value = await (run.termination ? run.termination.guard(limited) : limited);
    } catch (thrown) {
      run.bodyEnded?.();
      return afterError(toError(abortReason(thrown, signal)), run, binding, hooks, host);
    }
    run.bodyEnded?.();
    const workflow = host.workflow && hasWorkflow(envelope) ? host.workflow : undefined;
    let result: JsonValue;
    try {
      result = toJson(value, report.maxResultBytes);
    } catch (error) {
      const failure =
        error instanceof ResultTooLargeError
          ? error
          : new TypeError(
              `the return value of ${envelope.task} is not JSON-serializable: ${toError(error).message}`,
            );
      return failed(run, failure, hooks, workflow);
    }
    try {
      // As Celery: callbacks and the chain's next step are sent before SUCCESS is stored.
      await workflow?.succeeded(envelope, result);
    } catch (error) {
      return failed(run, toError(error), hooks, workflow);
    }
    await report.success(result);
    await workflow?.partEnded(envelope, States.SUCCESS, result);
    await hooks.succeeded(value);
    return { kind: 'success', value };
  });
}

/** FAILURE for good: stored, then the workflow (chain, errbacks, chord) and the hooks are told. */
async function failed(
  run: Run,
  error: Error,
  hooks: RunHooks,
  workflow: Workflow | undefined,
): Promise<Outcome> {
  await run.report.failure(error);
  if (workflow) {
    await workflow.partEnded(run.envelope, States.FAILURE, serializeError(error));
    await workflow.failed(run.envelope, error);
  }
  await hooks.failed(error);
  return { kind: 'failure', error };
}

/** Binds the message's arguments to the body's parameters, validates them, and runs the body in the pool. */
async function runBody(
  task: BaseTask,
  binding: TaskBinding,
  envelope: TaskEnvelope,
  context: RunContext,
  runner: TaskRunner,
): Promise<unknown> {
  const name = binding.options.name;
  const positional = bindArguments(name, binding.parameterNames, envelope.args, envelope.kwargs);
  const validated = await validateArguments(name, binding.parameterTypes, positional);
  return runner.run(task, { validated, plain: positional }, context);
}

/** A run that threw: ignored, rejected, retried (next attempt sent first) or failed for good. */
async function afterError(
  error: Error,
  run: Run,
  { options }: TaskBinding,
  hooks: RunHooks,
  host: ExecutionHost,
): Promise<Outcome> {
  const { envelope, report, delivery } = run;
  const workflow = host.workflow && hasWorkflow(envelope) ? host.workflow : undefined;
  if (error instanceof TerminatedError) {
    await report.revoked(error.message);
    await workflow?.partEnded(envelope, States.REVOKED, serializeError(new TaskRevokedError(error.message)));
    return { kind: 'terminated', signum: error.signum };
  }
  if (error instanceof Ignore) return { kind: 'ignored' };
  if (error instanceof Reject) return { kind: 'rejected', reason: error.reason, requeue: error.requeue };
  const decision = decideRetry(error, options, envelope.retries);
  if (!decision.retry) return failed(run, error, hooks, workflow);
  const next: TaskEnvelope = {
    ...envelope,
    retries: envelope.retries + 1,
    eta: new Date(decision.when).toISOString(),
  };
  // RETRY is stored before the next attempt exists, so that its states (PROGRESS…) always come after it.
  await report.retry(decision.exc);
  try {
    const delayMs = Math.max(0, decision.when - Date.now());
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
  await hooks.retried(decision.exc ?? error);
  return { kind: 'retry', error: decision.exc ?? error };
}

/** The request a run sees as `this.request`. */
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
