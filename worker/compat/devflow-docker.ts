// DevFlow Pro's Docker Management API (seed 003), as documented: `{"success": true, …}` bodies in
// the Docker CLI's own formats (`docker stats`, `docker images`, `docker system df` strings, prune
// output ending "Total reclaimed space: …"), Laravel's error bodies (compat/envelopes.ts). A thin
// adapter over the services: `{server}` is a host (id or name); `{project}` is an application (id,
// app name or name) whose container is the target. Mutations take the role their canonical twins
// take, checked before anything reaches a host.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { ImageRef, NetworkRef, type StatsSample, TaggedRef, VolumeName } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { applicationTarget, type AppTarget } from "../services/app-target.ts";
import { composePs, composeUpApplication } from "../services/compose.ts";
import { commitContainer, updateContainer } from "../services/container-admin.ts";
import { saveImagesToHostFile } from "../services/image-files.ts";
import { pruneImages, pushImage, tagImage } from "../services/images.ts";
import { loginRegistry } from "../services/registries.ts";
import { diskUsage, hostDockerInfo, pruneOutput } from "../services/docker-system.ts";
import { runOnOrgHost } from "../services/host-relay.ts";
import { pullImageNow, pruneSystemNow } from "../services/host-streams.ts";
import { allHosts, type HostRow } from "../services/hosts.ts";
import { connectNetwork, createNetwork, listNetworks } from "../services/networks.ts";
import { refuseProjectScoped } from "../services/permissions.ts";
import { requireRole } from "../services/principal.ts";
import { createVolume, listVolumes, removeVolume } from "../services/volumes.ts";
import { readJson } from "./validate.ts";

export const devflowDockerCompat = new Hono<AppEnv>();
devflowDockerCompat.use("/api/servers/:server/docker/*", requireAuth(), refuseProjectScoped("A server's Docker API"));
devflowDockerCompat.use("/api/projects/:project/docker/*", requireAuth());

type C = Context<AppEnv>;

// ---- what the paths name ------------------------------------------------------------------

/** `{server}`: a host of the caller's organization by id or name; another organization's is missing. */
async function serverOf(c: C): Promise<HostRow> {
  const server = c.req.param("server") ?? "";
  const host = (await allHosts(c.var.db, c.var.principal.organizationId)).find((h) => h.id === server || h.name === server);
  if (!host) throw new ApiError(404, `Server ${server} was not found.`);
  return host;
}

/** `{project}`: the application and its container. */
const projectOf = (c: C): Promise<AppTarget> => applicationTarget(c.var.db, c.var.principal, c.req.param("project") ?? "");

/** Laravel's wording for a field error: "The name field is required.", "The image field must be …". */
async function readBody<T extends z.ZodType>(c: C, schema: T, options: { optional?: boolean } = {}): Promise<z.infer<T>> {
  try {
    return await readJson(c, schema, options);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422 || !error.errors) throw error;
    const errors = error.errors.map((e) => {
      const label =
        e.pointer
          .replace(/^\/body\/?/, "")
          .replaceAll("/", ".")
          .replaceAll("_", " ") || "body";
      const detail = /received undefined/.test(e.detail)
        ? `The ${label} field is required.`
        : /^must /.test(e.detail)
          ? `The ${label} field ${e.detail}`
          : `The ${label} field is invalid: ${e.detail}`;
      return { pointer: e.pointer, detail };
    });
    throw new ApiError(422, errors.map((e) => e.detail).join(" "), { errors });
  }
}

const ok = <T extends Record<string, unknown>>(c: C, body: T, status: 200 | 201 = 200) => c.json({ success: true, ...body }, status);

// ---- formats of the Docker CLI -----------------------------------------------------------

/** "15.5%": two decimals at most, as the document shows (`docker stats` prints "15.50%"). */
const percent = (n: number) => `${Number((Number.isFinite(n) ? n : 0).toFixed(2))}%`;
const pair = (a: number, b: number) => `${dockerHumanSize(a)} / ${dockerHumanSize(b)}`;

