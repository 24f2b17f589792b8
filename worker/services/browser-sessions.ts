import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { organizations, sessions } from "../db/schema.ts";
import { sha256Hex, timingSafeEqual, toBase64Url } from "../lib/crypto.ts";
import { randomString } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { checkCredentials, startSession, type AccountView, type AuthSettings, type LoginGuards } from "./accounts.ts";
import type { Actor } from "./principal.ts";
import { signToken, verifyToken, type BrowserClaims } from "./tokens.ts";

// A browser signs in once and then carries its session in an HttpOnly cookie: the same session
// row an API login makes, named by a signed token (the cookie) that lives as long as the session
// and that the server re-issues as it nears its end. There is no refresh token in the browser and
// nothing for script to steal: the CSRF token is derived from the session id with the server's
// key, so it proves the page read it from this session, and cannot be planted from elsewhere.

export interface BrowserSession {
  sessionId: string;
  account: AccountView;
  organization: { id: string; name: string };
  /** The `pier_session` cookie's value. */
  cookieToken: string;
  csrfToken: string;
  expiresAt: Date;
}

const encoder = new TextEncoder();

/** The session's CSRF token: HMAC-SHA256 of its id under the JWT secret, base64url. */
export async function csrfTokenFor(settings: AuthSettings, sessionId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(settings.jwtSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`pier-csrf:${sessionId}`));
  return toBase64Url(new Uint8Array(mac));
}

export async function csrfTokenMatches(settings: AuthSettings, sessionId: string, presented: string): Promise<boolean> {
  return timingSafeEqual(presented, await csrfTokenFor(settings, sessionId));
}

const cookieTokenFor = (settings: AuthSettings, userId: string, sessionId: string, expiresAt: Date) =>
  signToken({ sub: userId, sid: sessionId, typ: "browser" }, settings.jwtSecret, expiresAt);

export const verifyBrowserToken = (settings: AuthSettings, token: string): Promise<BrowserClaims & { exp?: number }> =>
  verifyToken<BrowserClaims>(token, settings.jwtSecret, "browser");

/** Checks the credentials (throttled like every sign-in) and starts a browser session. */
export async function signIn(
  db: Database,
  guards: LoginGuards,
  settings: AuthSettings,
  actor: Actor,
  login: string,
  password: string,
): Promise<BrowserSession> {
  const account = await checkCredentials(db, guards, actor, login, password);
  const sessionId = crypto.randomUUID();
  const expiresAt = new Date(Date.now() + settings.refreshTtlSeconds * 1000);
  // Nobody ever holds a refresh token for this session: /auth/refresh cannot rotate it.
  await startSession(db, actor, account, {
    sessionId,
    refreshTokenHash: await sha256Hex(randomString(32)),
    expiresAt: expiresAt.toISOString(),
    via: "browser",
  });
  const [organization] = await db
    .select({ id: organizations.id, name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, account.organizationId))
    .limit(1);
  return {
    sessionId,
    account,
    organization: organization ?? { id: account.organizationId, name: "" },
    cookieToken: await cookieTokenFor(settings, account.user.id, sessionId, expiresAt),
    csrfToken: await csrfTokenFor(settings, sessionId),
    expiresAt,
  };
}

/**
 * Slides an active browser session: once less than half of its lifetime is left, the session row
 * and a new cookie token get a full lifetime again. Returns null while the current token has
 * enough left (most requests), or when the session ended meanwhile.
 */
export async function extend(
  db: Database,
  settings: AuthSettings,
  claims: BrowserClaims & { exp?: number },
): Promise<{ cookieToken: string; csrfToken: string; expiresAt: Date } | null> {
  const lifetimeMs = settings.refreshTtlSeconds * 1000;
  const leftMs = (claims.exp ?? 0) * 1000 - Date.now();
  if (leftMs > lifetimeMs / 2) return null;
  const expiresAt = new Date(Date.now() + lifetimeMs);
  const updated = await db
    .update(sessions)
    .set({ refreshedAt: nowIso(), expiresAt: expiresAt.toISOString() })
    .where(eq(sessions.id, claims.sid))
    .returning({ revokedAt: sessions.revokedAt });
  if (updated.length === 0 || updated[0]!.revokedAt) return null;
  return {
    cookieToken: await cookieTokenFor(settings, claims.sub, claims.sid, expiresAt),
    csrfToken: await csrfTokenFor(settings, claims.sid),
    expiresAt,
  };
}
