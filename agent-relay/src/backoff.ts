export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base·2^attempt)). Full
 * jitter spreads a fleet of agents that all lost their connection at once (every Durable Object
 * deploy does that) instead of having them reconnect in lockstep.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = RECONNECT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
