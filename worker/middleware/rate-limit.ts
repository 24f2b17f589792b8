import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import type { RateLimitDecision } from "../durable/rate-limiter.ts";
import { ApiError } from "../errors.ts";

export const RATE_LIMIT_WINDOW_MS = 60_000;

/** Counts one request against `key` and sets the X-RateLimit headers; throws 429 over the limit. */
export async function consumeRateLimit(c: Context<AppEnv>, key: string, limit: number): Promise<void> {
  applyRateLimitDecision(c, await c.env.RATE_LIMITER.getByName(key).hit(limit, RATE_LIMIT_WINDOW_MS));
}

/** Sets the X-RateLimit headers of a decision; throws 429 when it refused the request. */
export function applyRateLimitDecision(c: Context<AppEnv>, decision: RateLimitDecision): void {
  const headers = {
    "X-RateLimit-Limit": String(decision.limit),
    "X-RateLimit-Remaining": String(decision.remaining),
  };
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  if (!decision.allowed) {
    const retryAfter = String(Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000)));
    throw new ApiError(429, `Rate limit of ${decision.limit} requests a minute exceeded: retry after ${retryAfter} s.`, {
      headers: { ...headers, "Retry-After": retryAfter },
    });
  }
}
