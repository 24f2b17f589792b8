import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { unauthorized } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { looksLikeApiKey, principalFromApiKey, principalFromClaims, verifyAccessToken } from "../services/accounts.ts";
import type { Principal } from "../services/principal.ts";
import { authSettings, rateLimitPerMinute } from "../settings.ts";
import { consumeRateLimit } from "./rate-limit.ts";
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

export async function resolvePrincipal(c: Context<AppEnv>, credential: string): Promise<Principal> {
  return (await identify(c, credential)).principal;
}

/**
 * What a credential's rate-limit bucket is, known before the database is asked (an access
 * token's session id once its signature checks out; an API key's hash), and the principal
 * lookup itself — so the two can run side by side.
 */
export async function identify(c: Context<AppEnv>, credential: string): Promise<{ rateKey: string; principal: Promise<Principal> }> {
  if (looksLikeApiKey(credential)) {
    const rateKey = `key:${(await sha256Hex(credential)).slice(0, 32)}`;
    return {
      rateKey,
      principal: principalFromApiKey(c.var.db, credential, (work) => c.executionCtx.waitUntil(work.catch(() => undefined))),
    };
  }
  const claims = await verifyAccessToken(authSettings(c.env), credential);
  return { rateKey: `session:${claims.sid}`, principal: principalFromClaims(c.var.db, claims) };
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
 * against the credential's rate limit — or the client address's when there is none. The limit's
 * Durable Object and the session lookup run side by side: one round trip fewer per request.
 */
export function authenticateAndLimit(): MiddlewareHandler<AppEnv> {
  return async function authenticateAndLimit(c, next) {
    const limit = rateLimitPerMinute(c.env);
    const credential = credentialOf(c);
    if (!credential) {
      await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, limit);
    } else {
      const { rateKey, principal } = await identify(c, credential);
      const [resolved] = await Promise.all([principal, consumeRateLimit(c, rateKey, limit)]);
      c.set("principal", resolved);
    }
    await next();
  };
}
