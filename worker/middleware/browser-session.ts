import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../env.ts";
import { forbidden } from "../errors.ts";
import { csrfTokenMatches } from "../services/browser-sessions.ts";
import { authSettings, publicOrigin } from "../settings.ts";

export const SESSION_COOKIE = "pier_session";
export const CSRF_COOKIE = "pier_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The dashboard's own origin: the one it is served from (the request's), or PIER_PUBLIC_URL's behind a proxy. */
function ownOrigins(c: Context<AppEnv>): string[] {
  const origins = [new URL(c.req.url).origin];
  // A malformed PIER_PUBLIC_URL names no origin; the request's own still counts.
  const configured = publicOrigin(c.env);
  if (configured) origins.push(configured);
  return origins;
}

/** Browsers only send cookies marked Secure over https, except to localhost, which `npm start` serves over http. */
const secureCookies = (c: Context<AppEnv>): boolean => !LOOPBACK_HOSTS.has(new URL(c.req.url).hostname);

const BROWSER_LOGIN_PATH = "/api/v1/auth/browser/login";

/**
 * The cookie session's token, on the routes that accept it (the canonical API); undefined
 * elsewhere, and on the browser login, which needs no session and must work whatever cookie is left.
 */
/**
 * Seeds 002/004's session paths outside /api/v1 that the dashboard's cookie answers too (its
 * session check, current user, password change, logout), under the same origin and CSRF rules.
 */
const COOKIE_COMPAT_PATH =
  /^\/(api\/)?session\/(check|refresh)$|^\/api\/(current-user|profile|debug\/user-info|auth\/logout)$|^\/change-password$/;

export function sessionCookieOf(c: Context<AppEnv>): string | undefined {
  const path = c.req.path;
  if (!(path.startsWith("/api/v1/") || COOKIE_COMPAT_PATH.test(path)) || path === BROWSER_LOGIN_PATH) return undefined;
  return getCookie(c, SESSION_COOKIE) || undefined;
}

/**
 * A cookie comes with every request the browser makes to this site, whoever's page asked for it,
 * so a cookie-authenticated request must show it came from the dashboard itself: its `Origin` is
 * ours (or, without one — same-origin GETs — `Sec-Fetch-Site` says same-origin or is absent), and a
 * mutating one also echoes the session's CSRF token in `X-CSRF-Token`, which only a page of ours
 * can read from the `pier_csrf` cookie.
 */
export async function checkCookieRequest(c: Context<AppEnv>, sessionId: string): Promise<void> {
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    if (!ownOrigins(c).includes(origin)) {
      throw forbidden(
        `Cookie sessions are accepted only from the dashboard's own origin, not ${origin}: from elsewhere use an access token or an API key (Authorization: Bearer).`,
      );
    }
  } else {
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin") {
      throw forbidden(
        "Cookie sessions are accepted only from the dashboard's own pages (Sec-Fetch-Site: same-origin): from elsewhere use an access token or an API key.",
      );
    }
  }
  if (SAFE_METHODS.has(c.req.method)) return;
  const presented = c.req.header(CSRF_HEADER) ?? "";
  const cookie = getCookie(c, CSRF_COOKIE) ?? "";
  if (!presented || presented !== cookie || !(await csrfTokenMatches(authSettings(c.env), sessionId, presented))) {
    throw forbidden(
      `Missing or wrong CSRF token: a request authenticated by the session cookie that changes something must send the ${CSRF_COOKIE} cookie's value in ${CSRF_HEADER}.`,
    );
  }
}

/** A page elsewhere must not sign a browser into a session of its choosing (login CSRF). */
export function checkLoginOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("origin");
  if (origin !== undefined && !ownOrigins(c).includes(origin)) {
    throw forbidden(`Browser sign-in is accepted only from the dashboard's own origin, not ${origin}.`);
  }
}

/** Sets both cookies; the session's is HttpOnly, the CSRF token's is readable by the dashboard's script. */
export function setSessionCookies(c: Context<AppEnv>, tokens: { cookieToken: string; csrfToken?: string; expiresAt: Date }): void {
  const common = { path: "/", sameSite: "Lax", secure: secureCookies(c), expires: tokens.expiresAt } as const;
  setCookie(c, SESSION_COOKIE, tokens.cookieToken, { ...common, httpOnly: true });
  if (tokens.csrfToken) setCookie(c, CSRF_COOKIE, tokens.csrfToken, common);
}

export function clearSessionCookies(c: Context<AppEnv>): void {
  const common = { path: "/", sameSite: "Lax", secure: secureCookies(c) } as const;
  deleteCookie(c, SESSION_COOKIE, { ...common, httpOnly: true });
  deleteCookie(c, CSRF_COOKIE, common);
}
