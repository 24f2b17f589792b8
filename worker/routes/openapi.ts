import { createRoute, OpenAPIHono, z, type RouteConfig } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { fieldErrors, invalid } from "../errors.ts";

/** A router whose validation failures all become 422 problem documents. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalid(fieldErrors(result.error, result.target));
    },
  });
}

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
  })
  .openapi("Problem");

export const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

/** The error responses every authenticated route can give. */
export const authErrors = {
  401: problem("Missing, invalid, expired or revoked credentials."),
  403: problem("The caller's role does not allow this."),
  429: problem("Rate limit exceeded; see Retry-After."),
} as const;

export const validationErrors = {
  400: problem("Malformed JSON or query."),
  413: problem("Request body too large."),
  415: problem("Body is not application/json."),
  422: problem("Invalid fields; `errors` has a pointer per field."),
} as const;

export const notFoundError = { 404: problem("No such resource in your organization.") } as const;
export const conflictError = { 409: problem("Conflicts with the current state.") } as const;

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  description,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Every authenticated route: an access token or API key, or the dashboard's session cookie (with CSRF). */
export const bearerSecurity: RouteConfig["security"] = [{ bearer: [] }, { apiKey: [] }, { cookie: [] }];

export const IdParam = <K extends string>(name: K, example: string) =>
  z.object({
    [name]: z
      .string()
      .min(1)
      .max(64)
      .openapi({ param: { name, in: "path" }, example }),
  } as Record<K, z.ZodString>);

export const PageMeta = z.object({ next_cursor: z.string().nullable() });

/** What a route that reaches a host through its relay may answer besides its own statuses. */
export const relayErrors = {
  502: problem("The agent or the Docker engine failed; `detail` has the engine's message."),
  503: problem("The host is offline."),
  504: problem("The host did not answer in time."),
} as const;

/** The error responses a route may name in `errors`, besides the `authErrors` every route has. */
const ERROR_SETS = {
  /** Bad JSON, query or fields. */
  validation: validationErrors,
  /** No such resource in the caller's organization (another organization's looks the same). */
  notFound: notFoundError,
  /** The request conflicts with the current state (exists already, in use…). */
  conflict: conflictError,
  /** The route reaches a host through its relay. */
  relay: relayErrors,
} as const;

export type ErrorSet = keyof typeof ERROR_SETS;

/**
 * An authenticated route: bearer, API-key or cookie security and `authErrors`, plus the error
 * responses it names in `errors`. The route gives its own request and success responses; the
 * handlers only ever return those (errors are thrown, and `onError` renders them).
 */
type AuthedRouteConfig<R> = Omit<R, "errors"> & {
  security: RouteConfig["security"];
  responses: R extends { responses: infer Own } ? Own & typeof authErrors : never;
};

export function authedRoute<
  P extends string,
  R extends Omit<RouteConfig, "security" | "path"> & { path: P; errors?: readonly ErrorSet[] },
>({ errors = [], ...route }: R) {
  const responses = { ...route.responses, ...authErrors };
  for (const set of errors) Object.assign(responses, ERROR_SETS[set]);
  return createRoute({ ...route, security: bearerSecurity, responses } as AuthedRouteConfig<R>);
}

/**
 * A route on a host's Docker objects, which reaches the host through its relay: an `authedRoute`
 * with bad input, a host or object not in the caller's organization, and the relay's errors, plus
 * 409 with `conflict: true` (the engine refused: the object is in use, exists already…).
 */
export const hostRoute = <P extends string, R extends Omit<RouteConfig, "security" | "path"> & { path: P; conflict?: boolean }>({
  conflict,
  ...route
}: R) => authedRoute({ ...route, errors: ["validation", "notFound", "relay", ...(conflict ? (["conflict"] as const) : [])] });

/** What the container of an application or a database service can be told to do. */
export const LIFECYCLE_ACTIONS = ["start", "stop", "restart"] as const;

/**
 * `POST /{id}/start|stop|restart` on a resource that runs one container (member+): the same
 * shape for applications and database services, each with its own view of the result.
 */
export const lifecycleRoute = <Params extends z.ZodObject, Ok extends RouteConfig["responses"][string]>(
  action: (typeof LIFECYCLE_ACTIONS)[number],
  of: { tag: string; container: string; params: Params; ok: Ok },
) =>
  authedRoute({
    method: "post",
    path: `/{id}/${action}`,
    tags: [of.tag],
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} ${of.container} (member+)`,
    request: { params: of.params },
    responses: { 200: of.ok },
    errors: ["notFound", "conflict", "relay"],
  });

/** `/{hostId}/…` under /api/v1/hosts. */
export const HostParam = z.object({
  hostId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "hostId", in: "path" }, example: "hst_0123456789abcdefghij" }),
});

/** A boolean query parameter: true/false/1/0. */
export const queryBool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

// ---- the finished document ------------------------------------------------------------------

type Operation = { operationId?: string; security?: unknown[] };
type Document = { paths?: object };

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const pascal = (word: string) =>
  word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

/**
 * A stable operationId from the method and the path alone (`GET /api/v1/hosts/{hostId}/containers/{id}`
 * → `getHostsContainersById`, `POST /api/v1/auth/login` → `postAuthLogin`): it changes only when
 * the path does, and generated clients get a method name per operation without a table to keep.
 */
export function operationIdOf(method: string, path: string, options: { everyParam?: boolean } = {}): string {
  const segments = path
    .replace(/^\/api\/v1(?=\/|$)/, "")
    .split("/")
    .filter(Boolean);
  const words = segments.map((s, i) =>
    !s.startsWith("{") ? pascal(s) : options.everyParam || i === segments.length - 1 ? `By${pascal(s.slice(1, -1))}` : "",
  );
  return `${method.toLowerCase()}${words.join("") || "Root"}`;
}

/** The short id, or (where two paths would share it) the one that names every parameter. */
export function uniqueOperationId(method: string, path: string, taken: Set<string>): string {
  let id = operationIdOf(method, path);
  if (taken.has(id)) id = operationIdOf(method, path, { everyParam: true });
  if (taken.has(id))
    throw new Error(`operationId ${id} would name two operations: give ${method.toUpperCase()} ${path} an explicit operationId.`);
  taken.add(id);
  return id;
}

/**
 * What every operation of the served document has: an operationId, and `security` (an operation
 * that declares none is public — health, login, register, refresh, logout, webhooks — and says so
 * with `security: []`, since the document has no global requirement).
 */
export function finishDocument<D extends Document>(doc: D): D {
  const taken = new Set<string>();
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Partial<Record<string, Operation>>>)) {
    for (const method of METHODS) if (item[method]?.operationId) taken.add(item[method].operationId);
  }
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Partial<Record<string, Operation>>>)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.operationId ??= uniqueOperationId(method, path, taken);
      op.security ??= [];
    }
  }
  return doc;
}

/** The project declares no license yet (package.json says UNLICENSED); the document says the same. */
export const LICENSE = { name: "UNLICENSED" } as const;
