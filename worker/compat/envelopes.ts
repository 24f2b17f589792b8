// Which surface a request belongs to, and how each surface writes an error. One registry, read by
// the app's single error handler (worker/middleware/error-response.ts) and its 404: so a missing,
// expired or revoked credential, a refused role, a 429 or an unknown path under a surface's prefix
// answers in that surface's envelope even when the shared authentication step, not the surface's
// own router, raised it. The compat routers have no error handlers of their own.
import type { Context } from "hono";
import { ApiError, type FieldError } from "../errors.ts";
import ipaddr from "ipaddr.js";

export type SurfaceName = "dokploy" | "docker-api" | "server-manager-v1" | "devflow" | "devflow-webhooks" | "server-manager-v2";

export interface Surface {
  name: SurfaceName;
  /** For messages: "Dokploy's API (seed 000)". */
  title: string;
  render(c: Context, e: ApiError): Response;
}

// ---- renderers ------------------------------------------------------------------------------

/** tRPC's error codes by HTTP status (TRPC_ERROR_CODES_BY_KEY and its HTTP mapping in @trpc/server). */
const TRPC_CODES: Record<number, readonly [string, number]> = {
  400: ["BAD_REQUEST", -32600],
  401: ["UNAUTHORIZED", -32001],
  403: ["FORBIDDEN", -32003],
  404: ["NOT_FOUND", -32004],
  405: ["METHOD_NOT_SUPPORTED", -32005],
  408: ["TIMEOUT", -32008],
  409: ["CONFLICT", -32009],
  412: ["PRECONDITION_FAILED", -32012],
  413: ["PAYLOAD_TOO_LARGE", -32013],
  415: ["UNSUPPORTED_MEDIA_TYPE", -32015],
  422: ["BAD_REQUEST", -32600],
  429: ["TOO_MANY_REQUESTS", -32029],
};
const trpcCode = (status: number) => TRPC_CODES[status] ?? (["INTERNAL_SERVER_ERROR", -32603] as const);

const TRPC_PREFIX = "/api/trpc/";

/** zod's `flatten()` shape, which Dokploy's error formatter puts in `data.zodError`. */
function zodErrorOf(errors: FieldError[] | undefined) {
  if (!errors) return null;
  const fieldErrors: Record<string, string[]> = {};
  const formErrors: string[] = [];
  for (const e of errors) {
    const field = e.pointer.replace(/^\/(body|query)\/?/, "").split("/")[0];
    if (field) (fieldErrors[field] ??= []).push(e.detail);
    else formErrors.push(e.detail);
  }
  return { formErrors, fieldErrors };
}

/**
 * Seed 000, on both of Dokploy's wire formats. `/api/trpc/…` (tRPC, what @dokploy/cli reads):
 * `{"error": {"json": {message, code, data: {code, httpStatus, path, zodError}}}}`. `/api/<procedure>`
 * (tRPC-OpenAPI, the seed's scripts): `{message, code}` with the zod issues. Input errors are
 * 400 BAD_REQUEST (tRPC has no 422); every error has a `message`, which tools print.
 */
