import { z } from "@hono/zod-openapi";
import { ComposeDownArgs, ComposeProjectName, ComposePullArgs, ComposeServiceName, ComposeSource, ComposeUpArgs } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { composeDown, composeLogs, composePs, startComposePull, startComposeUp } from "../services/compose.ts";
import { authedRoute, createRouter, HostParam, hostRoute, jsonBody, jsonResponse, Problem, queryBool } from "./openapi.ts";
import { TaskStarted, toTaskStarted } from "./tasks.ts";

// Compose projects on a host (`docker compose up|pull|down|ps|logs`), run by the host's Compose
// (v2, else v1). A project comes as its file's text, as a directory on the host (admin+), or —
// naming the project alone — as the file the agent kept from an earlier `up`.
export const composeRoutes = createRouter();
composeRoutes.use("*", requireAuth());

const ProjectParam = HostParam.extend({
  project: classic(ComposeProjectName).openapi({ param: { name: "project", in: "path" }, example: "shop" }),
});

const Publisher = z.object({ URL: z.string(), TargetPort: z.number(), PublishedPort: z.number(), Protocol: z.string() });
export const ComposeContainer = z
  .object({
    ID: z.string(),
    Name: z.string(),
    Service: z.string(),
    Image: z.string(),
    State: z.string(),
    Status: z.string(),
    Publishers: z.array(Publisher),
  })
  .openapi("ComposeContainer", { description: "One container of the project, in the fields of `docker compose ps --format json`." });

const RunResult = z
  .object({
    project: z.string(),
    command: z.string().openapi({ description: "`docker compose` or `docker-compose`.", example: "docker compose" }),
    output: z.string().openapi({ description: "What Compose printed (the last 64 KiB)." }),
  })
  .openapi("ComposeRunResult");

/** Besides a host route's errors. */
const composeErrors = {
  501: {
    description: "Docker Compose is not installed on the host; `detail` says what to install.",
    content: { "application/problem+json": { schema: Problem } },
  },
} as const;

const SOURCE_NOTE =
  "Send the compose file as `content`, or name a `directory` on the host (admin+), or neither to use the file kept from an earlier `up` with `content`. A file Compose refuses is a 422 in Compose's words; a host without Compose answers 501 naming what to install.";

composeRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/compose/up",
    tags: ["compose"],
    summary: "`docker compose up -d` for a project, as a task: 202 with its task_id (member+)",
    description: `${SOURCE_NOTE} The task's progress follows Compose's output; its result holds the output and the project's containers.`,
    request: { params: HostParam, body: jsonBody(classic(ComposeUpArgs).openapi("ComposeUp")) },
    responses: { 202: jsonResponse(TaskStarted, "Compose started."), ...composeErrors },
  }),
  async (c) => {
    return c.json(
      toTaskStarted(await startComposeUp(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json"))),
      202,
    );
  },
);

composeRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/compose/pull",
    tags: ["compose"],
    summary: "`docker compose pull` for a project, as a task: 202 with its task_id (member+)",
    description: SOURCE_NOTE,
    request: { params: HostParam, body: jsonBody(classic(ComposePullArgs).openapi("ComposePull")) },
    responses: { 202: jsonResponse(TaskStarted, "The pull started."), ...composeErrors },
  }),
  async (c) => {
    return c.json(
      toTaskStarted(await startComposePull(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json"))),
      202,
    );
  },
);

composeRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/compose/down",
    tags: ["compose"],
    summary: "`docker compose down`: stop and remove the project's containers and networks (member+; `volumes: true` admin+)",
    description: SOURCE_NOTE,
    request: { params: HostParam, body: jsonBody(classic(ComposeDownArgs).openapi("ComposeDown")) },
    responses: { 200: jsonResponse(RunResult, "Compose's output."), ...composeErrors },
  }),
  async (c) => c.json(await composeDown(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json")), 200),
);

composeRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/compose/{project}/ps",
    tags: ["compose"],
    summary: "The project's containers, as `docker compose ps` lists them (read from the engine by the project's label)",
    request: { params: ProjectParam, query: z.object({ all: queryBool.optional().openapi({ description: "Stopped containers too." }) }) },
    responses: {
      200: jsonResponse(
        z.object({ project: z.string(), containers: z.array(ComposeContainer) }),
        "The containers (none for an unknown project).",
      ),
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => {
    const { hostId, project } = c.req.valid("param");
    const { all } = c.req.valid("query");
    return c.json(await composePs(c.var.db, c.env, c.var.principal, hostId, { project, ...(all !== undefined ? { all } : {}) }), 200);
  },
);

const listQuery = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).max(100)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

composeRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/compose/{project}/logs",
    tags: ["compose"],
    summary: "`docker compose logs` for the project's services (the kept file, or `directory` admin+)",
    request: {
      params: ProjectParam,
      query: z.object({
        directory: classic(ComposeSource).shape.directory,
        file: listQuery(z.string().max(255)).optional().openapi({ description: "Compose files inside `directory`; repeat for several." }),
        service: listQuery(classic(ComposeServiceName)).optional().openapi({ description: "Only this service; repeat for several." }),
        tail: z.coerce.number().int().min(0).max(10_000).optional().openapi({ description: "Lines per service (default 200)." }),
        timestamps: queryBool.optional(),
      }),
    },
    responses: { 200: jsonResponse(RunResult, "The logs, as Compose prints them."), ...composeErrors },
  }),
  async (c) => {
    const { hostId, project } = c.req.valid("param");
    const q = c.req.valid("query");
    const args = {
      project,
      ...(q.directory !== undefined ? { directory: q.directory } : {}),
      ...(q.file !== undefined ? { files: q.file } : {}),
      ...(q.service !== undefined ? { services: q.service } : {}),
      ...(q.tail !== undefined ? { tail: q.tail } : {}),
      ...(q.timestamps !== undefined ? { timestamps: q.timestamps } : {}),
    };
    return c.json(await composeLogs(c.var.db, c.env, c.var.principal, hostId, args), 200);
  },
);
