import { z } from "@hono/zod-openapi";
import { DISK_USAGE_TYPES, SystemPruneArgs } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { diskUsage, hostDockerInfo, hostDockerVersion, startSystemPrune } from "../services/docker-system.ts";
import { authedRoute, createRouter, HostParam, jsonResponse, relayErrors } from "./openapi.ts";
import { TaskStarted, toTaskStarted } from "./tasks.ts";

// A host's Docker system (`docker info`, `docker version`, `docker system df`,
// `docker system prune`). Viewers read; members prune; pruning volumes too takes an admin.
export const dockerSystemRoutes = createRouter();
dockerSystemRoutes.use("*", requireAuth());

const EngineDocument = z.record(z.string(), z.unknown());

dockerSystemRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/system/info",
    tags: ["system"],
    summary: "The engine's `docker info` document, as the engine gives it",
    request: { params: HostParam },
    responses: { 200: jsonResponse(EngineDocument, "Docker's /info.") },
    errors: ["notFound", "relay"],
  }),
  async (c) => c.json(await hostDockerInfo(c.var.db, c.env, c.var.principal, c.req.valid("param").hostId), 200),
);

dockerSystemRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/system/version",
    tags: ["system"],
    summary: "The engine's `docker version` document",
    request: { params: HostParam },
    responses: { 200: jsonResponse(EngineDocument, "Docker's /version.") },
    errors: ["notFound", "relay"],
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
  authedRoute({
    method: "get",
    path: "/{hostId}/system/df",
    tags: ["system"],
    summary: "Disk usage by type, as `docker system df` reports it (images, containers, local volumes, build cache)",
    request: { params: HostParam },
    responses: {
      200: jsonResponse(z.object({ rows: z.array(DiskUsageRowView) }), "One row per type."),
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => c.json({ rows: await diskUsage(c.var.db, c.env, c.var.principal, c.req.valid("param").hostId) }, 200),
);

dockerSystemRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/system/prune",
    tags: ["system"],
    summary:
      "Prune stopped containers, unused networks, dangling (or with `all`, unused) images and build cache — volumes only with `volumes: true` (admin+) — as a task: 202 with its task_id (member+)",
    description:
      "The task's progress moves one step per object type; its result lists what was deleted (`containers`, `networks`, `volumes`, `images`, `build_cache`) and `space_reclaimed` in bytes.",
    request: {
      params: HostParam,
      body: { required: false, content: { "application/json": { schema: classic(SystemPruneArgs).openapi("SystemPrune") } } },
    },
    responses: {
      202: jsonResponse(TaskStarted, "The prune started."),
      503: relayErrors[503],
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof SystemPruneArgs> | undefined) ?? {};
    return c.json(toTaskStarted(await startSystemPrune(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, body)), 202);
  },
);
