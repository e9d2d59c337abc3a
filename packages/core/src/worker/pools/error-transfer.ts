import {
  Ignore,
  isError,
  Reject,
  setErrorClassChain,
  Retry,
  SoftTimeLimitExceeded,
  TaskValidationError,
  TimeLimitExceeded,
  type ValidationIssue,
} from '../../errors';

/** An error as it crosses a thread boundary (class instances do not survive structured cloning). */
export interface TransferredError {
  name: string;
  message: string;
  stack?: string;
  /** Class names from the error's class up to Error, so `autoretryFor` can match subclasses by name. */
  classChain: string[];
  retry?: { when: number; exc?: TransferredError };
  reject?: { reason: string; requeue: boolean };
  issues?: readonly ValidationIssue[];
  seconds?: number;
}

function classChainOf(error: object): string[] {
  const chain: string[] = [];
  for (
    let proto = Object.getPrototypeOf(error);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name) chain.push(name);
  }
  return chain;
}

export function transferError(value: unknown): TransferredError {
  const error = isError(value) ? value : new Error(String(value));
  const transferred: TransferredError = {
    name: error.name,
    message: error.message,
    stack: error.stack,
    classChain: classChainOf(error),
  };
  if (error instanceof Retry)
    transferred.retry = { when: error.when, exc: error.exc && transferError(error.exc) };
  if (error instanceof Reject) transferred.reject = { reason: error.reason, requeue: error.requeue };
  if (error instanceof TaskValidationError) transferred.issues = error.issues;
  if (error instanceof SoftTimeLimitExceeded || error instanceof TimeLimitExceeded)
    transferred.seconds = error.seconds;
  return transferred;
}

/** Rebuilds an error on the worker's side: the framework's own control-flow errors as their real classes. */
export function rebuildError(data: TransferredError, taskName: string): Error {
  let error: Error;
  if (data.retry)
    error = new Retry(
      data.message,
      data.retry.exc && rebuildError(data.retry.exc, taskName),
      data.retry.when,
    );
  else if (data.reject) error = new Reject(data.reject.reason, data.reject.requeue);
  else if (data.name === 'Ignore') error = new Ignore(data.message);
  else if (data.issues) error = new TaskValidationError(taskName, data.issues);
  else if (data.name === 'SoftTimeLimitExceeded') error = new SoftTimeLimitExceeded(data.seconds ?? 0);
  else if (data.name === 'TimeLimitExceeded') error = new TimeLimitExceeded(data.seconds ?? 0);
  else {
    error = new Error(data.message);
    error.name = data.name;
  }
  if (data.stack) error.stack = data.stack;
  setErrorClassChain(error, data.classChain);
  return error;
}
