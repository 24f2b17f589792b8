import { z } from "@hono/zod-openapi";
import { ContainerCommitArgs, ContainerRef, ContainerRenameArgs, ContainerUpdateFields, withUpdateRules } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { commitContainer, renameContainer, updateContainer } from "../services/container-admin.ts";
import { createRouter, HostParam, hostRoute, jsonBody, jsonResponse } from "./openapi.ts";

// Changes to an existing container: `docker update` (memory, CPU, restart policy — live),
// `docker commit`, `docker rename`. Members and up; each one is audited.
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
