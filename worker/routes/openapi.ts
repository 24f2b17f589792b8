import { OpenAPIHono, z, type RouteConfig } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import { invalid, type FieldError } from "../errors.ts";

const TARGET_POINTER: Record<string, string> = {
  json: "body",
  query: "query",
  param: "path",
  header: "header",
  form: "body",
  cookie: "cookie",
};

/** zod issues → one pointer per invalid field (`/body/email`), for the 422 problem document. */
export function fieldErrors(error: z.ZodError, target: string): FieldError[] {
  return error.issues.map((issue) => ({
    pointer: `/${TARGET_POINTER[target] ?? target}${issue.path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("")}`,
    detail: issue.message,
  }));
}

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

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

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

export const bearerSecurity: RouteConfig["security"] = [{ bearer: [] }, { apiKey: [] }];

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
