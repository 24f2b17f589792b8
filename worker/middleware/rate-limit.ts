import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";

const WINDOW_MS = 60_000;

/** Counts one request against `key` and sets the X-RateLimit headers; throws 429 over the limit. */
export async function consumeRateLimit(c: Context<AppEnv>, key: string, limit: number): Promise<void> {
  const stub = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(key));
  const decision = await stub.hit(limit, WINDOW_MS);
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
