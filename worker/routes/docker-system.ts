import { createRoute, z } from "@hono/zod-openapi";
import { DISK_USAGE_TYPES, SystemPruneArgs } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { diskUsage, hostDockerInfo, hostDockerVersion, startSystemPrune } from "../services/docker-system.ts";
import {
  authErrors,
  bearerSecurity,
  createRouter,
  HostParam,
  jsonResponse,
  notFoundError,
  relayErrors,
  validationErrors,
} from "./openapi.ts";
import { TaskStarted, toTaskView } from "./tasks.ts";

// A host's Docker system (`docker info`, `docker version`, `docker system df`,
// `docker system prune`). Viewers read; members prune; pruning volumes too takes an admin.
export const dockerSystemRoutes = createRouter();
dockerSystemRoutes.use("*", requireAuth());

const EngineDocument = z.record(z.string(), z.unknown());

dockerSystemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{hostId}/system/info",
    tags: ["system"],
    summary: "The engine's `docker info` document, as the engine gives it",
    security: bearerSecurity,
    request: { params: HostParam },
    responses: { 200: jsonResponse(EngineDocument, "Docker's /info."), ...authErrors, ...notFoundError, ...relayErrors },
  }),
  async (c) => c.json(await hostDockerInfo(c.var.db, c.env, c.var.principal, c.req.valid("param").hostId), 200),
);

dockerSystemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{hostId}/system/version",
    tags: ["system"],
    summary: "The engine's `docker version` document",
    security: bearerSecurity,
    request: { params: HostParam },
    responses: { 200: jsonResponse(EngineDocument, "Docker's /version."), ...authErrors, ...notFoundError, ...relayErrors },
  }),
  async (c) => c.json(await hostDockerVersion(c.var.db, c.env, c.var.principal, c.req.valid("param").hostId), 200),
);

const DiskUsageRowView = z
  .object({
    type: z.enum(DISK_USAGE_TYPES),
    total: z.number().int(),
    active: z.number().int(),
    size: z.number().openapi({ description: "Bytes." }),
    reclaimable: z.number().openapi({ description: "Bytes." }),
    size_text: z.string().openapi({ example: "3.2GB" }),
    reclaimable_text: z.string().openapi({ example: "450MB (14%)" }),
  })
  .openapi("DiskUsageRow");

dockerSystemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{hostId}/system/df",
    tags: ["system"],
    summary: "Disk usage by type, as `docker system df` reports it (images, containers, local volumes, build cache)",
    security: bearerSecurity,
    request: { params: HostParam },
    responses: {
      200: jsonResponse(z.object({ rows: z.array(DiskUsageRowView) }), "One row per type."),
      ...authErrors,
      ...notFoundError,
      ...relayErrors,
    },
  }),
  async (c) => c.json({ rows: await diskUsage(c.var.db, c.env, c.var.principal, c.req.valid("param").hostId) }, 200),
);

dockerSystemRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{hostId}/system/prune",
    tags: ["system"],
    summary:
      "Prune stopped containers, unused networks, dangling (or with `all`, unused) images and build cache — volumes only with `volumes: true` (admin+) — as a task: 202 with its task_id (member+)",
    description:
      "The task's progress moves one step per object type; its result lists what was deleted (`containers`, `networks`, `volumes`, `images`, `build_cache`) and `space_reclaimed` in bytes.",
    security: bearerSecurity,
    request: {
      params: HostParam,
      body: { required: false, content: { "application/json": { schema: classic(SystemPruneArgs).openapi("SystemPrune") } } },
    },
    responses: {
      202: jsonResponse(TaskStarted, "The prune started."),
      ...validationErrors,
      ...authErrors,
      ...notFoundError,
      503: relayErrors[503],
    },
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof SystemPruneArgs> | undefined) ?? {};
    const task = await startSystemPrune(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, body);
    return c.json({ task_id: task.id, task: toTaskView(task) }, 202);
  },
);
