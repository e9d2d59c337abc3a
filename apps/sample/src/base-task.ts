import { BaseTask, getTaskLogger, type ExceptionInfo, type Logger } from '@queue/core';

/** Stands in for Python's ConnectionError: never worth an automatic retry. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
}

/**
 * The application's base task, as in the seed: defaults as class fields, a per-class logger made in the
 * constructor, and failure/success hooks that log what happened. RangeError and TypeError play the parts
 * of Python's IndexError and ValueError.
 */
export abstract class AppBaseTask<A extends unknown[], R> extends BaseTask<A, R> {
  override ignoreResult = false;
  override trackStarted = true;
  override defaultRetryDelay = 5;
  override maxRetries = 3;
  override autoretryFor = [RangeError, TypeError];
  override dontAutoretryFor = [ConnectionLostError];
  override timeLimit = 10;
  override softTimeLimit = 8;

  protected readonly log: Logger;

  constructor() {
    super();
    this.log = getTaskLogger(this.constructor.name);
  }

  override onFailure(
    exc: Error,
    taskId: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    einfo: ExceptionInfo,
  ) {
    this.log.error(
      `task failed: id=${taskId} args=${JSON.stringify(args)} kwargs=${JSON.stringify(kwargs)} error=${exc.name}: ${exc.message}`,
      { traceback: einfo.traceback },
    );
  }

  override onSuccess(retval: R, taskId: string, args: unknown[], kwargs: Record<string, unknown>) {
    this.log.info(
      `task succeeded: id=${taskId} args=${JSON.stringify(args)} kwargs=${JSON.stringify(kwargs)} result=${JSON.stringify(retval)}`,
    );
  }
}
