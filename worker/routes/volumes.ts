import { z } from "@hono/zod-openapi";
import { LabelFilterSchema, VolumeCreateArgs, VolumeName } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { createVolume, inspectVolume, listVolumes, pruneVolumes, removeVolume, toVolumeView } from "../services/volumes.ts";
import { createRouter, HostParam, hostRoute, jsonBody, jsonResponse, queryBool } from "./openapi.ts";

// Volumes on a host (Portainer's and `docker volume`'s): list with usage, inspect, create,
// remove, prune. Viewers read; members create and remove; admins prune.
export const volumeRoutes = createRouter();
volumeRoutes.use("*", requireAuth());

export const VolumeView = z
  .object({
    name: z.string(),
    driver: z.string(),
    mountpoint: z.string(),
    created_at: z.string().nullable(),
    scope: z.string(),
    labels: z.record(z.string(), z.string()),
    options: z.record(z.string(), z.string()),
    managed: z.boolean().openapi({ description: "Created through Pier (label dev.pier.managed=true)." }),
    size: z.number().nullable().openapi({ description: "Bytes on disk, with ?usage=true, when the driver can tell." }),
    ref_count: z.number().nullable().openapi({ description: "Containers using it, with ?usage=true." }),
  })
  .openapi("Volume");

const VolumeParam = HostParam.extend({
  name: classic(VolumeName).openapi({ param: { name: "name", in: "path" }, example: "pg-data" }),
});

/** A prune's optional body: only objects with these labels (`key` or `key=value`). */
export const PruneBody = z.object({ label: classic(LabelFilterSchema).optional() }).openapi("PruneFilter");

/** `?label=a&label=b=c` → an array; one value is one filter. */
export const labelQuery = z
  .union([z.string().min(1).max(2048), z.array(z.string().min(1).max(2048)).max(20)])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .openapi({ description: "Only objects with this label (`key` or `key=value`); repeat for several." });

volumeRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/volumes",
    tags: ["volumes"],
    summary: "Volumes on a host; with ?usage=true each one's size and the containers using it (a disk walk)",
    request: {
      params: HostParam,
      query: z.object({ usage: queryBool.optional(), dangling: queryBool.optional(), label: labelQuery.optional() }),
    },
    responses: {
      200: jsonResponse(z.object({ volumes: z.array(VolumeView), warnings: z.array(z.string()) }), "The volumes."),
    },
  }),
  async (c) => {
    const { hostId } = c.req.valid("param");
    const list = await listVolumes(c.var.db, c.env, c.var.principal, hostId, c.req.valid("query"));
    return c.json({ volumes: list.volumes.map(toVolumeView), warnings: list.warnings }, 200);
  },
);

volumeRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/volumes",
    tags: ["volumes"],
    summary: "Create a volume (member+); an existing volume of that name is answered as is, as Docker does",
    request: { params: HostParam, body: jsonBody(classic(VolumeCreateArgs).openapi("VolumeCreate")) },
    responses: {
      201: jsonResponse(VolumeView, "The volume."),
    },
  }),
  async (c) => {
    const volume = await createVolume(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json"));
    return c.json(toVolumeView(volume), 201);
  },
);

volumeRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/volumes/prune",
    tags: ["volumes"],
    summary: "Remove every volume no container uses, optionally only those with a label (admin+: the data is lost)",
    request: {
      params: HostParam,
      body: { required: false, content: { "application/json": { schema: PruneBody } } },
    },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ deleted: z.array(z.string()), space_reclaimed: z.number() }), "What was removed, and the bytes freed."),
    },
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof PruneBody> | undefined) ?? {};
    return c.json(await pruneVolumes(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, body), 200);
  },
);

volumeRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/volumes/{name}",
    tags: ["volumes"],
    summary: "One volume",
    request: { params: VolumeParam },
    responses: {
      200: jsonResponse(VolumeView, "The volume."),
    },
  }),
  async (c) => {
    const { hostId, name } = c.req.valid("param");
    return c.json(toVolumeView(await inspectVolume(c.var.db, c.env, c.var.principal, hostId, name)), 200);
  },
);

volumeRoutes.openapi(
  hostRoute({
    method: "delete",
    path: "/{hostId}/volumes/{name}",
    tags: ["volumes"],
    summary: "Remove a volume (member+); 409 with the engine's message while a container uses it",
    request: { params: VolumeParam, query: z.object({ force: queryBool.optional() }) },
    conflict: true,
    responses: {
      200: jsonResponse(z.object({ name: z.string(), removed: z.literal(true) }), "Removed."),
    },
  }),
  async (c) => {
    const { hostId, name } = c.req.valid("param");
    const { force } = c.req.valid("query");
    return c.json(await removeVolume(c.var.db, c.env, authedActor(c), hostId, { name, ...(force !== undefined ? { force } : {}) }), 200);
  },
);
