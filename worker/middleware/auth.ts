import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError, unauthorized } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import type { CachedPrincipal, RateLimiter } from "../durable/rate-limiter.ts";
import { looksLikeApiKey, principalFromApiKeyHash, principalFromClaims, verifyAccessToken } from "../services/accounts.ts";
import { apiKeyRateKey, sessionRateKey } from "../services/credential-cache.ts";
import type { Principal } from "../services/principal.ts";
import * as browserSessions from "../services/browser-sessions.ts";
import type { BrowserClaims } from "../services/tokens.ts";
import { authSettings, browserRateLimitPerMinute, rateLimitPerMinute } from "../settings.ts";
import { checkCookieRequest, clearSessionCookies, sessionCookieOf, setSessionCookies } from "./browser-session.ts";
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
async function authenticate(c: Context<AppEnv>, credential: string | BrowserClaims, limit: number | null): Promise<Principal> {
  let rateKey: string;
  let load: () => Promise<CachedPrincipal>;
  let usable: (entry: CachedPrincipal) => boolean;
  if (typeof credential !== "string") {
    // A browser's cookie names a session like an access token does: same bucket, same cache, so
    // a logout or revocation (which forgets the bucket) ends it on the very next request.
    const claims = credential;
    rateKey = sessionRateKey(claims.sid);
    load = async () => ({ principal: await principalFromClaims(c.var.db, claims), expiresAt: null });
    usable = (entry) => entry.principal.userId === claims.sub;
  } else if (looksLikeApiKey(credential)) {
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

/**
 * Authenticates a request by its `pier_session` cookie: the request must come from the dashboard
 * (and carry the CSRF token if it changes something), then counts like a bearer request of the
 * same session. Once the answer is ready, a session past half its life gets a fresh cookie.
 */
async function authenticateCookie(c: Context<AppEnv>, token: string, limit: number, next: () => Promise<void>): Promise<void> {
  const settings = authSettings(c.env);
  let claims: Awaited<ReturnType<typeof browserSessions.verifyBrowserToken>>;
  try {
    claims = await browserSessions.verifyBrowserToken(settings, token);
    await checkCookieRequest(c, claims.sid);
    c.set("principal", await authenticate(c, claims, limit));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    // An ended or expired session: the browser drops the cookies, and the request goes on
    // anonymous (signing in again, the first-run check), while protected routes answer why.
    clearSessionCookies(c);
    c.set("credentialProblem", err);
    if (!c.var.principal) await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, limit);
    return next();
  }
  await next();
  if (c.res.status === 401) return;
  const extended = await browserSessions.extend(c.var.db, settings, claims);
  if (extended) setSessionCookies(c, extended);
}

/** Requires a valid credential and sets `principal`; answers 401 otherwise. */
export function requireAuth(options: { allowQueryToken?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    if (!c.var.principal) {
      const credential = credentialOf(c, options.allowQueryToken);
      if (!credential) throw c.var.credentialProblem ?? unauthorized();
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
    // A header credential wins over the cookie: scripts and the CLI never need the CSRF dance.
    const cookie = credential ? undefined : sessionCookieOf(c);
    if (cookie) return authenticateCookie(c, cookie, browserRateLimitPerMinute(c.env), next);
    if (!credential) {
      await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, limit);
    } else {
      c.set("principal", await authenticate(c, credential, limit));
    }
    await next();
  };
}
