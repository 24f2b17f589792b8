import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { surfaceOf } from "../compat/envelopes.ts";

/**
 * The dashboard's client-side paths (web/src/router.tsx). A browser navigation (GET, Accept
 * text/html) to one of them gets the single-page app; anything else, and every API or compat
 * client at these same paths, gets what it always got. They are chosen clear of the root paths
 * the compat surfaces own (seed 001 serves /hosts, /events, /login…: hence /docker-hosts).
 */
const DASHBOARD_PATH =
  /^\/(?:$|signin$|setup$|(?:docker-hosts|projects|applications|databases|servers)(?:\/[^/]+)*$|notifications$|tasks$|settings$|alerts$|channels$|registries$|backups$|access$)/;

export function isDashboardNavigation(method: string, path: string, accept: string | undefined): boolean {
  return (method === "GET" || method === "HEAD") && !!accept?.includes("text/html") && DASHBOARD_PATH.test(path) && !surfaceOf(path);
}

/**
 * Serves the dashboard's index.html (dist/assets/ui/, built by scripts/build-assets.ts) for its
 * navigations. wrangler's [assets] answers only the built files' own paths; this runs in the
 * Worker, before authentication: the page itself holds no data, it asks the API as the user.
 */
export function dashboardPages(): MiddlewareHandler<AppEnv> {
  return async function dashboardPages(c, next) {
    if (!isDashboardNavigation(c.req.method, c.req.path, c.req.header("accept"))) return next();
    const page = await c.env.ASSETS.fetch(new URL("/ui/index.html", c.req.url));
    if (!page.ok) return next();
    const res = new Response(page.body, page);
    // The HTML names hashed chunks: always fetch it fresh, so a deploy is picked up on reload.
    res.headers.set("Cache-Control", "no-cache");
    res.headers.set(
      "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    );
    res.headers.set("X-Content-Type-Options", "nosniff");
    res.headers.set("Referrer-Policy", "same-origin");
    return res;
  };
}
