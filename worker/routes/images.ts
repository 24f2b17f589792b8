import { ImageRef } from "#protocol";
import { createRoute, z } from "@hono/zod-openapi";
import { authedActor } from "../middleware/request-context.ts";
import { requireAuth } from "../middleware/auth.ts";
import { getHost } from "../services/hosts.ts";
import { runOnOrgHost } from "../services/host-relay.ts";
import { PullRequest, startHostTask } from "../services/host-tasks.ts";
import { requireRole } from "../services/principal.ts";
import {
  authErrors,
  bearerSecurity,
  conflictError,
  createRouter,
  HostParam,
  jsonBody,
  jsonResponse,
  notFoundError,
  queryBool,
  relayErrors,
  validationErrors,
} from "./openapi.ts";
import { TaskStarted, toTaskView } from "./tasks.ts";

// Images on a host: list, pull (a task: it can take minutes), remove — Portainer's image list.
export const imageRoutes = createRouter();
imageRoutes.use("*", requireAuth());

const ImageView = z
  .object({
    id: z.string(),
    short_id: z.string(),
    repo_tags: z.array(z.string()),
    repo_digests: z.array(z.string()),
    size: z.number(),
    created_at: z.string(),
    /** Containers using it, when Docker counted them (-1 otherwise). */
    containers: z.number(),
    labels: z.record(z.string(), z.string()),
  })
  .openapi("Image");

type DockerImage = {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size?: number;
  Created?: number;
  Containers?: number;
  Labels?: Record<string, string> | null;
};

const toImageView = (i: DockerImage): z.infer<typeof ImageView> => ({
  id: i.Id,
  short_id: i.Id.replace(/^sha256:/, "").slice(0, 12),
  repo_tags: (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
  repo_digests: (i.RepoDigests ?? []).filter((d) => d !== "<none>@<none>"),
  size: i.Size ?? 0,
  created_at: new Date((i.Created ?? 0) * 1000).toISOString(),
  containers: i.Containers ?? -1,
  labels: i.Labels ?? {},
});

imageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{hostId}/images",
    tags: ["images"],
    summary: "Images on a host (intermediate layers too with ?all=true)",
    security: bearerSecurity,
    request: { params: HostParam, query: z.object({ all: queryBool.optional() }) },
    responses: {
      200: jsonResponse(z.object({ images: z.array(ImageView) }), "The images."),
      ...authErrors,
      ...notFoundError,
      ...relayErrors,
    },
  }),
  async (c) => {
    const list = (await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, c.req.valid("param").hostId, "image.list", {
      all: c.req.valid("query").all ?? false,
    })) as DockerImage[];
    return c.json({ images: list.map(toImageView) }, 200);
  },
);

imageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{hostId}/images/pull",
    tags: ["images"],
    summary: "Pull an image on the host, as a task: 202 with its task_id; follow it at /api/v1/tasks/{id} (member+)",
    description:
      "`auth` holds registry credentials for this pull only: they go to the host's Docker engine and are neither stored nor logged.",
    security: bearerSecurity,
    request: { params: HostParam, body: jsonBody(PullRequest) },
    responses: {
      202: jsonResponse(TaskStarted, "The pull started."),
      ...validationErrors,
      ...authErrors,
      ...notFoundError,
      503: relayErrors[503],
    },
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "pull images");
    const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").hostId);
    const task = await startHostTask(c.var.db, c.env, authedActor(c), host, { kind: "image.pull", args: c.req.valid("json") });
    return c.json({ task_id: task.id, task: toTaskView(task) }, 202);
  },
);

imageRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{hostId}/images/{image}",
    tags: ["images"],
    summary: "Remove an image by id or reference (URL-encode the slashes of `registry/name:tag`) (member+)",
    security: bearerSecurity,
    request: {
      params: HostParam.extend({
        image: ImageRef.openapi({ param: { name: "image", in: "path" }, example: "sha256:0123…" }),
      }),
      query: z.object({ force: queryBool.optional(), noprune: queryBool.optional() }),
    },
    responses: {
      200: jsonResponse(z.object({ untagged: z.array(z.string()), deleted: z.array(z.string()) }), "What Docker untagged and deleted."),
      ...authErrors,
      ...notFoundError,
      ...conflictError,
      ...relayErrors,
    },
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "remove images");
    const { hostId, image } = c.req.valid("param");
    return c.json(
      await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, hostId, "image.remove", { id: image, ...c.req.valid("query") }),
      200,
    );
  },
);
