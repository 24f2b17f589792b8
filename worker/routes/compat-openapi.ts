// `/openapi/compat.json`: the compatibility surfaces (seeds 000–004) as one OpenAPI 3.1 document,
// so /swagger can show them beside the canonical API. Dokploy's procedures come with their input
// schemas from the table that serves them (compat/dokploy-procedures.ts), on both wire formats;
// the other surfaces' routes are read from their routers, tagged and given their error envelope
// by the same registry that renders their errors (compat/envelopes.ts).
import { z } from "zod";
import { PROCEDURES, type Procedure } from "../compat/dokploy-procedures.ts";
import { surfaceOf } from "../compat/envelopes.ts";
import { LICENSE, uniqueOperationId } from "./openapi.ts";

type Json = Record<string, unknown>;

const ENVELOPES: Record<string, Json> = {
  DokployError: {
    type: "object",
    description: "tRPC-OpenAPI's error (`/api/<procedure>`).",
    required: ["message", "code"],
    properties: {
      message: { type: "string" },
      code: { type: "string", examples: ["NOT_FOUND"] },
      issues: {
        type: "array",
        items: { type: "object", properties: { message: { type: "string" }, path: { type: "array", items: { type: "string" } } } },
      },
    },
  },
  TrpcError: {
    type: "object",
    description: "tRPC's error (`/api/trpc/<procedure>`), as superjson wraps it.",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        properties: {
          json: {
            type: "object",
            required: ["message", "code", "data"],
            properties: {
              message: { type: "string" },
              code: { type: "integer", examples: [-32004] },
              data: {
                type: "object",
                properties: {
                  code: { type: "string" },
                  httpStatus: { type: "integer" },
                  path: { type: ["string", "null"] },
                  zodError: { type: ["object", "null"] },
                },
              },
            },
          },
        },
      },
    },
  },
  DockerApiError: {
    type: "object",
    description: "Seed 001's error.",
    required: ["success", "message"],
    properties: { success: { const: false }, message: { type: "string" } },
  },
  ServerManagerV1Error: {
    type: "object",
    description: "Seed 002's error.",
    required: ["error"],
    properties: {
      error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "object" } } },
    },
  },
  ServerManagerV2Error: {
    type: "object",
    description: "Seed 004's error.",
    required: ["success", "error"],
    properties: { success: { const: false }, error: { type: "string" }, details: { type: "object" } },
  },
  DevflowError: {
    type: "object",
    description: "Seed 003's (Laravel) error; 422 lists `errors` per field.",
    required: ["message"],
    properties: {
      message: { type: "string" },
      errors: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
    },
  },
  DevflowWebhookError: {
    type: "object",
    description: "Seed 003's deploy webhook error.",
    required: ["error", "message", "status"],
    properties: { error: { type: "string" }, message: { type: "string" }, status: { type: "integer" } },
  },
};

const SURFACE_ENVELOPE: Record<string, string> = {
  dokploy: "DokployError",
  "docker-api": "DockerApiError",
  "server-manager-v1": "ServerManagerV1Error",
  "server-manager-v2": "ServerManagerV2Error",
  devflow: "DevflowError",
  "devflow-webhooks": "DevflowWebhookError",
};

const TAGS: Record<string, string> = {
  dokploy: "000 Dokploy",
  trpc: "000 Dokploy (tRPC)",
  "docker-api": "001 Docker management API",
  "server-manager-v1": "002 Server manager",
  devflow: "003 DevFlow Pro",
  "devflow-webhooks": "003 DevFlow Pro",
  "server-manager-v2": "004 Server manager v2",
};

/** Login, refresh, logout and webhooks: the operations a caller makes before it has a credential. */
const PUBLIC = [
  /^\/(user|login|logout|token\/renew_access)$/,
  /^\/api\/login$/,
  /^\/api\/webhooks\/deploy\//,
  /^\/(api\/)?session\/refresh$/,
];

const errorResponses = (envelope: string) => {
  const ref = { content: { "application/json": { schema: { $ref: `#/components/schemas/${envelope}` } } } };
  return {
    400: { description: "Malformed or invalid input.", ...ref },
    401: { description: "Missing, invalid, expired or revoked credentials.", ...ref },
    403: { description: "The caller's role does not allow this.", ...ref },
    404: { description: "Not found (also another organization's resource).", ...ref },
    429: { description: "Rate limit exceeded; see Retry-After.", ...ref },
  };
};
const anyJson = (description: string) => ({ description, content: { "application/json": { schema: {} } } });

const inputSchema = (p: Procedure): Json => {
  const schema = z.toJSONSchema(p.input, { io: "input", unrepresentable: "any" }) as Json;
  delete schema.$schema;
  return schema;
};

