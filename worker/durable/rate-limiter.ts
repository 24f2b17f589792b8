import { DurableObject } from "cloudflare:workers";
import type { Principal } from "../services/principal.ts";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the current window ends. */
  resetAt: number;
}

/** A credential's resolved principal, as the middleware last read it from the database. */
export interface CachedPrincipal {
  principal: Principal;
  /** An API key's own expiry (ISO 8601), checked at every use of the cached principal. */
  expiresAt: string | null;
}

export interface AuthorizeResult {
  decision: RateLimitDecision;
  /** The cached principal while it is fresh and not forgotten; null means "ask the database". */
  cached: CachedPrincipal | null;
  /** Hand back to `remember`: a principal read before a `forget` must not be cached after it. */
  generation: string;
}

/**
 * One object per credential (or client address): a fixed-window counter, and for a credential
 * its resolved principal for a short time, so that a steady-state authenticated request is one
 * call to this object and no database read. A Durable Object gives one exact count across all
 * Worker isolates and locations, which the Workers rate-limiting binding (per location,
 * approximate) cannot, and `X-RateLimit-Remaining` needs exact figures.
 *
 * Everything lives in memory: if the object is evicted the window was idle anyway, and the
 * principal is read again from the database. Whatever revokes or changes a credential calls
 * `forget` before it answers; the generation makes a lookup that raced with it harmless.
 */
export class RateLimiter extends DurableObject {
  private windowStart = 0;
  private count = 0;
  private cached: (CachedPrincipal & { until: number }) | null = null;
  // Random, not a counter: after an eviction a stale generation can never match by chance.
  private generation = crypto.randomUUID();

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

  /** Counts the request and hands back the cached principal, if there is a fresh one. */
  authorize(limit: number, windowMs: number): AuthorizeResult {
    return { decision: this.hit(limit, windowMs), ...this.lookup() };
  }

  /** The cached principal without counting a request (credentials checked outside the limit). */
  lookup(): Omit<AuthorizeResult, "decision"> {
    if (this.cached && this.cached.until <= Date.now()) this.cached = null;
    const cached = this.cached ? { principal: this.cached.principal, expiresAt: this.cached.expiresAt } : null;
    return { cached, generation: this.generation };
  }

  /** Caches a principal read from the database, unless `forget` ran since `generation` was handed out. */
  remember(entry: CachedPrincipal, generation: string, ttlMs: number): boolean {
    if (generation !== this.generation) return false;
    this.cached = { ...entry, until: Date.now() + ttlMs };
    return true;
  }

  /** The credential was revoked or its rights changed: the next request reads the database. */
  forget(): void {
    this.cached = null;
    this.generation = crypto.randomUUID();
  }
}