function dokployError(c: Context, e: ApiError): Response {
  const status = e.status === 422 ? 400 : e.status;
  const [code, rpcCode] = trpcCode(e.status);
  const path = new URL(c.req.url).pathname;
  if (path.startsWith(TRPC_PREFIX) || path === "/api/trpc") {
    const procedure = path.slice(TRPC_PREFIX.length) || null;
    return c.json(
      {
        error: {
          json: { message: e.detail, code: rpcCode, data: { code, httpStatus: status, path: procedure, zodError: zodErrorOf(e.errors) } },
        },
      },
      status,
    );
  }
  return c.json(
    {
      message: e.detail,
      code,
      ...(e.errors
        ? { issues: e.errors.map((f) => ({ message: f.detail, path: f.pointer.replace(/^\/(body|query)\//, "").split("/") })) }
        : {}),
    },
    status,
  );
}

/** Seed 001: `{success: false, message}`; validation failures are 400 there. */
function dockerApiError(c: Context, e: ApiError): Response {
  return c.json({ success: false, message: e.detail }, e.status === 422 ? 400 : e.status);
}

const SERVER_MANAGER_CODES: Record<number, string> = {
  400: "INVALID_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "INVALID_REQUEST",
  422: "INVALID_REQUEST",
  429: "RATE_LIMITED",
};

/** Seed 002: `{"error": {"code", "message", "details": {"field", "reason"}}}`. */
function serverManagerV1Error(c: Context, e: ApiError): Response {
  const first = e.errors?.[0];
  const details = first ? { field: first.pointer.split("/").pop() ?? "", reason: first.detail } : {};
  const code = SERVER_MANAGER_CODES[e.status] ?? (e.status >= 500 ? "SERVER_ERROR" : "ERROR");
  return c.json({ error: { code, message: e.detail, details } }, e.status);
}

/** Seed 004: `{success: false, error, details}`. */
function serverManagerV2Error(c: Context, e: ApiError): Response {
  return c.json({ success: false, error: e.detail, details: e.errors ? { errors: e.errors } : {} }, e.status);
}

/**
 * Seed 003's API is a Laravel application: `{message}` (401 "Unauthenticated."), 422 lists `errors`
 * per field. A 422 with no field to name (a compose file the host's Compose refuses) keeps its detail.
 */
function laravelError(c: Context, e: ApiError): Response {
  if (e.status === 422 && e.errors?.length) {
    const errors: Record<string, string[]> = {};
    for (const fe of e.errors ?? []) (errors[fe.pointer.replace(/^\/body\//, "").replaceAll("/", ".")] ??= []).push(fe.detail);
    return c.json({ message: "The given data was invalid.", errors }, 422);
  }
  return c.json({ message: e.status === 401 ? "Unauthenticated." : e.detail }, e.status);
}

/** Seed 003's deploy webhook: the document's "standard error format" `{error, message, status}`. */
function devflowWebhookError(c: Context, e: ApiError): Response {
  return c.json({ error: e.title, message: e.detail, status: e.status }, e.status);
}

const SURFACES: Record<SurfaceName, Surface> = {
  dokploy: { name: "dokploy", title: "Dokploy's API (seed 000)", render: dokployError },
  "docker-api": { name: "docker-api", title: "the Docker management API (seed 001)", render: dockerApiError },
  "server-manager-v1": { name: "server-manager-v1", title: "the server manager API (seed 002)", render: serverManagerV1Error },
  devflow: { name: "devflow", title: "DevFlow Pro's API (seed 003)", render: laravelError },
  "devflow-webhooks": { name: "devflow-webhooks", title: "DevFlow Pro's deploy webhook (seed 003)", render: devflowWebhookError },
  "server-manager-v2": { name: "server-manager-v2", title: "the server manager API v2 (seed 004)", render: serverManagerV2Error },
};

// ---- which surface a path is ----------------------------------------------------------------
//
// Paths two documents share go to the one whose shape Pier answers there: 002 and 004 are two
// versions of one product, so a path both document is version 2's (its notification list answers
// a superset of both bodies); `/api/servers/{x}/metrics` is 004's when `{x}` is an address (its
// `<server_ip>`), DevFlow's otherwise (its `{server}` is a server id); `/login` and `/logout`
// are 001's JSON endpoints (004's are a browser form).

/** `[surface, pattern]`, first match wins. Patterns see the path without a trailing slash. */
const CLAIMS: ReadonlyArray<readonly [SurfaceName, RegExp]> = [
  // 000: `/api/<router>.<procedure>`, and tRPC's own `/api/trpc/…`.
  ["dokploy", /^\/api\/[A-Za-z]+\.[A-Za-z]+$/],
  ["dokploy", /^\/api\/trpc(\/|$)/],
  // 001, at the root.
  ["docker-api", /^\/(user|login|logout|token\/renew_access|hosts|events|start2|stop2)$/],
  ["docker-api", /^\/(ps2|inspect2|stat2|stat3)(\/|$)/],
  // 003.
  ["devflow-webhooks", /^\/api\/webhooks\/deploy(\/|$)/],
  ["devflow", /^\/api\/(login|user)$/],
  ["devflow", /^\/api\/projects\/[^/]+\/docker(\/|$)/],
  ["devflow", /^\/api\/servers\/[^/]+\/docker(\/|$)/],
  // 004 before 002: its fixed task paths would otherwise read as 002's `/api/tasks/{task_id}`.
  ["server-manager-v2", /^\/api\/tasks\/(status|config)$/],
  ["server-manager-v2", /^\/api\/tasks\/[^/]+\/status$/],
  ["server-manager-v1", /^\/api\/tasks(\/|$)/],
  // 002 only.
  ["server-manager-v1", /^\/api\/servers\/(create|bulk-create|bulk-delete)$/],
  ["server-manager-v1", /^\/api\/servers\/[^/]+\/status$/],
  ["server-manager-v1", /^\/api\/monitoring\/(status|metrics|prometheus)(\/|$)/],
  ["server-manager-v1", /^\/api\/backups(\/(?!nodes$|restore$|delete$)[^/]+(\/restore)?)?$/],
  ["server-manager-v1", /^\/api\/servers\/(?!brief$|async$|bulk_action$|health-summary$)[^/]+$/],
  ["server-manager-v1", /^\/api\/(system|vault)(\/|$)/],
  ["server-manager-v1", /^\/api\/auth\/(login|logout)$/],
  // DevFlow's metrics of a server by id; 004's by address (below).
  ["devflow", /^\/api\/servers\/(?!health-summary$)[^/]+\/metrics$/],
  // 004 (and what it shares with 002).
  [
    "server-manager-v2",
    /^\/(api\/)?session(\/|$)|^\/change-password$|^\/api\/(current-user|profile|servers|server|server_status|all_server_status|celery|datastores|proxmox_storage|sync_servers|create_servers_bulk|assign_role|remove_role|roles|firewall|apply_security_group|remove_firewall_group|backups|notifications|alerts|grafana-dashboard|monitoring|users|iam|admin|debug|cleanup|test)(\/|$)/,
  ],
];

/** The surface a request path belongs to, or undefined for the canonical API and everything else. */
export function surfaceOf(path: string): Surface | undefined {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const metrics = /^\/api\/servers\/([^/]+)\/metrics$/.exec(p);
  if (metrics && isServerAddress(decodeURIComponentSafe(metrics[1]!))) return SURFACES["server-manager-v2"];
  for (const [name, pattern] of CLAIMS) if (pattern.test(p)) return SURFACES[name];
  return undefined;
}

/** Whether `GET /api/servers/{server}/metrics` is seed 004's (by address) rather than DevFlow's (by id). */
export const isServerAddress = (server: string): boolean => ipaddr.IPv4.isValidFourPartDecimal(server) || ipaddr.IPv6.isValid(server);

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A 404 for a path no route serves, worded for the surface it falls under. */
export function noRoute(method: string, path: string): ApiError {
  const surface = surfaceOf(path);
  if (!surface) return new ApiError(404, `No route for ${method} ${path}: see /swagger for the API.`);
  return new ApiError(
    404,
    `No route for ${method} ${path} in ${surface.title}: Pier does not serve this endpoint (README.md, "Compatibility surfaces", lists what it serves).`,
  );
}
