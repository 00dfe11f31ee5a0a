/** Retry policy: exponential backoff, deterministic (the Clock is injected, tests move it). */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** 30 s, 1, 2, 4 … min, capped at 1 h: twelve attempts span about six hours (greylisting, relay outages). */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 12 };

/** Delay before the next attempt, after `attempts` attempts (1 = the first one failed). */
export function backoffMs(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxMs);
}
