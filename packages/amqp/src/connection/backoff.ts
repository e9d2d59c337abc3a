export interface ReconnectPolicy {
  connectTimeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with jitter (50–100% of the step), capped at `maxDelayMs`. */
export function backoffDelay(attempt: number, policy: ReconnectPolicy): number {
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(step * (0.5 + Math.random() / 2));
}
