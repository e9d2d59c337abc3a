import { isError, SoftTimeLimitExceeded, TimeLimitExceeded } from '../../errors';

/**
 * Resolves with the body's outcome, or rejects with TimeLimitExceeded at the hard limit (the body is
 * abandoned). At the soft limit `controller` aborts with SoftTimeLimitExceeded, which the body may catch.
 */
export function withTimeLimits<T>(
  body: () => Promise<T>,
  controller: AbortController,
  hardSeconds: number | null,
  softSeconds: number | null,
): Promise<T> {
  if (hardSeconds === null && softSeconds === null) return body();
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

/** Node APIs reject with an AbortError whose cause is the signal's reason; report the reason itself. */
export function abortReason(error: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted || !isError(error)) return error;
  if (error === signal.reason) return error;
  if (error.name === 'AbortError' || error.cause === signal.reason) return signal.reason;
  return error;
}
