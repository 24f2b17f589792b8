import { ImagePruneArgs, ImagePushArgs, ImageRef, TaggedRef } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { z } from "@hono/zod-openapi";
import { authedActor } from "../middleware/request-context.ts";
import { requireAuth } from "../middleware/auth.ts";
import { getHost } from "../services/hosts.ts";
import { runOnOrgHost } from "../services/host-relay.ts";
import { PullRequest, startHostTask } from "../services/host-tasks.ts";
import { requireRole } from "../services/principal.ts";
import { saveImagesToHostFile } from "../services/image-files.ts";
import { imageHistory, inspectImage, startImagePrune, startImagePush, tagImage } from "../services/images.ts";
import { openHostDownload, runHostUpload } from "../services/transfers.ts";
import { authedRoute, createRouter, HostParam, jsonBody, jsonResponse, problem, queryBool, relayErrors } from "./openapi.ts";
import { TaskStarted, toTaskStarted } from "./tasks.ts";

// Images on a host: list, pull, push and prune (tasks: they can take minutes), inspect, history,
// tag, remove — Portainer's image list and `docker image …`.
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
    /** Containers made from it, running or not (the agent counts them; -1 from an agent that did not). */
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
  authedRoute({
    method: "get",
    path: "/{hostId}/images",
    tags: ["images"],
    summary: "Images on a host (intermediate layers too with ?all=true)",
    request: { params: HostParam, query: z.object({ all: queryBool.optional() }) },
    responses: {
      200: jsonResponse(z.object({ images: z.array(ImageView) }), "The images."),
    },
    errors: ["notFound", "relay"],
  }),
  async (c) => {
    const list = (await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, c.req.valid("param").hostId, "image.list", {
      all: c.req.valid("query").all ?? false,
    })) as DockerImage[];
    return c.json({ images: list.map(toImageView) }, 200);
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/pull",
    tags: ["images"],
    summary: "Pull an image on the host, as a task: 202 with its task_id; follow it at /api/v1/tasks/{id} (member+)",
    description:
      "`auth` holds registry credentials for this pull only: they go to the host's Docker engine and are neither stored nor logged.",
    request: { params: HostParam, body: jsonBody(PullRequest) },
    responses: {
      202: jsonResponse(TaskStarted, "The pull started."),
      503: relayErrors[503],
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    requireRole(c.var.principal, "member", "pull images");
    const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.valid("param").hostId);
    return c.json(
      toTaskStarted(await startHostTask(c.var.db, c.env, authedActor(c), host, { kind: "image.pull", args: c.req.valid("json") })),
      202,
    );
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{hostId}/images/{image}",
    tags: ["images"],
    summary: "Remove an image by id or reference (URL-encode the slashes of `registry/name:tag`) (member+)",
    request: {
      params: HostParam.extend({
        image: classic(ImageRef).openapi({ param: { name: "image", in: "path" }, example: "sha256:0123…" }),
      }),
      query: z.object({ force: queryBool.optional(), noprune: queryBool.optional() }),
    },
    responses: {
      200: jsonResponse(z.object({ untagged: z.array(z.string()), deleted: z.array(z.string()) }), "What Docker untagged and deleted."),
    },
    errors: ["notFound", "conflict", "relay"],
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

const ImageParam = HostParam.extend({
  image: classic(ImageRef).openapi({ param: { name: "image", in: "path" }, example: "pier-test%2Fbusybox:latest" }),
});

