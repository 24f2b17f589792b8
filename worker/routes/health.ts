import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { createRouter, jsonResponse } from "./openapi.ts";
import { errorLogFields } from "../db/errors.ts";

export const healthRoutes = createRouter();

const Health = z.object({ status: z.enum(["ok", "degraded"]), version: z.string(), db: z.enum(["ok", "unreachable"]) }).openapi("Health");

healthRoutes.openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    tags: ["system"],
    summary: "Liveness and database reachability",
    responses: { 200: jsonResponse(Health, "Healthy."), 503: jsonResponse(Health, "The database is unreachable.") },
  }),
  async (c) => {
    const version = c.env.PIER_VERSION;
    try {
      await c.var.db.run(sql`select 1`);
      return c.json({ status: "ok" as const, version, db: "ok" as const }, 200);
    } catch (err) {
      console.error(
        JSON.stringify({ level: "error", msg: "healthz: database unreachable", request_id: c.var.requestId, ...errorLogFields(err) }),
      );
      return c.json({ status: "degraded" as const, version, db: "unreachable" as const }, 503);
    }
  },
);

healthRoutes.openapi(
  createRoute({
    method: "get",
    path: "/livez",
    tags: ["system"],
    summary: "Liveness only: the Worker answers, touching neither the database nor a Durable Object",
    responses: { 204: { description: "The Worker is up." } },
  }),
  // Also the floor `npm run bench` measures Pier's own costs against: a request that does nothing.
  (c) => c.body(null, 204),
);
