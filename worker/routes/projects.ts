import { z } from "@hono/zod-openapi";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { applicationsOfProject } from "../services/applications.ts";
import { actorNames, projectActivity } from "../services/audit.ts";
import { databasesOfProject } from "../services/databases.ts";
import * as projects from "../services/projects.ts";
import * as environments from "../services/project-environments.ts";
import {
  DatabaseView,
  EnvironmentView,
  NewEnvironmentBody,
  NewProjectBody,
  ProjectPatchBody,
  ProjectView,
  toDatabaseView,
  toEnvironmentView,
  toProjectView,
} from "./app-schemas.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const projectRoutes = createRouter();
projectRoutes.use("*", requireAuth());

const ProjectId = IdParam("id", "prj_0123456789abcdefghij");
const AppSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    app_name: z.string(),
    status: z.string(),
    host_id: z.string().nullable(),
    environment_id: z.string().nullable(),
  })
  .openapi("ApplicationSummary");
const ProjectDetail = ProjectView.extend({
  environments: z.array(EnvironmentView),
  applications: z.array(AppSummary),
  databases: z.array(DatabaseView),
}).openapi("ProjectDetail");
const NewProjectView = ProjectView.extend({
  environments: z.array(EnvironmentView).openapi({ description: "Its default environment, `production`." }),
}).openapi("NewProject");

projectRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["projects"],
    summary: "Create a project (member+)",
    request: { body: jsonBody(NewProjectBody) },
    responses: {
      201: jsonResponse(NewProjectView, "The project and its default environment."),
    },
    errors: ["validation", "conflict"],
  }),
  async (c) => {
    const row = await projects.createProject(c.var.db, authedActor(c), c.req.valid("json"));
    return c.json({ ...toProjectView(row), environments: [toEnvironmentView(row.environment)] }, 201);
  },
);

projectRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["projects"],
    summary: "Projects of your organization, newest first",
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ projects: z.array(ProjectView) }), "A page of projects."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const page = await projects.listProjects(c.var.db, c.var.principal, c.req.valid("query"));
    return c.json({ projects: page.items.map(toProjectView), next_cursor: page.nextCursor }, 200);
  },
);

projectRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["projects"],
    summary: "A project with its environments, applications and databases",
    request: { params: ProjectId },
    responses: { 200: jsonResponse(ProjectDetail, "The project.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const project = await projects.getProject(c.var.db, c.var.principal, c.req.valid("param").id);
    const [envs, apps, dbs] = await Promise.all([
      environments.environmentsOfProject(c.var.db, c.var.principal, project.id),
      applicationsOfProject(c.var.db, c.var.principal, project.id),
      databasesOfProject(c.var.db, c.var.principal, project.id),
    ]);
    return c.json(
      {
        ...toProjectView(project),
        environments: envs.map(toEnvironmentView),
        applications: apps.map((a) => ({
          id: a.id,
          name: a.name,
          app_name: a.appName,
          status: a.status,
          host_id: a.hostId,
          environment_id: a.environmentId,
        })),
        databases: dbs.map(toDatabaseView),
      },
      200,
    );
  },
);

projectRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["projects"],
    summary: "Rename or describe a project (member+)",
    request: { params: ProjectId, body: jsonBody(ProjectPatchBody) },
    responses: { 200: jsonResponse(ProjectView, "The project.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(toProjectView(await projects.updateProject(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

projectRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["projects"],
    summary: "Delete a project; 409 while it has applications or databases, unless force=true (admin)",
    request: {
      params: ProjectId,
      query: z.object({
        force: z
          .enum(["true", "false", "1", "0"])
          .optional()
          .transform((v) => v === "true" || v === "1"),
      }),
    },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await projects.deleteProject(c.var.db, c.env, authedActor(c), c.req.valid("param").id, { force: c.req.valid("query").force });
    return c.body(null, 204);
  },
);

projectRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/environments",
    tags: ["environments"],
    summary: "A project's environments, the default (`production`) first",
    request: { params: ProjectId },
    responses: {
      200: jsonResponse(z.object({ environments: z.array(EnvironmentView) }), "The environments."),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const project = await projects.getProject(c.var.db, c.var.principal, c.req.valid("param").id);
    return c.json(
      { environments: (await environments.environmentsOfProject(c.var.db, c.var.principal, project.id)).map(toEnvironmentView) },
      200,
    );
  },
);

projectRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/environments",
    tags: ["environments"],
    summary: "Add an environment to a project (member+)",
    request: { params: ProjectId, body: jsonBody(NewEnvironmentBody) },
    responses: {
      201: jsonResponse(EnvironmentView, "The environment."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(
      toEnvironmentView(await environments.createEnvironment(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))),
      201,
    ),
);

const ActivityView = z
  .object({
    id: z.string(),
    action: z.string().openapi({ example: "deployment.create" }),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    actor_name: z.string().nullable().openapi({ description: "The user's username or the API key's name, when known." }),
    created_at: z.string(),
  })
  .openapi("ProjectActivity");

projectRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/activity",
    tags: ["projects"],
    summary:
      "What happened to the project and everything in it (environments, applications, domains, deployments, databases), newest first: who did what, without the audit log's addresses and details",
    request: { params: ProjectId, query: PageQuery },
    responses: { 200: jsonResponse(PageMeta.extend({ activity: z.array(ActivityView) }), "A page of activity.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const project = await projects.getProject(c.var.db, c.var.principal, c.req.valid("param").id);
    const page = await projectActivity(c.var.db, org, project.id, c.req.valid("query"));
    const names = await actorNames(c.var.db, org, page.items);
    return c.json(
      {
        activity: page.items.map((e) => ({
          id: e.id,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          actor_type: e.actorType,
          actor_id: e.actorId,
          actor_name: (e.actorId && names.get(e.actorId)) ?? null,
          created_at: e.createdAt,
        })),
        next_cursor: page.nextCursor,
      },
      200,
    );
  },
);
