// Compatibility with Dokploy's API (seed 000) on its two wire formats, from one table of
// procedures (dokploy-procedures.ts):
//   /api/<router>.<procedure>        tRPC-OpenAPI, as the seed's scripts and CI call it: queries are
//                                    GET with the input in the query string, mutations POST with
//                                    the input as the JSON body; the answer is the bare result;
//                                    errors `{message, code}`.
//   /api/trpc/<router>.<procedure>   tRPC itself, as @dokploy/cli and Dokploy's web client call it:
//                                    queries GET `?input=<URL-encoded JSON>` (bare, or superjson's
//                                    `{"json": …}`), mutations POST `{"json": …}`; the answer is
//                                    `{"result": {"data": {"json": …}}}`; errors
//                                    `{"error": {"json": {message, code, data}}}`.
// Both need `x-api-key` (or a bearer token), like every Dokploy procedure but none here is public.
import { Hono, type Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env.ts";
import { ApiError, fieldErrors } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { PROCEDURES, type Procedure } from "./dokploy-procedures.ts";
import { readJson } from "./validate.ts";

export const dokployCompat = new Hono<AppEnv>();

// Errors: worker/compat/envelopes.ts renders every error on this surface's paths (the shared
// authentication step's too) with dokployError below, in tRPC's shape under /api/trpc/.

// ---- reading the input ----------------------------------------------------------------------

function validate<I extends z.ZodType>(schema: I, value: unknown, target: "json" | "query"): z.infer<I> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = fieldErrors(result.error, target);
    throw new ApiError(422, errors.map((e) => `${e.pointer.replace(/^\/(body|query)\//, "")}: ${e.detail}`).join("; "), { errors });
  }
  return result.data;
}

/** superjson wraps values as `{json, meta?}`; plain tRPC clients send the value itself. */
function unwrapSuperjson(value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value) && "json" in value) {
    const keys = Object.keys(value);
    if (keys.every((k) => k === "json" || k === "meta")) return (value as { json: unknown }).json;
  }
  return value;
}

async function trpcInput(c: Context<AppEnv>, procedure: Procedure): Promise<unknown> {
  let raw: unknown;
  if (procedure.kind === "query") {
    const text = c.req.query("input");
    if (text !== undefined && text !== "") {
      try {
        raw = JSON.parse(text);
      } catch {
        throw new ApiError(400, "The `input` query parameter is not JSON: send ?input=<URL-encoded JSON>.");
      }
    }
  } else {
    const text = await c.req.text();
    if (text.trim() !== "") {
      try {
        raw = JSON.parse(text);
      } catch {
        throw new ApiError(400, 'Malformed JSON in request body: send {"json": {…}}.');
      }
    }
  }
  const value = unwrapSuperjson(raw);
  // A procedure without input is called with none; its schema still sees an object.
  return validate(procedure.input, value ?? {}, procedure.kind === "query" ? "query" : "json");
}

async function openApiInput(c: Context<AppEnv>, procedure: Procedure): Promise<unknown> {
  if (procedure.kind === "query") return validate(procedure.input, c.req.query(), "query");
  // A procedure whose input is all optional may be POSTed with no body.
  const optional = procedure.input.safeParse({}).success;
  return readJson(c, procedure.input, { optional });
}

function lookup(name: string, method: string): Procedure {
  const procedure = PROCEDURES.get(name);
  if (!procedure) {
    throw new ApiError(
      404,
      `No procedure ${name} here: Pier does not serve it (the procedures it serves are listed in /openapi/compat.json).`,
    );
  }
  const expected = procedure.kind === "query" ? "GET" : "POST";
  if (method !== expected) {
    throw new ApiError(405, `${name} is a ${procedure.kind}: call it with ${expected}.`, { headers: { Allow: expected } });
  }
  return procedure;
}

// ---- the two wire formats, one table ---------------------------------------------------------

dokployCompat.on(["GET", "POST", "PUT", "PATCH", "DELETE"], "/api/trpc/:name", requireAuth(), async function trpcProcedure(c) {
  const name = c.req.param("name");
  if (name.includes(",") || c.req.query("batch") !== undefined) {
    throw new ApiError(400, "Batched tRPC calls are not served: call one procedure per request (httpLink, not httpBatchLink).");
  }
  const procedure = lookup(name, c.req.method);
  const result = await procedure.run(c, await trpcInput(c, procedure));
  return c.json({ result: { data: { json: result ?? null } } });
});

dokployCompat.on(
  ["GET", "POST", "PUT", "PATCH", "DELETE"],
  "/api/:name{[a-zA-Z]+\\.[a-zA-Z]+}",
  requireAuth(),
  async function openApiProcedure(c) {
    const procedure = lookup(c.req.param("name"), c.req.method);
    return c.json((await procedure.run(c, await openApiInput(c, procedure))) ?? null);
  },
);
