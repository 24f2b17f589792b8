import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { unauthorized } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import type { CachedPrincipal, RateLimiter } from "../durable/rate-limiter.ts";
import { looksLikeApiKey, principalFromApiKeyHash, principalFromClaims, verifyAccessToken } from "../services/accounts.ts";
import { apiKeyRateKey, sessionRateKey } from "../services/credential-cache.ts";
import type { Principal } from "../services/principal.ts";
import { authSettings, rateLimitPerMinute } from "../settings.ts";
import { applyRateLimitDecision, consumeRateLimit, RATE_LIMIT_WINDOW_MS } from "./rate-limit.ts";
import { clientIp } from "./request-context.ts";

/**
 * Reads the credential of a request: `x-api-key: <key>`, or `Authorization: Bearer <access token
 * | API key>`. Where `allowQueryToken` is set (SSE endpoints: a browser EventSource cannot send
 * headers) an `access_token` query parameter is accepted too.
 */
export function credentialOf(c: Context<AppEnv>, allowQueryToken = false): string | undefined {
  const apiKey = c.req.header("x-api-key");
  if (apiKey) return apiKey.trim();
  const authorization = c.req.header("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized("The Authorization header must be `Bearer <token>`.");
    return match[1];
  }
  if (!allowQueryToken) return undefined;
  const queryToken = c.req.query("access_token");
  // Only short-lived access tokens: a long-lived API key in a URL ends up in proxy logs and history.
  if (queryToken && looksLikeApiKey(queryToken))
    throw unauthorized("API keys are not accepted in the URL: send them as `x-api-key` or `Authorization: Bearer`.");
  return queryToken ?? undefined;
}

/** How long the per-credential object keeps a principal; revocations `forget` it at once. */
const PRINCIPAL_CACHE_MS = 60_000;

/** Resolves a credential's principal (through the per-credential cache) without counting a request. */
export async function resolvePrincipal(c: Context<AppEnv>, credential: string): Promise<Principal> {
  return authenticate(c, credential, null);
}

/**
 * A credential's principal. Its bucket is known before the database is asked (an access token's
 * session id once its signature checks out; an API key's hash), and that bucket's object both
 * counts the request and holds the principal it last resolved: in steady state one Durable
 * Object call and no database read. On a miss the database answers and the object remembers.
 */
async function authenticate(c: Context<AppEnv>, credential: string, limit: number | null): Promise<Principal> {
  let rateKey: string;
  let load: () => Promise<CachedPrincipal>;
  let usable: (entry: CachedPrincipal) => boolean;
  if (looksLikeApiKey(credential)) {
    const keyHash = await sha256Hex(credential);
    rateKey = apiKeyRateKey(keyHash);
    load = () => principalFromApiKeyHash(c.var.db, keyHash, (work) => c.executionCtx.waitUntil(work.catch(() => undefined)));
    usable = (entry) => !entry.expiresAt || entry.expiresAt > new Date().toISOString();
  } else {
    const claims = await verifyAccessToken(authSettings(c.env), credential);
    rateKey = sessionRateKey(claims.sid);
    load = async () => ({ principal: await principalFromClaims(c.var.db, claims), expiresAt: null });
    usable = (entry) => entry.principal.userId === claims.sub;
  }
  const limiter = c.env.RATE_LIMITER.getByName(rateKey);
  const { cached, generation } = limit === null ? await limiter.lookup() : await countRequest(c, limiter, limit);
  if (cached && usable(cached)) return cached.principal;
  const fresh = await load();
  await limiter.remember(fresh, generation, PRINCIPAL_CACHE_MS);
  return fresh.principal;
}

async function countRequest(c: Context<AppEnv>, limiter: DurableObjectStub<RateLimiter>, limit: number) {
  const { decision, ...rest } = await limiter.authorize(limit, RATE_LIMIT_WINDOW_MS);
  applyRateLimitDecision(c, decision);
  return rest;
}

/** Requires a valid credential and sets `principal`; answers 401 otherwise. */
export function requireAuth(options: { allowQueryToken?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    if (!c.var.principal) {
      const credential = credentialOf(c, options.allowQueryToken);
      if (!credential) throw unauthorized();
      c.set("principal", await resolvePrincipal(c, credential));
    }
    await next();
  };
}

/**
 * Sets `principal` when a credential is present (401 if it is not valid), and counts the request
 * against the credential's rate limit — or the client address's when there is none.
 */
export function authenticateAndLimit(): MiddlewareHandler<AppEnv> {
  return async function authenticateAndLimit(c, next) {
    const limit = rateLimitPerMinute(c.env);
    const credential = credentialOf(c);
    if (!credential) {
      await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, limit);
    } else {
      c.set("principal", await authenticate(c, credential, limit));
    }
    await next();
  };
}
