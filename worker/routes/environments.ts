import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { applicationsOfProject } from "../services/applications.ts";
import { databasesOfProject } from "../services/databases.ts";
import * as environments from "../services/project-environments.ts";
import { DatabaseView, EnvironmentPatchBody, EnvironmentView, toDatabaseView, toEnvironmentView } from "./app-schemas.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, queryBool, validationErrors } from "./openapi.ts";

/** `/api/v1/environments/{id}`; a project's list and create are under /api/v1/projects/{id}/environments. */
export const environmentRoutes = createRouter();
environmentRoutes.use("*", requireAuth());

const EnvironmentId = IdParam("id", "env_0123456789abcdefghij");
const EnvironmentDetail = EnvironmentView.extend({
  applications: z.array(
    z.object({ id: z.string(), name: z.string(), app_name: z.string(), status: z.string(), host_id: z.string().nullable() }),
  ),
  databases: z.array(DatabaseView),
}).openapi("EnvironmentDetail");

environmentRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["environments"],
    summary: "An environment with its applications and databases",
    request: { params: EnvironmentId },
    responses: { 200: jsonResponse(EnvironmentDetail, "The environment.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const env = await environments.getEnvironment(c.var.db, c.var.principal, c.req.valid("param").id);
    const [apps, dbs] = await Promise.all([
      applicationsOfProject(c.var.db, c.var.principal, env.projectId, env.id),
      databasesOfProject(c.var.db, c.var.principal, env.projectId, env.id),
    ]);
    return c.json(
      {
        ...toEnvironmentView(env),
        applications: apps.map((a) => ({ id: a.id, name: a.name, app_name: a.appName, status: a.status, host_id: a.hostId })),
        databases: dbs.map(toDatabaseView),
      },
      200,
    );
  },
);

environmentRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["environments"],
    summary: "Rename or describe an environment (member+; the default one keeps its name)",
    request: { params: EnvironmentId, body: jsonBody(EnvironmentPatchBody) },
    responses: {
      200: jsonResponse(EnvironmentView, "The environment."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(
      toEnvironmentView(await environments.updateEnvironment(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))),
      200,
    ),
);

environmentRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["environments"],
    summary: "Delete an environment (admin); 409 for the default one, and while it has services unless force=true",
    request: { params: EnvironmentId, query: z.object({ force: queryBool.optional() }) },
    responses: { 204: { description: "Deleted." }, 422: validationErrors[422] },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await environments.deleteEnvironment(c.var.db, c.env, authedActor(c), c.req.valid("param").id, {
      force: c.req.valid("query").force === true,
    });
    return c.body(null, 204);
  },
);