function dokployOperations(paths: Record<string, Json>) {
  const security = [{ apiKey: [] }, { bearer: [] }];
  for (const [name, p] of [...PROCEDURES].sort(([a], [b]) => a.localeCompare(b))) {
    const schema = inputSchema(p);
    const id = name.replace(/\.(\w)/, (_, c: string) => c.toUpperCase());
    const properties = (schema.properties ?? {}) as Record<string, Json>;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    paths[`/api/${name}`] = {
      [p.kind === "query" ? "get" : "post"]: {
        operationId: `dokploy_${id}`,
        tags: [TAGS.dokploy],
        summary: p.summary,
        security,
        ...(p.kind === "query"
          ? {
              parameters: Object.entries(properties).map(([field, s]) => ({
                name: field,
                in: "query",
                required: required.has(field),
                schema: s,
              })),
            }
          : { requestBody: { required: true, content: { "application/json": { schema } } } }),
        responses: { 200: anyJson("The procedure's result."), ...errorResponses("DokployError") },
      },
    };
    paths[`/api/trpc/${name}`] = {
      [p.kind === "query" ? "get" : "post"]: {
        operationId: `trpc_${id}`,
        tags: [TAGS.trpc],
        summary: p.summary,
        security,
        ...(p.kind === "query"
          ? {
              parameters: [
                {
                  name: "input",
                  in: "query",
                  required: false,
                  description: 'The input as URL-encoded JSON, bare or superjson\'s `{"json": …}`.',
                  content: { "application/json": { schema } },
                },
              ],
            }
          : {
              requestBody: {
                required: true,
                content: { "application/json": { schema: { type: "object", required: ["json"], properties: { json: schema } } } },
              },
            }),
        responses: {
          200: {
            description: "`result.data.json` is the procedure's result.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { result: { type: "object", properties: { data: { type: "object", properties: { json: {} } } } } },
                },
              },
            },
          },
          ...errorResponses("TrpcError"),
        },
      },
    };
  }
}

/** Hono's `/ps2/:host` and `/x/:id{[0-9]+}` → OpenAPI's `/ps2/{host}`, with the parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{[^}]*\})?\??/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

export interface RouteInfo {
  method: string;
  path: string;
}

export function compatDocument(routes: readonly RouteInfo[], origin: string, version: string) {
  const paths: Record<string, Json> = {};
  dokployOperations(paths);
  const seen = new Set<string>();
  const taken = new Set<string>();
  /** Paths that differ only by parameter names are one path in OpenAPI: the first name wins. */
  const byShape = new Map<string, string>();
  for (const route of routes) {
    const method = route.method.toLowerCase();
    if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
    // Dokploy's two catch-all procedure routes are documented procedure by procedure above.
    if (route.path.startsWith("/api/trpc/") || route.path.startsWith("/api/:name")) continue;
    const converted = openApiPath(route.path);
    if (converted.path.includes("*")) continue;
    // A path also served with a trailing slash (004's `/api/admin/`) is documented once, without it:
    // OpenAPI linters refuse trailing slashes, and the answer is the same.
    if (converted.path.length > 1 && converted.path.endsWith("/")) continue;
    const shape = converted.path.replace(/\{[^}]+\}/g, "{}");
    const path = byShape.get(shape) ?? converted.path;
    byShape.set(shape, path);
    const params = (path.match(/\{[^}]+\}/g) ?? []).map((p) => p.slice(1, -1));
    const surface = surfaceOf(path.replace(/\{[^}]+\}/g, "x"));
    if (!surface) continue;
    if (seen.has(`${method} ${path}`)) {
      // One path, two documents (002/003's by-id and 004's by-address metrics): say so.
      const op = (paths[path] as Record<string, Json>)[method]!;
      op.description = `${String(op.description ?? "")}Also ${route.method} ${converted.path} of another seed document, told apart by the value: an IP address is seed 004's.`;
      continue;
    }
    seen.add(`${method} ${path}`);
    const envelope = SURFACE_ENVELOPE[surface.name]!;
    const isPublic = PUBLIC.some((re) => re.test(path));
    (paths[path] ??= {})[method] = {
      operationId: `${surface.name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}_${uniqueOperationId(method, path, taken)}`,
      tags: [TAGS[surface.name]],
      summary: `${route.method} ${path} (${surface.title})`,
      security: isPublic ? [] : [{ bearer: [] }, { apiKey: [] }],
      ...(params.length ? { parameters: params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })) } : {}),
      ...(["post", "put", "patch"].includes(method)
        ? { requestBody: { required: false, content: { "application/json": { schema: { type: "object" } } } } }
        : {}),
      responses: { 200: anyJson("As the seed document shows."), ...errorResponses(envelope) },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Pier compatibility surfaces",
      version,
      license: LICENSE,
      description:
        "The seed documents' APIs as Pier serves them (README.md, \"Compatibility surfaces\"): Dokploy's procedures on both of its wire formats, with their input schemas; the other surfaces' paths with their error envelopes. Bodies follow each seed document.",
    },
    servers: [{ url: origin }],
    tags: [...new Set(Object.values(TAGS))].map((name) => ({ name, description: `${name}: see README.md, "Compatibility surfaces".` })),
    paths,
    components: {
      schemas: ENVELOPES,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An access token from /api/v1/auth/login, or an API key." },
        apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
      },
    },
  };
}
