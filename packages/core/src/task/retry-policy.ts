import { errorClassChain, Retry, TaskValidationError, TimeLimitExceeded } from '../errors';
import type { CompiledTaskOptions, ErrorClass } from './options';

/** The options that decide retries. */
export type RetryPolicy = Pick<
  CompiledTaskOptions,
  | 'maxRetries'
  | 'autoretryFor'
  | 'dontAutoretryFor'
  | 'retryBackoff'
  | 'retryBackoffMax'
  | 'retryJitter'
  | 'defaultRetryDelay'
>;

/**
 * Seconds to wait before retry number `retries + 1` when no countdown/ETA was given:
 * exponential backoff `min(max, base·2^retries)` (with full jitter: uniform in [0, delay]) when
 * `retryBackoff` is on, else `defaultRetryDelay`. Pure: `random` is injectable for tests.
 */
export function retryDelaySeconds(
  options: Pick<RetryPolicy, 'retryBackoff' | 'retryBackoffMax' | 'retryJitter' | 'defaultRetryDelay'>,
  retries: number,
  random: () => number = Math.random,
): number {
  if (options.retryBackoff <= 0) return options.defaultRetryDelay;
  const delay = Math.min(options.retryBackoffMax, options.retryBackoff * 2 ** retries);
  return options.retryJitter ? Math.floor(random() * (delay + 1)) : delay;
}

/** Whether an error should be retried automatically: `autoretryFor` matches (subclasses too) and `dontAutoretryFor` doesn't. */
export function shouldAutoretry(
  options: Pick<RetryPolicy, 'autoretryFor' | 'dontAutoretryFor'>,
  error: unknown,
): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // Errors rebuilt from another thread are plain Errors carrying their original class names.
  const chain = errorClassChain(error);
  const matches = (cls: ErrorClass): boolean => error instanceof cls || chain.includes(cls.name);
  if (options.dontAutoretryFor.some(matches)) return false;
  return options.autoretryFor.some(matches);
}

/** Whether a failed run goes again, when, and with which error recorded for the RETRY state. */
export type RetryDecision = { retry: false } | { retry: true; when: number; exc: Error | undefined };

/**
 * The retry decision for a run that ended in `error` after `retries` retries: an explicit `this.retry()`
 * (a `Retry`) is honoured as thrown (the task checked `maxRetries` itself); otherwise the error is retried
 * when `autoretryFor` matches and retries remain, never for invalid arguments or a hard time limit. Pure:
 * `now` and `random` are injectable.
 */
export function decideRetry(
  error: Error,
  policy: RetryPolicy,
  retries: number,
  now: number = Date.now(),
  random: () => number = Math.random,
): RetryDecision {
  if (error instanceof Retry) return { retry: true, when: error.when, exc: error.exc };
  if (error instanceof TaskValidationError || error instanceof TimeLimitExceeded) return { retry: false };
  if (retries >= policy.maxRetries || !shouldAutoretry(policy, error)) return { retry: false };
  return { retry: true, when: now + retryDelaySeconds(policy, retries, random) * 1000, exc: error };
}
