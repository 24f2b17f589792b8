import { createRoute, z } from "@hono/zod-openapi";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { applicationsOfProject } from "../services/applications.ts";
import { databasesOfProject } from "../services/databases.ts";
import * as projects from "../services/projects.ts";
import { NewProjectBody, ProjectPatchBody, ProjectView, toDatabaseView, toProjectView, DatabaseView } from "./app-schemas.ts";
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
  validationErrors,
} from "./openapi.ts";

export const projectRoutes = createRouter();
projectRoutes.use("*", requireAuth());

const ProjectId = IdParam("id", "prj_0123456789abcdefghij");
const AppSummary = z
  .object({ id: z.string(), name: z.string(), app_name: z.string(), status: z.string(), host_id: z.string().nullable() })
  .openapi("ApplicationSummary");
const ProjectDetail = ProjectView.extend({ applications: z.array(AppSummary), databases: z.array(DatabaseView) }).openapi("ProjectDetail");

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["projects"],
    summary: "Create a project (member+)",
    security: bearerSecurity,
    request: { body: jsonBody(NewProjectBody) },
    responses: { 201: jsonResponse(ProjectView, "The project."), ...validationErrors, ...authErrors, ...conflictError },
  }),
  async (c) => c.json(toProjectView(await projects.createProject(c.var.db, authedActor(c), c.req.valid("json"))), 201),
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["projects"],
    summary: "Projects of your organization, newest first",
    security: bearerSecurity,
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ projects: z.array(ProjectView) }), "A page of projects."),
      ...authErrors,
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const page = await projects.listProjects(c.var.db, c.var.principal.organizationId, c.req.valid("query"));
    return c.json({ projects: page.items.map(toProjectView), next_cursor: page.nextCursor }, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["projects"],
    summary: "A project with its applications and databases",
    security: bearerSecurity,
    request: { params: ProjectId },
    responses: { 200: jsonResponse(ProjectDetail, "The project."), ...authErrors, ...notFoundError },
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const project = await projects.getProject(c.var.db, org, c.req.valid("param").id);
    const [apps, dbs] = await Promise.all([
      applicationsOfProject(c.var.db, org, project.id),
      databasesOfProject(c.var.db, org, project.id),
    ]);
    return c.json(
      {
        ...toProjectView(project),
        applications: apps.map((a) => ({ id: a.id, name: a.name, app_name: a.appName, status: a.status, host_id: a.hostId })),
        databases: dbs.map(toDatabaseView),
      },
      200,
    );
  },
);

projectRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags: ["projects"],
    summary: "Rename or describe a project (member+)",
    security: bearerSecurity,
    request: { params: ProjectId, body: jsonBody(ProjectPatchBody) },
    responses: { 200: jsonResponse(ProjectView, "The project."), ...validationErrors, ...authErrors, ...notFoundError, ...conflictError },
  }),
  async (c) =>
    c.json(toProjectView(await projects.updateProject(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

projectRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["projects"],
    summary: "Delete a project; 409 while it has applications or databases, unless force=true (admin)",
    security: bearerSecurity,
    request: {
      params: ProjectId,
      query: z.object({
        force: z
          .enum(["true", "false", "1", "0"])
          .optional()
          .transform((v) => v === "true" || v === "1"),
      }),
    },
    responses: { 204: { description: "Deleted." }, ...authErrors, ...notFoundError, ...conflictError },
  }),
  async (c) => {
    await projects.deleteProject(c.var.db, c.env, authedActor(c), c.req.valid("param").id, { force: c.req.valid("query").force });
    return c.body(null, 204);
  },
);