export function statsView(sample: StatsSample, fallbackName: string) {
  return {
    Container: sample.name.replace(/^\//, "") || fallbackName,
    CPUPerc: percent(sample.cpu_percent),
    MemUsage: pair(sample.memory_usage, sample.memory_limit),
    MemPerc: percent(sample.memory_percent),
    NetIO: pair(sample.net_rx, sample.net_tx),
    BlockIO: pair(sample.block_read, sample.block_write),
    PIDs: String(sample.pids),
  };
}

/** RFC 3339 in UTC to the second: "2025-11-01T10:00:00Z". */
const utcSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

interface EngineImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
}

/** `docker images` rows: one per tag, `<none>` for an untagged image, the 12-character id. */
export function imageRows(images: EngineImage[]) {
  const rows: Array<{ Repository: string; Tag: string; ID: string; Size: string; CreatedAt: string }> = [];
  for (const image of images) {
    const id = image.Id.replace(/^sha256:/, "").slice(0, 12);
    const base = { ID: id, Size: dockerHumanSize(image.Size), CreatedAt: utcSeconds(image.Created) };
    const tags = (image.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    if (tags.length === 0) {
      const repo = (image.RepoDigests ?? [])[0]?.split("@")[0] ?? "<none>";
      rows.push({ Repository: repo, Tag: "<none>", ...base });
      continue;
    }
    for (const tag of tags) {
      const at = tag.lastIndexOf(":");
      rows.push({ Repository: tag.slice(0, at), Tag: tag.slice(at + 1), ...base });
    }
  }
  return rows;
}

/** `docker top` as text: padded columns, one process a line. */
export function processTable(titles: string[], processes: string[][]): string {
  const widths = titles.map((t, i) => Math.max(t.length, ...processes.map((p) => (p[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
      .join("")
      .trimEnd();
  return [line(titles), ...processes.map(line)].join("\n");
}

// ---- container of a project ----------------------------------------------------------------

devflowDockerCompat.get("/api/projects/:project/docker/stats", async (c) => {
  const target = await projectOf(c);
  const sample = await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, target.hostId, "container.stats", {
    id: target.container,
  });
  return ok(c, { stats: statsView(sample, target.app.appName) });
});

const ExecBody = z.object({
  command: z.string().min(1).max(65_536),
  interactive: z.boolean().optional(),
});

devflowDockerCompat.post("/api/projects/:project/docker/exec", async (c) => {
  requireRole(c.var.principal, "member", "exec in containers");
  const body = await readBody(c, ExecBody);
  if (body.interactive)
    throw new ApiError(
      422,
      "Interactive sessions need a terminal: open the WebSocket at /api/v1/hosts/{hostId}/containers/{id}/terminal. Send interactive: false to run a command and read its output.",
      {
        errors: [
          { pointer: "/body/interactive", detail: "The interactive field must be false: use the terminal WebSocket for a session." },
        ],
      },
    );
  const target = await projectOf(c);
  // The document's commands are shell lines ("php artisan migrate"): run them as `sh -c` does.
  const result = await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, target.hostId, "container.exec", {
    id: target.container,
    cmd: ["sh", "-c", body.command],
  });
  const output = `${result.stdout}${result.stderr}`.replace(/\n$/, "");
  return ok(c, { success: result.exit_code === 0, output, exit_code: result.exit_code });
});

devflowDockerCompat.get("/api/projects/:project/docker/processes", async (c) => {
  const target = await projectOf(c);
  const top = await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, target.hostId, "container.top", {
    id: target.container,
    ps_args: "-o pid,user,args",
  });
  return ok(c, { processes: processTable(top.Titles, top.Processes) });
});

const ConnectBody = z.object({ network_name: classic(NetworkRef) });

devflowDockerCompat.post("/api/projects/:project/docker/networks/connect", async (c) => {
  requireRole(c.var.principal, "member", "connect containers to networks");
  const body = await readBody(c, ConnectBody);
  const target = await projectOf(c);
  await connectNetwork(c.var.db, c.env, authedActor(c), target.hostId, { id: body.network_name, container: target.container });
  return ok(c, { message: "Container connected to network" });
});

const LimitsBody = z
  .object({
    /** Megabytes; Docker's minimum is 6. */
    memory_mb: z
      .number()
      .int()
      .min(6, "must be at least 6 (Docker's minimum)")
      .max(16 * 1024 * 1024)
      .optional(),
    /** Relative CPU weight (1024 is the default). */
    cpu_shares: z.number().int().min(2).max(262_144).optional(),
  })
  .refine((b) => b.memory_mb !== undefined || b.cpu_shares !== undefined, {
    message: "must give memory_mb, cpu_shares or both",
    path: ["memory_mb"],
  });

devflowDockerCompat.post("/api/projects/:project/docker/limits", async (c) => {
  requireRole(c.var.principal, "member", "change a container's limits");
  const body = await readBody(c, LimitsBody);
  const target = await projectOf(c);
  const memory = body.memory_mb !== undefined ? body.memory_mb * 1024 * 1024 : undefined;
  await updateContainer(c.var.db, c.env, authedActor(c), target.hostId, {
    id: target.container,
    // A memory limit without a swap limit would let the container swap up to twice as much.
    ...(memory !== undefined ? { memory, memory_swap: memory } : {}),
    ...(body.cpu_shares !== undefined ? { cpu_shares: body.cpu_shares } : {}),
  });
  return ok(c, { message: "Resource limits updated" });
});

const BackupBody = z.object({ backup_name: classic(TaggedRef) });

devflowDockerCompat.post("/api/projects/:project/docker/backup", async (c) => {
  requireRole(c.var.principal, "member", "commit containers to images");
  const body = await readBody(c, BackupBody);
  const target = await projectOf(c);
  const committed = await commitContainer(c.var.db, c.env, authedActor(c), target.hostId, {
    id: target.container,
    image: body.backup_name,
    comment: `Backup of ${target.app.name} through DevFlow's API`,
  });
  return ok(c, { backup_name: body.backup_name, image_id: committed.id });
});

// ---- compose -------------------------------------------------------------------------------

devflowDockerCompat.post("/api/projects/:project/docker/compose/up", async (c) => {
  requireRole(c.var.principal, "member", "deploy applications");
  const target = await projectOf(c);
  const { deployment, output } = await composeUpApplication(c.var.db, c.env, authedActor(c), target.app);
  if (deployment.status !== "succeeded")
    throw new ApiError(
      502,
      `docker compose up failed (deployment ${deployment.id} ${deployment.status}): ${deployment.error ?? ""}`.trim(),
    );
  return ok(c, { output });
});

devflowDockerCompat.get("/api/projects/:project/docker/compose/status", async (c) => {
  const target = await projectOf(c);
  // Pier runs a Compose application as the project named after its app name.
  const ps = await composePs(c.var.db, c.env, c.var.principal, target.hostId, { project: target.app.appName, all: true });
  return ok(c, {
    services: ps.containers.map((row) => ({
      Name: row.Service,
      State: row.State,
      ...(row.Publishers.length
        ? { Publishers: row.Publishers.map((p) => ({ URL: p.URL, TargetPort: p.TargetPort, PublishedPort: p.PublishedPort })) }
        : {}),
    })),
  });
});

// ---- volumes, networks, images of a server -------------------------------------------------

devflowDockerCompat.get("/api/servers/:server/docker/volumes", async (c) => {
  const host = await serverOf(c);
  const list = await listVolumes(c.var.db, c.env, c.var.principal, host.id, {});
  return ok(c, {
    volumes: list.volumes.map((v) => ({
      Name: v.Name,
      Driver: v.Driver,
      Mountpoint: v.Mountpoint,
      CreatedAt: v.CreatedAt ?? null,
      Labels: v.Labels ?? {},
    })),
  });
});

const VolumeBody = z.object({
  name: classic(VolumeName),
  driver: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, "must be a volume driver name")
    .max(255)
    .optional(),
  labels: z.record(z.string().min(1).max(1024), z.string().max(4096)).optional(),
});

devflowDockerCompat.post("/api/servers/:server/docker/volumes", async (c) => {
  requireRole(c.var.principal, "member", "create volumes");
  const body = await readBody(c, VolumeBody);
  const host = await serverOf(c);
  const volume = await createVolume(c.var.db, c.env, authedActor(c), host.id, {
    name: body.name,
    ...(body.driver ? { driver: body.driver } : {}),
    ...(body.labels ? { labels: body.labels } : {}),
  });
  return ok(c, { volume_name: volume.Name });
});

devflowDockerCompat.delete("/api/servers/:server/docker/volumes/:volume", async (c) => {
  requireRole(c.var.principal, "member", "remove volumes");
  const name = VolumeName.safeParse(c.req.param("volume"));
  if (!name.success) throw new ApiError(404, `Volume ${c.req.param("volume")} was not found.`);
  const host = await serverOf(c);
  await removeVolume(c.var.db, c.env, authedActor(c), host.id, { name: name.data });
  return ok(c, { message: "Volume deleted successfully" });
});

devflowDockerCompat.get("/api/servers/:server/docker/networks", async (c) => {
  const host = await serverOf(c);
  const list = await listNetworks(c.var.db, c.env, c.var.principal, host.id, {});
  return ok(c, {
    networks: list.map((n) => ({ Name: n.name, ID: n.short_id, Driver: n.driver, Scope: n.scope })),
  });
});

const NetworkBody = z.object({
  name: classic(NetworkRef),
  driver: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, "must be a network driver name")
    .max(255)
    .optional(),
});

devflowDockerCompat.post("/api/servers/:server/docker/networks", async (c) => {
  requireRole(c.var.principal, "member", "create networks");
  const body = await readBody(c, NetworkBody);
  const host = await serverOf(c);
  const created = await createNetwork(c.var.db, c.env, authedActor(c), host.id, {
    name: body.name,
    ...(body.driver ? { driver: body.driver } : {}),
  });
  return ok(c, { network_id: created.id });
});

devflowDockerCompat.get("/api/servers/:server/docker/images", async (c) => {
  const host = await serverOf(c);
  const images = (await runOnOrgHost(
    c.var.db,
    c.env,
    c.var.principal.organizationId,
    host.id,
    "image.list",
    {},
  )) as unknown as EngineImage[];
  return ok(c, { images: imageRows(images) });
});

const PullBody = z.object({ image: classic(ImageRef) });

devflowDockerCompat.post("/api/servers/:server/docker/images/pull", async (c) => {
  requireRole(c.var.principal, "member", "pull images");
  const body = await readBody(c, PullBody);
  const host = await serverOf(c);
  const { result, lines } = await pullImageNow(c.var.db, c.env, authedActor(c), host.id, { image: body.image });
  const output = [...lines, ...(lines.at(-1) === result.status ? [] : [result.status])].join("\n");
  return ok(c, { message: "Image pulled successfully", output });
});

// An image reference may hold slashes (ghcr.io/org/app:tag): the rest of the path is the reference.
devflowDockerCompat.delete("/api/servers/:server/docker/images/:image{.+}", async (c) => {
  requireRole(c.var.principal, "member", "remove images");
  const image = ImageRef.safeParse(decodeURIComponent(c.req.param("image")));
  if (!image.success) throw new ApiError(404, `Image ${c.req.param("image")} was not found.`);
  const host = await serverOf(c);
  await runOnOrgHost(c.var.db, c.env, c.var.principal.organizationId, host.id, "image.remove", { id: image.data });
  return ok(c, { message: "Image deleted successfully" });
});

const ImagePruneBody = z.object({ all: z.boolean().optional() });

devflowDockerCompat.post("/api/servers/:server/docker/images/prune", async (c) => {
  requireRole(c.var.principal, "member", "prune images");
  const body = await readBody(c, ImagePruneBody, { optional: true });
  const host = await serverOf(c);
  const result = await pruneImages(c.var.db, c.env, authedActor(c), host.id, { all: body.all ?? false });
  // What `docker image prune` prints: the images it deleted, then the total.
  const output = pruneOutput({ containers: [], networks: [], volumes: [], build_cache: [], ...result });
  return ok(c, { output });
});

const TagBody = z.object({ source_image: classic(ImageRef), target_image: classic(TaggedRef) });

devflowDockerCompat.post("/api/servers/:server/docker/images/tag", async (c) => {
  requireRole(c.var.principal, "member", "tag images");
  const body = await readBody(c, TagBody);
  const host = await serverOf(c);
  await tagImage(c.var.db, c.env, authedActor(c), host.id, { source: body.source_image, target: body.target_image });
  return ok(c, { message: "Image tagged successfully" });
});

const PushBody = z.object({ image_name: classic(TaggedRef) });

devflowDockerCompat.post("/api/servers/:server/docker/images/push", async (c) => {
  requireRole(c.var.principal, "member", "push images");
  const body = await readBody(c, PushBody);
  const host = await serverOf(c);
  const result = await pushImage(c.var.db, c.env, authedActor(c), host.id, { image: body.image_name });
  return ok(c, { output: result.output });
});

const SaveBody = z.object({ image_name: classic(ImageRef), file_path: z.string().min(1).max(4096) });

devflowDockerCompat.post("/api/servers/:server/docker/images/save", async (c) => {
  requireRole(c.var.principal, "admin", "write files on a host");
  const body = await readBody(c, SaveBody);
  const host = await serverOf(c);
  await saveImagesToHostFile(c.var.db, c.env, authedActor(c), host.id, { images: [body.image_name], path: body.file_path }, "file_path");
  return ok(c, { file_path: body.file_path });
});

const LoginBody = z.object({
  registry: z.string().min(1).max(512),
  username: z.string().min(1).max(1024),
  password: z.string().min(1).max(8192),
});

// `docker login`, for the organization: the credentials are checked from this server against the
// registry's /v2/, then kept (encrypted) and used for pushes and pulls from that registry on every host.
devflowDockerCompat.post("/api/servers/:server/docker/registry/login", async (c) => {
  requireRole(c.var.principal, "admin", "manage registry credentials");
  const body = await readBody(c, LoginBody);
  const host = await serverOf(c);
  const { status } = await loginRegistry(c.var.db, c.env, authedActor(c), host.id, {
    server: body.registry,
    username: body.username,
    password: body.password,
  });
  return ok(c, { message: status });
});

// ---- the server's Docker system ------------------------------------------------------------

devflowDockerCompat.get("/api/servers/:server/docker/info", async (c) => {
  const host = await serverOf(c);
  const info = await hostDockerInfo(c.var.db, c.env, c.var.principal, host.id);
  return ok(c, {
    info: {
      ServerVersion: info.ServerVersion,
      Containers: info.Containers,
      ContainersRunning: info.ContainersRunning,
      ContainersStopped: info.ContainersStopped,
      Images: info.Images,
      Driver: info.Driver,
      NCPU: info.NCPU,
      MemTotal: info.MemTotal,
      OperatingSystem: info.OperatingSystem,
    },
  });
});

/** The document's row names (the CLI says "Local Volumes"). */
const DF_TYPES: Record<string, string> = { "Local Volumes": "Volumes" };

devflowDockerCompat.get("/api/servers/:server/docker/disk-usage", async (c) => {
  const host = await serverOf(c);
  const rows = await diskUsage(c.var.db, c.env, c.var.principal, host.id);
  return ok(c, {
    usage: rows.map((r) => ({
      Type: DF_TYPES[r.type] ?? r.type,
      TotalCount: r.total,
      Active: r.active,
      Size: r.size_text,
      Reclaimable: dockerHumanSize(r.reclaimable),
    })),
  });
});

const PruneBody = z.object({ volumes: z.boolean().optional() });

devflowDockerCompat.post("/api/servers/:server/docker/prune", async (c) => {
  requireRole(c.var.principal, "member", "prune a host's containers, networks, images and build cache");
  const body = await readBody(c, PruneBody, { optional: true });
  const host = await serverOf(c);
  const result = await pruneSystemNow(c.var.db, c.env, authedActor(c), host.id, { volumes: body.volumes ?? false });
  return ok(c, { output: pruneOutput(result) });
});