const EngineDocument = z.record(z.string(), z.unknown());

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/push",
    tags: ["images"],
    summary: "Push an image to its registry, as a task: 202 with its task_id; follow it at /api/v1/tasks/{id} (member+)",
    description:
      "Give `auth` for this push only, or leave it out: the organization's saved credentials for the image's registry (`/api/v1/registries`) are used when there are any. Credentials go to the host's engine and are never logged. The task's result holds the digest and what `docker push` prints.",
    request: { params: HostParam, body: jsonBody(classic(ImagePushArgs).openapi("ImagePushRequest")) },
    responses: {
      202: jsonResponse(TaskStarted, "The push started."),
      503: relayErrors[503],
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    return c.json(
      toTaskStarted(await startImagePush(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json"))),
      202,
    );
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/prune",
    tags: ["images"],
    summary: "Remove dangling images, or with `all: true` every image no container uses, as a task: 202 with its task_id (member+)",
    description: "The task's result lists what was untagged and deleted, and `space_reclaimed` in bytes.",
    request: {
      params: HostParam,
      body: { required: false, content: { "application/json": { schema: classic(ImagePruneArgs).openapi("ImagePrune") } } },
    },
    responses: {
      202: jsonResponse(TaskStarted, "The prune started."),
      503: relayErrors[503],
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof ImagePruneArgs> | undefined) ?? {};
    return c.json(toTaskStarted(await startImagePrune(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, body)), 202);
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/images/{image}",
    tags: ["images"],
    summary: "One image as `docker image inspect` shows it (URL-encode the slashes of `registry/name:tag`)",
    request: { params: ImageParam },
    responses: {
      200: jsonResponse(EngineDocument, "The engine's image document."),
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => {
    const { hostId, image } = c.req.valid("param");
    return c.json(await inspectImage(c.var.db, c.env, c.var.principal, hostId, image), 200);
  },
);

const HistoryEntry = z
  .object({
    id: z.string().openapi({ description: "The layer's image id, or `<missing>` for layers built elsewhere." }),
    created_at: z.string(),
    created_by: z.string(),
    tags: z.array(z.string()),
    size: z.number(),
    comment: z.string(),
  })
  .openapi("ImageHistoryEntry");

imageRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/images/{image}/history",
    tags: ["images"],
    summary: "The image's layers, newest first, as `docker history` lists them",
    request: { params: ImageParam },
    responses: {
      200: jsonResponse(z.object({ history: z.array(HistoryEntry) }), "The layers."),
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => {
    const { hostId, image } = c.req.valid("param");
    const history = await imageHistory(c.var.db, c.env, c.var.principal, hostId, image);
    return c.json(
      {
        history: history.map((h) => ({
          id: h.Id,
          created_at: new Date(h.Created * 1000).toISOString(),
          created_by: h.CreatedBy,
          tags: h.Tags ?? [],
          size: h.Size,
          comment: h.Comment,
        })),
      },
      200,
    );
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/{image}/tag",
    tags: ["images"],
    summary: "Give the image another name, as `docker tag` (member+)",
    request: { params: ImageParam, body: jsonBody(z.object({ target: classic(TaggedRef) }).openapi("ImageTagRequest")) },
    responses: {
      201: jsonResponse(z.object({ source: z.string(), target: z.string() }).openapi("ImageTagged"), "Tagged."),
    },
    errors: ["validation", "notFound", "conflict", "relay"],
  }),
  async (c) => {
    const { hostId, image } = c.req.valid("param");
    return c.json(await tagImage(c.var.db, c.env, authedActor(c), hostId, { source: image, target: c.req.valid("json").target }), 201);
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/save",
    tags: ["images"],
    summary: "Write images as one tar to a file on the host, as `docker save -o` (admin+)",
    description:
      "`path` must be a file under the backups directory (PIER_BACKUPS_DIR, default /backups), checked here and again by the agent once symbolic links are resolved; anything else is a 422.",
    request: {
      params: HostParam,
      body: jsonBody(
        z.object({ images: z.array(classic(ImageRef)).min(1).max(50), path: z.string().min(1).max(4096) }).openapi("ImageSaveToFile"),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ path: z.string(), size: z.number() }).openapi("ImageSaved"), "Written: the path and its size in bytes."),
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => c.json(await saveImagesToHostFile(c.var.db, c.env, authedActor(c), c.req.valid("param").hostId, c.req.valid("json")), 200),
);

const TarBody = {
  required: true,
  content: {
    "application/x-tar": {
      schema: z.string().openapi({ format: "binary", description: "A tar (gzip, bzip2, xz or zstd compressed ones too)." }),
    },
  },
};

imageRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{hostId}/images/{image}/save",
    tags: ["images"],
    summary: "Download images as one tar, as `docker save` (member+)",
    description:
      "Streams the engine's tar through the host's relay as it is read: nothing is held in between, and a client that stops reading stops the host's read. More images in the same tar with `?image=` (repeatable). A missing image is a 404 before any byte.",
    request: {
      params: ImageParam,
      query: z.object({ image: z.union([classic(ImageRef), z.array(classic(ImageRef)).max(49)]).optional() }),
    },
    responses: {
      200: { description: "The tar.", content: { "application/x-tar": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => {
    const { hostId, image } = c.req.valid("param");
    const extra = c.req.valid("query").image;
    const images = [image, ...(extra === undefined ? [] : Array.isArray(extra) ? extra : [extra])];
    const download = await openHostDownload(
      c.var.db,
      c.env,
      authedActor(c),
      hostId,
      "image.save",
      { images },
      { action: "image.save", targetType: "host", targetId: hostId, metadata: { images } },
    );
    const name = images.length === 1 ? image.replace(/[^A-Za-z0-9_.-]+/g, "_") : "images";
    return new Response(download.body, {
      status: 200,
      headers: { "content-type": "application/x-tar", "content-disposition": `attachment; filename="${name}.tar"` },
    }) as never;
  },
);

imageRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/images/load",
    tags: ["images"],
    summary: "Load images from a tar, as `docker load` (member+)",
    description:
      "Synchronous, not a task: the tar is the request body and streams to the host's engine as it arrives, so it can only be read while this request lasts (a task would have to store it first). Answers with what the engine printed. A body that is not a tar is a 400 before anything reaches the host; one larger than PIER_MAX_UPLOAD_BYTES is a 413.",
    request: { params: HostParam, body: TarBody },
    responses: {
      200: jsonResponse(
        z.object({ images: z.array(z.string()), output: z.string(), bytes: z.number() }).openapi("ImagesLoaded"),
        "Loaded: the images the engine named, its output, and the tar's size.",
      ),
      413: problem("The tar is larger than PIER_MAX_UPLOAD_BYTES."),
    },
    errors: ["validation", "notFound", "relay"],
  }),
  async (c) => {
    const hostId = c.req.valid("param").hostId;
    const loaded = await runHostUpload(
      c.var.db,
      c.env,
      authedActor(c),
      hostId,
      "image.load",
      {},
      { body: c.req.raw.body, contentLength: c.req.header("content-length") },
      { action: "image.load", targetType: "host", targetId: hostId, metadata: (r) => ({ images: r.images, bytes: r.bytes }) },
    );
    return c.json(loaded, 200);
  },
);
