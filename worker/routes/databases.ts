import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { recordAudit } from "../services/audit.ts";
import * as databases from "../services/databases.ts";
import { requireRole } from "../services/principal.ts";
import { ConnectionView, DatabaseView, NewDatabaseBody, PlacedPageQuery, placementFilter, toDatabaseView } from "./app-schemas.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, LIFECYCLE_ACTIONS, lifecycleRoute, PageMeta } from "./openapi.ts";

export const databaseRoutes = createRouter();
databaseRoutes.use("*", requireAuth());

const DatabaseId = IdParam("id", "dbs_0123456789abcdefghij");

databaseRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["databases"],
    summary: "Create a database service (postgres, mysql, mariadb, mongo, redis) in a project and start it (member+)",
    description:
      "Credentials are generated unless given and stored encrypted. The container joins the project's network as `app_name`; its data lives in the named volume `<app_name>-data`. A start failure (host offline, image not pullable) is kept in `error` with status `error`.",
    request: { body: jsonBody(NewDatabaseBody) },
    responses: { 201: jsonResponse(DatabaseView, "The database.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => c.json(toDatabaseView(await databases.createDatabaseService(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201),
);

databaseRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["databases"],
    summary: "Database services of your organization (of one project with ?project_id=, one environment with ?environment_id=)",
    request: { query: PlacedPageQuery },
    responses: { 200: jsonResponse(PageMeta.extend({ databases: z.array(DatabaseView) }), "A page of databases.") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await databases.listDatabaseServices(c.var.db, c.var.principal, placementFilter(q), q);
    return c.json({ databases: page.items.map(toDatabaseView), next_cursor: page.nextCursor }, 200);
  },
);

databaseRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["databases"],
    summary: "A database service",
    request: { params: DatabaseId },
    responses: { 200: jsonResponse(DatabaseView, "The database.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toDatabaseView(await databases.getDatabaseService(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

databaseRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/connection",
    tags: ["databases"],
    summary: "Credentials and connection string (admin; audited)",
    request: { params: DatabaseId },
    responses: { 200: jsonResponse(ConnectionView, "How to connect from the project's network.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const actor = authedActor(c);
    requireRole(actor.principal, "admin", "see database credentials");
    const row = await databases.getDatabaseService(c.var.db, actor.principal, c.req.valid("param").id);
    await recordAudit(c.var.db, actor, {
      organizationId: row.organizationId,
      action: "database.credentials.reveal",
      targetType: "database",
      targetId: row.id,
    });
    return c.json(await databases.connectionInfo(c.env, row), 200);
  },
);

for (const action of LIFECYCLE_ACTIONS) {
  databaseRoutes.openapi(
    lifecycleRoute(action, {
      tag: "databases",
      container: "the database's container",
      params: DatabaseId,
      ok: jsonResponse(DatabaseView, "The database."),
    }),
    async (c) =>
      c.json(toDatabaseView(await databases.changeDatabaseState(c.var.db, c.env, authedActor(c), c.req.valid("param").id, action)), 200),
  );
}

databaseRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["databases"],
    summary: "Remove a database service; its volume survives unless purge=true (admin)",
    request: {
      params: DatabaseId,
      query: z.object({
        purge: z
          .enum(["true", "false", "1", "0"])
          .optional()
          .transform((v) => v === "true" || v === "1"),
      }),
    },
    responses: { 204: { description: "Removed." } },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    await databases.deleteDatabaseService(c.var.db, c.env, authedActor(c), c.req.valid("param").id, { purge: c.req.valid("query").purge });
    return c.body(null, 204);
  },
);
