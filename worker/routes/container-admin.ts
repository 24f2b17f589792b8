import { z } from "@hono/zod-openapi";
import {
  ContainerCommitArgs,
  ContainerPath,
  type ContainerPathStat,
  ContainerRef,
  ContainerRenameArgs,
  ContainerUpdateFields,
  withUpdateRules,
} from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { commitContainer, renameContainer, statContainerPath, updateContainer } from "../services/container-admin.ts";
import { openHostDownload, runHostUpload } from "../services/transfers.ts";
import { createRouter, HostParam, hostRoute, jsonBody, jsonResponse, problem } from "./openapi.ts";

// Changes to an existing container: `docker update` (memory, CPU, restart policy — live),
// `docker commit`, `docker rename`, and its files in and out as tars (`docker cp`, through the
// relay's byte transfer). Members and up; each one is audited (a path's stat is a read).
export const containerAdminRoutes = createRouter();
containerAdminRoutes.use("*", requireAuth());

const ContainerParam = HostParam.extend({
  id: classic(ContainerRef).openapi({ param: { name: "id", in: "path" }, example: "web-1" }),
});

containerAdminRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/containers/{id}/update",
    tags: ["containers"],
    summary: "Change a running container's memory, CPU and restart policy, as `docker update` (member+)",
    description:
      "Fields left out stay as they are. Raising `memory` above a swap cap set at creation raises the cap to twice the new memory (what `docker run -m` gives), unless `memory_swap` says otherwise.",
    request: { params: ContainerParam, body: jsonBody(classic(withUpdateRules(ContainerUpdateFields)).openapi("ContainerUpdate")) },
    responses: {
      200: jsonResponse(z.object({ id: z.string(), warnings: z.array(z.string()) }).openapi("ContainerUpdated"), "Applied."),
    },
    conflict: true,
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    return c.json(await updateContainer(c.var.db, c.env, authedActor(c), hostId, { ...c.req.valid("json"), id }), 200);
  },
);

containerAdminRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/containers/{id}/commit",
    tags: ["containers"],
    summary: "Save the container's filesystem and settings as a new image, as `docker commit` (member+)",
    request: { params: ContainerParam, body: jsonBody(classic(ContainerCommitArgs).omit({ id: true }).openapi("ContainerCommit")) },
    responses: {
      201: jsonResponse(z.object({ id: z.string(), image: z.string() }).openapi("ContainerCommitted"), "The new image's id and name."),
    },
    conflict: true,
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    return c.json(await commitContainer(c.var.db, c.env, authedActor(c), hostId, { ...c.req.valid("json"), id }), 201);
  },
);

containerAdminRoutes.openapi(
  hostRoute({
    method: "post",
    path: "/{hostId}/containers/{id}/rename",
    tags: ["containers"],
    summary: "Rename a container; a name already taken is a 409 (member+)",
    request: { params: ContainerParam, body: jsonBody(classic(ContainerRenameArgs).omit({ id: true }).openapi("ContainerRename")) },
    responses: {
      200: jsonResponse(z.object({ id: z.string(), name: z.string() }).openapi("ContainerRenamed"), "Renamed."),
    },
    conflict: true,
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    return c.json(await renameContainer(c.var.db, c.env, authedActor(c), hostId, { ...c.req.valid("json"), id }), 200);
  },
);

const PathQuery = z.object({
  path: classic(ContainerPath).openapi({ param: { name: "path", in: "query" }, example: "/etc/hostname" }),
});

const PathStat = z
  .object({
    name: z.string(),
    size: z.number(),
    mode: z.number().openapi({ description: "Go's os.FileMode bits: directory 1 << 31, symlink 1 << 27, over the permission bits." }),
    mtime: z.string(),
    linkTarget: z.string(),
  })
  .openapi("ContainerPathStat");

/** The engine's own header for a path's stat (base64 of its JSON), so `docker cp`-style clients read it as from the engine. */
const STAT_HEADER = "X-Docker-Container-Path-Stat";
const encodeStat = (stat: ContainerPathStat): string => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(stat))));

containerAdminRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/archive/stat",
    tags: ["containers"],
    summary: "What a path in the container is: name, size, mode, modification time, link target (viewer+)",
    request: { params: ContainerParam, query: PathQuery },
    responses: { 200: jsonResponse(PathStat, "The path's stat, as the engine gives it.") },
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const stat = await statContainerPath(c.var.db, c.env, authedActor(c), hostId, { id, path: c.req.valid("query").path });
    return c.json(stat, 200);
  },
);

containerAdminRoutes.openapi(
  hostRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/archive",
    tags: ["containers"],
    summary: "Download a file or directory of the container as a tar, as `docker cp CONTAINER:PATH -` (member+)",
    description:
      "Streams the engine's tar through the host's relay as it is read; a client that stops reading stops the host's read. The path's stat comes in the engine's `X-Docker-Container-Path-Stat` header (base64 JSON). A missing path is a 404 before any byte.",
    request: { params: ContainerParam, query: PathQuery },
    responses: {
      200: { description: "The tar.", content: { "application/x-tar": { schema: z.string().openapi({ format: "binary" }) } } },
    },
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const path = c.req.valid("query").path;
    const download = await openHostDownload(
      c.var.db,
      c.env,
      authedActor(c),
      hostId,
      "container.archive_get",
      { id, path },
      { action: "container.archive_get", targetType: "container", targetId: id, metadata: { path } },
    );
    const headers = new Headers({ "content-type": "application/x-tar" });
    const base = path.replace(/\/+$/, "").split("/").pop() || "root";
    headers.set("content-disposition", `attachment; filename="${base.replace(/[^A-Za-z0-9_.-]+/g, "_")}.tar"`);
    const stat = download.meta.stat as ContainerPathStat | null | undefined;
    if (stat) headers.set(STAT_HEADER, encodeStat(stat));
    return new Response(download.body, { status: 200, headers }) as never;
  },
);

containerAdminRoutes.openapi(
  hostRoute({
    method: "put",
    path: "/{hostId}/containers/{id}/archive",
    tags: ["containers"],
    summary: "Extract a tar into a directory of the container, as `docker cp - CONTAINER:PATH` (member+)",
    description:
      "The tar is the request body and streams to the host's engine as it arrives. `path` must be an existing directory: a missing one is a 404, a file a 400, a read-only root filesystem a 403. A body that is not a tar is a 400 before anything reaches the host; one larger than PIER_MAX_UPLOAD_BYTES is a 413.",
    request: {
      params: ContainerParam,
      query: PathQuery.extend({
        no_overwrite_dir_non_dir: z
          .enum(["true", "false"])
          .optional()
          .openapi({ description: "Refuse to replace a directory with a non-directory or the reverse." }),
        copy_uid_gid: z
          .enum(["true", "false"])
          .optional()
          .openapi({ description: "Give the files the container's main user and group (`docker cp -a`)." }),
      }),
      body: {
        required: true,
        content: {
          "application/x-tar": {
            schema: z.string().openapi({ format: "binary", description: "A tar (gzip, bzip2, xz or zstd compressed ones too)." }),
          },
        },
      },
    },
    responses: {
      200: jsonResponse(z.object({ path: z.string(), bytes: z.number() }).openapi("ContainerArchivePut"), "Extracted."),
      403: problem("The container's root filesystem is read-only, or the caller may not copy files in."),
      413: problem("The tar is larger than PIER_MAX_UPLOAD_BYTES."),
    },
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const query = c.req.valid("query");
    const args = {
      id,
      path: query.path,
      ...(query.no_overwrite_dir_non_dir ? { no_overwrite_dir_non_dir: query.no_overwrite_dir_non_dir === "true" } : {}),
      ...(query.copy_uid_gid ? { copy_uid_gid: query.copy_uid_gid === "true" } : {}),
    };
    const put = await runHostUpload(
      c.var.db,
      c.env,
      authedActor(c),
      hostId,
      "container.archive_put",
      args,
      { body: c.req.raw.body, contentLength: c.req.header("content-length") },
      { action: "container.archive_put", targetType: "container", targetId: id, metadata: (r) => ({ path: r.path, bytes: r.bytes }) },
    );
    return c.json(put, 200);
  },
);
