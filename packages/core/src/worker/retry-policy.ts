import type { CompiledTaskOptions, ErrorClass } from '../task/options';
import { transferredClassChain } from './pools/error-transfer';

/**
 * Seconds to wait before retry number `retries + 1` when no countdown/ETA was given:
 * exponential backoff `min(max, base·2^retries)` (with full jitter: uniform in [0, delay]) when
 * `retryBackoff` is on, else `defaultRetryDelay`. Pure: `random` is injectable for tests.
 */
export function retryDelaySeconds(
  options: Pick<
    CompiledTaskOptions,
    'retryBackoff' | 'retryBackoffMax' | 'retryJitter' | 'defaultRetryDelay'
  >,
  retries: number,
  random: () => number = Math.random,
): number {
  if (options.retryBackoff <= 0) return options.defaultRetryDelay;
  const delay = Math.min(options.retryBackoffMax, options.retryBackoff * 2 ** retries);
  return options.retryJitter ? Math.floor(random() * (delay + 1)) : delay;
}

/** Whether an error should be retried automatically: `autoretryFor` matches (subclasses too) and `dontAutoretryFor` doesn't. */
export function shouldAutoretry(
  options: Pick<CompiledTaskOptions, 'autoretryFor' | 'dontAutoretryFor'>,
  error: unknown,
): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // Errors rebuilt from another thread are plain Errors carrying their original class names.
  const chain = transferredClassChain(error);
  const matches = (cls: ErrorClass): boolean => error instanceof cls || chain.includes(cls.name);
  if (options.dontAutoretryFor.some(matches)) return false;
  return options.autoretryFor.some(matches);
}
