import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { recordAudit } from "../services/audit.ts";
import * as databases from "../services/databases.ts";
import { requireRole } from "../services/principal.ts";
import { ConnectionView, DatabaseView, NewDatabaseBody, PlacedPageQuery, placementFilter, toDatabaseView } from "./app-schemas.ts";
import {
  authErrors,
  bearerSecurity,
  conflictError,
  createRouter,
  IdParam,
  jsonBody,
  jsonResponse,
  notFoundError,
  PageMeta,
  relayErrors,
  validationErrors,
} from "./openapi.ts";

export const databaseRoutes = createRouter();
databaseRoutes.use("*", requireAuth());

const DatabaseId = IdParam("id", "dbs_0123456789abcdefghij");

databaseRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["databases"],
    summary: "Create a database service (postgres, mysql, mariadb, mongo, redis) in a project and start it (member+)",
    description:
      "Credentials are generated unless given and stored encrypted. The container joins the project's network as `app_name`; its data lives in the named volume `<app_name>-data`. A start failure (host offline, image not pullable) is kept in `error` with status `error`.",
    security: bearerSecurity,
    request: { body: jsonBody(NewDatabaseBody) },
    responses: { 201: jsonResponse(DatabaseView, "The database."), ...validationErrors, ...authErrors, ...notFoundError, ...conflictError },
  }),
  async (c) => c.json(toDatabaseView(await databases.createDatabaseService(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201),
);

databaseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["databases"],
    summary: "Database services of your organization (of one project with ?project_id=, one environment with ?environment_id=)",
    security: bearerSecurity,
    request: { query: PlacedPageQuery },
    responses: { 200: jsonResponse(PageMeta.extend({ databases: z.array(DatabaseView) }), "A page of databases."), ...authErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await databases.listDatabaseServices(c.var.db, c.var.principal.organizationId, placementFilter(q), q);
    return c.json({ databases: page.items.map(toDatabaseView), next_cursor: page.nextCursor }, 200);
  },
);

databaseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["databases"],
    summary: "A database service",
    security: bearerSecurity,
    request: { params: DatabaseId },
    responses: { 200: jsonResponse(DatabaseView, "The database."), ...authErrors, ...notFoundError },
  }),
  async (c) =>
    c.json(toDatabaseView(await databases.getDatabaseService(c.var.db, c.var.principal.organizationId, c.req.valid("param").id)), 200),
);

databaseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/connection",
    tags: ["databases"],
    summary: "Credentials and connection string (admin; audited)",
    security: bearerSecurity,
    request: { params: DatabaseId },
    responses: { 200: jsonResponse(ConnectionView, "How to connect from the project's network."), ...authErrors, ...notFoundError },
  }),
  async (c) => {
    const actor = authedActor(c);
    requireRole(actor.principal, "admin", "see database credentials");
    const row = await databases.getDatabaseService(c.var.db, actor.principal.organizationId, c.req.valid("param").id);
    await recordAudit(c.var.db, actor, {
      organizationId: row.organizationId,
      action: "database.credentials.reveal",
      targetType: "database",
      targetId: row.id,
    });
    return c.json(await databases.connectionInfo(c.env, row), 200);
  },
);

for (const action of ["start", "stop", "restart"] as const) {
  databaseRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["databases"],
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} the database's container (member+)`,
      security: bearerSecurity,
      request: { params: DatabaseId },
      responses: { 200: jsonResponse(DatabaseView, "The database."), ...authErrors, ...notFoundError, ...conflictError, ...relayErrors },
    }),
    async (c) =>
      c.json(toDatabaseView(await databases.changeDatabaseState(c.var.db, c.env, authedActor(c), c.req.valid("param").id, action)), 200),
  );
}

databaseRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["databases"],
    summary: "Remove a database service; its volume survives unless purge=true (admin)",
    security: bearerSecurity,
    request: {
      params: DatabaseId,
      query: z.object({
        purge: z
          .enum(["true", "false", "1", "0"])
          .optional()
          .transform((v) => v === "true" || v === "1"),
      }),
    },
    responses: { 204: { description: "Removed." }, ...authErrors, ...notFoundError, ...relayErrors },
  }),
  async (c) => {
    await databases.deleteDatabaseService(c.var.db, c.env, authedActor(c), c.req.valid("param").id, { purge: c.req.valid("query").purge });
    return c.body(null, 204);
  },
);
