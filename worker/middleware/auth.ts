import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { unauthorized } from "../errors.ts";
import { looksLikeApiKey, principalFromAccessToken, principalFromApiKey } from "../services/accounts.ts";
import type { Principal } from "../services/principal.ts";
import { authSettings } from "../settings.ts";

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
  if (queryToken && looksLikeApiKey(queryToken)) throw unauthorized("API keys are not accepted in the URL: send them as `x-api-key` or `Authorization: Bearer`.");
  return queryToken ?? undefined;
}

export async function resolvePrincipal(c: Context<AppEnv>, credential: string): Promise<Principal> {
  if (looksLikeApiKey(credential)) {
    return principalFromApiKey(c.var.db, credential, (work) => c.executionCtx.waitUntil(work.catch(() => undefined)));
  }
  return principalFromAccessToken(c.var.db, authSettings(c.env), credential);
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

/** Sets `principal` when a credential is present and valid; leaves it unset when absent. */
export function optionalAuth(): MiddlewareHandler<AppEnv> {
  return async function optionalAuth(c, next) {
    const credential = credentialOf(c);
    if (credential) c.set("principal", await resolvePrincipal(c, credential));
    await next();
  };
}
