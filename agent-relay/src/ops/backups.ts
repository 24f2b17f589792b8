// Volume backups (issue 12) as byte transfers: a volume's files out as a tar, a tar into a volume.
// Both go through the Engine's archive endpoint on a helper container that mounts the volume and
// is created but never started (any image on the host will do: nothing of it runs), so the agent
// needs no access to the engine's data directory and the bytes stream straight between the engine
// and the relay. Only clearing a volume before a restore runs something: `rm` in a shell, in the
// first image on the host that has one.
import type { Readable } from "node:stream";
import * as archive from "../docker/archive.ts";
import { MANAGED_LABEL } from "../docker/client.ts";
import { endpoint, pathSegment } from "../docker/endpoint.ts";
import { containerList, imageList, volumeCreate } from "../docker/endpoints.ts";
import { DockerError } from "../docker/errors.ts";
import * as housekeeping from "../docker/housekeeping.ts";
import type { BackupOpResults } from "../protocol.ts";
import type { DownloadSink, UploadSource } from "../transfer.ts";
import type { OpContext, OpHandlers } from "./context.ts";

/** Where helper containers mount the volume. */
export const MOUNT = "/pier-volume";
/** Marks helper containers (and says which volume they serve), so a leftover one is recognisable. */
export const HELPER_LABEL = "dev.pier.backup-helper";
/** Marks a safety copy with the volume it keeps the previous data of. */
export const SAFETY_LABEL = "dev.pier.safety-copy-of";

const containerWait = endpoint<{ id: string }>({
  name: "container.wait",
  method: "POST",
  path: (p) => `/containers/${pathSegment(p.id)}/wait`,
  expect: { 200: true, 404: "no such container", 500: "server error" },
  response: "json",
});

/** Clean-up runs even after the command's own signal aborted (a cancel, a deadline). */
const cleanupSignal = () => AbortSignal.timeout(120_000);

function download(ctx: OpContext): DownloadSink {
  if (!ctx.download) throw new Error("volume.export moves bytes and needs a transfer channel");
  return ctx.download;
}

function upload(ctx: OpContext): UploadSource {
  if (!ctx.upload) throw new Error("volume.import moves bytes and needs a transfer channel");
  return ctx.upload;
}

/** Local images to mount a volume with, those likely to have a shell first. */
export async function helperImages(ctx: OpContext): Promise<string[]> {
  const images = (await ctx.docker.transport.json(imageList, {}, ctx.signal)) as Array<{ Id: string; RepoTags?: string[] | null }>;
  const tags = images.flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"));
  const likely = (t: string) => (/busybox/.test(t) ? 0 : /alpine|debian|ubuntu/.test(t) ? 1 : 2);
  const ordered = [...tags].sort((a, b) => likely(a) - likely(b));
  const refs = ordered.length > 0 ? ordered : images.map((i) => i.Id);
  if (refs.length === 0)
    throw new DockerError(
      "volume.helper",
      409,
      "The host has no image at all to mount the volume with: pull any small image (busybox) and retry.",
    );
  return refs;
}

async function createHelper(ctx: OpContext, volume: string, options: { readOnly: boolean; image: string; shell?: string }) {
  const { id } = await ctx.docker.createContainer(
    undefined,
    {
      Image: options.image,
      Entrypoint: options.shell !== undefined ? ["/bin/sh", "-c"] : ["/pier-backup-helper-never-runs"],
      Cmd: options.shell !== undefined ? [options.shell] : [],
      Labels: { [HELPER_LABEL]: volume },
      NetworkDisabled: true,
      HostConfig: { Binds: [`${volume}:${MOUNT}${options.readOnly ? ":ro" : ""}`] },
    },
    ctx.signal,
  );
  return id;
}

const removeHelper = (ctx: OpContext, id: string | undefined) =>
  id ? ctx.docker.removeContainer(id, { force: true }, cleanupSignal()).catch(() => undefined) : Promise.resolve();

async function inspectVolume(ctx: OpContext, name: string) {
  return ctx.docker.transport.json(housekeeping.volumeInspect, { name }, ctx.signal);
}

/** Stops the running containers that use the volume; returns their ids, to start them again. */
async function stopUsers(ctx: OpContext, volume: string): Promise<string[]> {
  const running = (await ctx.docker.transport.json(
    containerList,
    { filters: { volume: [volume], status: ["running"] } },
    ctx.signal,
  )) as Array<{ Id: string }>;
  const stopped: string[] = [];
  for (const c of running) {
    await ctx.docker.stopContainer(c.Id, undefined, ctx.signal);
    stopped.push(c.Id);
  }
  return stopped;
}

async function startAgain(ctx: OpContext, ids: string[]): Promise<void> {
  for (const id of ids) await ctx.docker.startContainer(id, cleanupSignal()).catch(() => undefined);
}

/** Copies one volume's files into another, engine to engine. */
async function copyVolume(ctx: OpContext, from: string, to: string, image: string): Promise<void> {
  let reader: string | undefined;
  let writer: string | undefined;
  try {
    reader = await createHelper(ctx, from, { readOnly: true, image });
    writer = await createHelper(ctx, to, { readOnly: false, image });
    const reply = await ctx.docker.transport.send(archive.containerArchiveGet, { id: reader, path: `${MOUNT}/.` }, ctx.signal);
    await ctx.docker.transport.call(
      archive.containerArchivePut,
      { id: writer, path: MOUNT, body: reply.body as unknown as Readable },
      ctx.signal,
    );
  } finally {
    await removeHelper(ctx, reader);
    await removeHelper(ctx, writer);
  }
}

