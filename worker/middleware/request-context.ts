import type { Context, MiddlewareHandler } from "hono";
import { createDatabase } from "../db/client.ts";
import type { AppEnv } from "../env.ts";
import type { LoginGuards } from "../services/accounts.ts";
import { credentialCache } from "../services/credential-cache.ts";
import { loginThrottle } from "../services/login-throttle.ts";
import { loginThrottleSettings } from "../settings.ts";
import type { Actor } from "../services/principal.ts";
import { errorLogFields } from "../db/errors.ts";

/**
 * Gives every request an id (echoed as `X-Request-Id`), a database client built from its
 * bindings, and one structured log line when it ends. The log line carries no headers, bodies or
 * query strings, so tokens and secrets never reach the logs.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("db", createDatabase(c.env));
    c.set("credentials", credentialCache(c.env));
    const started = Date.now();
    await next();
    c.header("X-Request-Id", requestId);
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        msg: "request",
        request_id: requestId,
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        duration_ms: Date.now() - started,
        principal: c.var.principal ? `${c.var.principal.kind}:${c.var.principal.apiKeyId ?? c.var.principal.sessionId}` : undefined,
      }),
    );
  };
}

/**
 * The client's address: `CF-Connecting-IP`, which Cloudflare's edge sets from the connection
 * (a client's own value never reaches the Worker), and which `npm start`'s edge proxy sets the same
 * way in front of `wrangler dev` (scripts/edge-proxy.ts). Nothing else a client sends is believed:
 * not `X-Real-IP`, not `X-Forwarded-For`.
 */
export function clientIp(c: Context): string | null {
  return c.req.header("cf-connecting-ip") ?? null;
}

/** The request's actor for services: who (if authenticated), from where. */
export function actorOf(c: Context<AppEnv>): Actor {
  return { principal: c.var.principal, ip: clientIp(c), userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null };
}

export function authedActor(c: Context<AppEnv>) {
  const actor = actorOf(c);
  if (!actor.principal) throw new Error("authedActor used on a route without requireAuth");
  return actor as Actor & { principal: NonNullable<Actor["principal"]> };
}

/** The throttle and deferral every sign-in path hands to `accounts.checkCredentials`. */
export function loginGuardsOf(c: Context<AppEnv>): LoginGuards {
  return {
    throttle: loginThrottle(c.env, loginThrottleSettings(c.env)),
    defer: (work) =>
      c.executionCtx.waitUntil(
        work.catch((err) => console.error(JSON.stringify({ level: "error", msg: "deferred sign-in work failed", ...errorLogFields(err) }))),
      ),
  };
}
