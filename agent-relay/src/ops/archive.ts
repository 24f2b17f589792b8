// Byte transfers (protocol/transfer.ts) to and from the engine: `docker save` / `docker load`
// and a container's files (`docker cp`). The bytes never sit in the agent: a download reads the
// engine's response only as fast as the relay grants credit, an upload is the engine's request
// body, fed as the engine reads it.
import * as api from "../docker/archive.ts";
import { imageSave } from "../docker/image-admin.ts";
import { DockerError } from "../docker/errors.ts";
import { JsonLinesParser } from "../docker/streams.ts";
import { ForbiddenError } from "../errors.ts";
import type { ContainerPathStat } from "../protocol.ts";
import type { DownloadSink, UploadSource } from "../transfer.ts";
import type { OpContext, OpHandlers } from "./context.ts";

type ArchiveOps = "image.save" | "image.load" | "container.archive_stat" | "container.archive_get" | "container.archive_put";

const STAT_HEADER = "x-docker-container-path-stat";

function download(ctx: OpContext): DownloadSink {
  if (!ctx.download) throw new Error("this op moves bytes and needs a transfer channel");
  return ctx.download;
}

function upload(ctx: OpContext): UploadSource {
  if (!ctx.upload) throw new Error("this op moves bytes and needs a transfer channel");
  return ctx.upload;
}

/** The engine's path stat header: base64 of a JSON object. */
export function decodePathStat(header: string | string[] | undefined): ContainerPathStat | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  try {
    return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as ContainerPathStat;
  } catch {
    return null;
  }
}

/** `docker load`'s answer: JSON lines of `{stream}` text, or `{error}` for a tar it could not use. */
export function readLoadOutput(lines: unknown[]): { images: string[]; output: string } {
  let output = "";
  const images: string[] = [];
  for (const line of lines as Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }>) {
    const error = line.errorDetail?.message ?? line.error;
    if (error) throw new DockerError("image.load", 400, `the engine could not load the tar: ${error}`);
    if (typeof line.stream !== "string") continue;
    output += line.stream;
    const loaded = /^Loaded image(?: ID)?: (.+)$/.exec(line.stream.trim());
    if (loaded?.[1]) images.push(loaded[1]);
  }
  return { images, output: output.trim() };
}

export const archiveOps: Pick<OpHandlers, ArchiveOps> = {
  "image.save": async (args, ctx) => {
    const sink = download(ctx);
    const reply = await ctx.docker.transport.send(imageSave, { names: args.images }, ctx.signal);
    sink.start({ content_type: "application/x-tar" });
    return { bytes: await sink.send(reply.body) };
  },

  "image.load": async (_args, ctx) => {
    const body = upload(ctx);
    const reply = await ctx.docker.transport.send(api.imageLoad, { body }, ctx.signal);
    const parser = new JsonLinesParser();
    const lines: unknown[] = [];
    for await (const piece of reply.body) lines.push(...parser.push(piece as Uint8Array));
    lines.push(...parser.end());
    return { ...readLoadOutput(lines), bytes: body.received };
  },

  "container.archive_stat": async (args, { docker, signal }) => {
    const reply = await docker.transport.send(api.containerArchiveHead, args, signal);
    const stat = decodePathStat(reply.headers[STAT_HEADER]);
    if (!stat) throw new DockerError("container.archive-stat", 502, "the engine sent no stat for the path");
    return stat;
  },

  "container.archive_get": async (args, ctx) => {
    const sink = download(ctx);
    const reply = await ctx.docker.transport.send(api.containerArchiveGet, args, ctx.signal);
    sink.start({ content_type: "application/x-tar", stat: decodePathStat(reply.headers[STAT_HEADER]) });
    return { bytes: await sink.send(reply.body) };
  },

  "container.archive_put": async (args, ctx) => {
    const body = upload(ctx);
    try {
      await ctx.docker.transport.call(
        api.containerArchivePut,
        { id: args.id, path: args.path, body, noOverwriteDirNonDir: args.no_overwrite_dir_non_dir, copyUidGid: args.copy_uid_gid },
        ctx.signal,
      );
    } catch (error) {
      // The API documents 403 for a read-only root filesystem; Debian's engine (20.10) answers 500
      // "container rootfs is marked read-only". Either way it is the container's setting, not a fault.
      if (error instanceof DockerError && (error.status === 403 || /rootfs is marked read-only/i.test(error.engineMessage))) {
        throw new ForbiddenError(error.engineMessage);
      }
      // The engine calls a file as the target a server error; it is the caller's mistake.
      if (error instanceof DockerError && /not a directory/i.test(error.engineMessage)) {
        throw new DockerError("container.archive-put", 400, `${args.path} in the container is not a directory (${error.engineMessage})`);
      }
      throw error;
    }
    return { path: args.path, bytes: body.received };
  },
};