/** Deletes every file of a volume, with `rm` in the first image on the host that has a shell. */
async function clearVolume(ctx: OpContext, volume: string, images: string[]): Promise<void> {
  const failures: string[] = [];
  for (const image of images.slice(0, 5)) {
    let id: string | undefined;
    try {
      id = await createHelper(ctx, volume, { readOnly: false, image, shell: `rm -rf ${MOUNT}/..?* ${MOUNT}/.[!.]* ${MOUNT}/*` });
      try {
        await ctx.docker.startContainer(id, ctx.signal);
      } catch (error) {
        // No /bin/sh in this image: try the next.
        failures.push(`${image}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const { StatusCode } = (await ctx.docker.transport.json(containerWait, { id }, ctx.signal)) as { StatusCode: number };
      if (StatusCode === 0) return;
      failures.push(`${image}: rm exited with ${StatusCode}`);
    } finally {
      await removeHelper(ctx, id);
    }
  }
  throw new DockerError(
    "volume.import",
    409,
    `Could not clear volume ${volume} before the restore (it needs an image with /bin/sh on the host, such as busybox): ${failures.join("; ")}`,
  );
}

/** Writes a tar into a volume. */
async function importInto(ctx: OpContext, volume: string, body: Readable, image: string): Promise<void> {
  let writer: string | undefined;
  try {
    writer = await createHelper(ctx, volume, { readOnly: false, image });
    await ctx.docker.transport.call(archive.containerArchivePut, { id: writer, path: MOUNT, body }, ctx.signal);
  } finally {
    await removeHelper(ctx, writer);
  }
}

const message = (error: unknown) =>
  error instanceof DockerError ? error.engineMessage : error instanceof Error ? error.message : String(error);

type BackupOps = "volume.export" | "volume.import";

export const backupOps: Pick<OpHandlers, BackupOps> = {
  "volume.export": async (args, ctx): Promise<BackupOpResults["volume.export"]> => {
    const sink = download(ctx);
    await inspectVolume(ctx, args.name);
    const [image] = await helperImages(ctx);
    const stopped = args.stop_containers ? await stopUsers(ctx, args.name) : [];
    let helper: string | undefined;
    try {
      helper = await createHelper(ctx, args.name, { readOnly: true, image: image! });
      const reply = await ctx.docker.transport.send(archive.containerArchiveGet, { id: helper, path: `${MOUNT}/.` }, ctx.signal);
      sink.start({ content_type: "application/x-tar", volume: args.name });
      const bytes = await sink.send(reply.body as AsyncIterable<Uint8Array>);
      return { name: args.name, bytes, stopped };
    } finally {
      await removeHelper(ctx, helper);
      await startAgain(ctx, stopped);
    }
  },

  "volume.import": async (args, ctx): Promise<BackupOpResults["volume.import"]> => {
    const body = upload(ctx);
    try {
      const images = await helperImages(ctx);
      const image = images[0]!;
      if (args.mode === "create") {
        const exists = await inspectVolume(ctx, args.name).then(
          () => true,
          (error) => {
            if (error instanceof DockerError && error.status === 404) return false;
            throw error;
          },
        );
        if (exists)
          throw new DockerError("volume.import", 409, `A volume named ${args.name} exists already on this host: restore into a new name.`);
        await ctx.docker.createVolume(args.name, ctx.signal);
        try {
          await importInto(ctx, args.name, body, image);
        } catch (error) {
          await ctx.docker.transport
            .call(housekeeping.volumeRemove, { name: args.name, force: true }, cleanupSignal())
            .catch(() => undefined);
          throw new DockerError(
            "volume.import",
            error instanceof DockerError ? error.status : 500,
            `${message(error)} (the new volume was removed)`,
          );
        }
        return { name: args.name, mode: "create", bytes: body.received, restarted: [], safety_volume: null };
      }

      await inspectVolume(ctx, args.name);
      const safety = `${args.name}.pier-safety-${Date.now().toString(36)}`;
      const stopped = await stopUsers(ctx, args.name);
      try {
        await ctx.docker.transport.json(
          volumeCreate,
          { body: { Name: safety, Labels: { [MANAGED_LABEL]: "true", [SAFETY_LABEL]: args.name } } },
          ctx.signal,
        );
        await copyVolume(ctx, args.name, safety, image);
        await clearVolume(ctx, args.name, images);
        try {
          await importInto(ctx, args.name, body, image);
        } catch (error) {
          // Put the previous files back, then drop the copy; if that fails too, the copy stays.
          try {
            await clearVolume(ctx, args.name, images);
            await copyVolume(ctx, safety, args.name, image);
          } catch (putBack) {
            throw new DockerError(
              "volume.import",
              500,
              `The restore failed (${message(error)}), and putting the previous data back failed too (${message(putBack)}): it is kept in volume ${safety}.`,
            );
          }
          await ctx.docker.transport.call(housekeeping.volumeRemove, { name: safety, force: true }, cleanupSignal()).catch(() => undefined);
          throw new DockerError(
            "volume.import",
            error instanceof DockerError ? error.status : 500,
            `The restore failed and the volume's previous data was put back: ${message(error)}`,
          );
        }
        await ctx.docker.transport.call(housekeeping.volumeRemove, { name: safety, force: true }, cleanupSignal());
        return { name: args.name, mode: "replace", bytes: body.received, restarted: stopped, safety_volume: safety };
      } finally {
        await startAgain(ctx, stopped);
      }
    } finally {
      // Whatever was not read (a refusal before the import) is not wanted: the relay stops sending.
      if (!body.readableEnded) body.destroy();
    }
  },
};
