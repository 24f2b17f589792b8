import { DurableObject } from "cloudflare:workers";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the current window ends. */
  resetAt: number;
}

/**
 * One object per credential (or client address): a fixed-window counter. A Durable Object gives
 * one exact count across all Worker isolates and locations, which the Workers rate-limiting
 * binding (per location, approximate) cannot, and `X-RateLimit-Remaining` needs exact figures.
 * The window lives in memory: if the object is evicted the window was idle anyway.
 */
export class RateLimiter extends DurableObject {
  private windowStart = 0;
  private count = 0;

  hit(limit: number, windowMs: number): RateLimitDecision {
    const now = Date.now();
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    const allowed = this.count < limit;
    if (allowed) this.count++;
    return { allowed, limit, remaining: Math.max(0, limit - this.count), resetAt: this.windowStart + windowMs };
  }
}
