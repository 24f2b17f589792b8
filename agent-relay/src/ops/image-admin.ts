// Images beyond list/pull/remove: inspect, history, tag, push with progress, prune. A push
// streams `{progress, status}` JSON lines as chunks (as a pull does) and ends with what
// `docker push` would have printed; a prune streams its start and end.
import { ImagePullError, registryAuthHeader, splitReference } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import * as api from "../docker/image-admin.ts";
import { imagePrune } from "../docker/housekeeping.ts";
import { JsonLinesParser } from "../docker/streams.ts";
import type { ImageOpResults, ImagePruneResult, ImagePushResult, PullProgress } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

/** One line of Docker's push progress. */
export interface PushLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

const LAYER_DONE = /^(Pushed|Layer already exists|Mounted from .*)$/;

/**
 * Turns Docker's per-layer push lines into one percentage (layers weigh the same: sizes are known
 * only once each starts uploading) and into the text `docker push` prints without a terminal:
 * one line per layer state, not the repeated "Pushing" bars.
 */
export class PushTracker {
  readonly #layers = new Map<string, number>();
  readonly lines: string[] = [];
  digest: string | null = null;

  push(line: PushLine): PullProgress {
    const { id, status = "" } = line;
    if (line.aux?.Digest) this.digest = line.aux.Digest;
    if (id && status) {
      const before = this.#layers.get(id) ?? 0;
      let now = before;
      if (LAYER_DONE.test(status)) now = 1;
      else if (status === "Pushing") {
        const { current = 0, total = 0 } = line.progressDetail ?? {};
        now = total > 0 ? Math.min(0.99, current / total) : before;
      }
      this.#layers.set(id, Math.max(before, now));
      if (status !== "Pushing") this.lines.push(`${id}: ${status}`);
    } else if (status) {
      this.lines.push(status);
    }
    return { progress: this.progress(), status: id ? `${id}: ${status}` : status };
  }

  progress(): number {
    if (this.#layers.size === 0) return 0;
    let sum = 0;
    for (const value of this.#layers.values()) sum += value;
    return Math.floor((sum / this.#layers.size) * 100 + 1e-9);
  }
}

type Ops = "image.inspect" | "image.history" | "image.tag" | "image.push" | "image.prune" | "registry.login";

export const imageAdminOps: Pick<OpHandlers, Ops> = {
  "image.inspect": async (args, { docker, signal }) =>
    (await docker.transport.json(api.imageInspect, { name: args.id }, signal)) as ImageOpResults["image.inspect"],

  "image.history": async (args, { docker, signal }) =>
    (await docker.transport.json(api.imageHistory, { name: args.id }, signal)) as ImageOpResults["image.history"],

  "image.tag": async (args, { docker, signal }) => {
    const { name, tag } = splitReference(args.target);
    await docker.transport.call(api.imageTag, { name: args.source, repo: name, tag }, signal);
    return { source: args.source, target: `${name}:${tag ?? "latest"}` };
  },

  "image.push": async (args, { docker, signal, output }): Promise<ImagePushResult> => {
    // Always one tag (`latest` when none is named): the engine, given no tag, pushes them all.
    const { name, tag = "latest" } = splitReference(args.image);
    const tracker = new PushTracker();
    const say = (p: PullProgress) => output.write(`${JSON.stringify(p)}\n`);
    await say({ progress: 0, status: `Pushing ${args.image}` });
    // The engine wants the header even when the registry needs no login: empty credentials then.
    const registryAuth = registryAuthHeader(args.auth ?? { username: "", password: "" }) ?? "";
    const reply = await docker.transport.send(api.imagePush, { name, tag, registryAuth }, signal);
    const parser = new JsonLinesParser();
    let shown = -1;
    const handle = async (doc: PushLine) => {
      // (A failure inside the 200 stream, reported as a pull's is.)
      if (doc.error || doc.errorDetail) throw new ImagePullError(doc.errorDetail?.message ?? doc.error ?? "push failed");
      const next = tracker.push(doc);
      if (next.progress > shown || doc.status !== "Pushing") {
        shown = next.progress;
        await say(next);
      }
    };
    try {
      for await (const piece of reply.body) for (const doc of parser.push(piece as Uint8Array)) await handle(doc as PushLine);
      for (const doc of parser.end()) await handle(doc as PushLine);
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw error;
    } finally {
      if (!reply.body.destroyed) reply.body.destroy();
    }
    await say({ progress: 100, status: `Pushed ${args.image}` });
    return { image: args.image, digest: tracker.digest, output: tracker.lines.join("\n") };
  },

  "image.prune": async (args, { docker, signal, output }): Promise<ImagePruneResult> => {
    const filters: Record<string, string[]> = { dangling: [args.all ? "false" : "true"] };
    if (args.until) filters.until = [args.until];
    if (args.label?.length) filters.label = [...args.label];
    await output.write(`${JSON.stringify({ progress: 0, status: `Pruning ${args.all ? "unused" : "dangling"} images` })}\n`);
    const report = (await docker.transport.json(imagePrune, { filters }, signal)) as {
      ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null;
      SpaceReclaimed?: number;
    };
    const result: ImagePruneResult = {
      images: (report.ImagesDeleted ?? []).map((d) => ({
        ...(d.Untagged ? { untagged: d.Untagged } : {}),
        ...(d.Deleted ? { deleted: d.Deleted } : {}),
      })),
      space_reclaimed: report.SpaceReclaimed ?? 0,
    };
    await output.write(`${JSON.stringify({ progress: 100, status: `Reclaimed ${result.space_reclaimed} bytes` })}\n`);
    return result;
  },

  "registry.login": async (args, { docker, signal }): Promise<ImageOpResults["registry.login"]> => {
    try {
      const reply = (await docker.transport.json(api.registryAuth, { body: args }, signal)) as { Status?: string } | undefined;
      return { ok: true, status: reply?.Status || "Login Succeeded" };
    } catch (error) {
      // 401 for refused credentials, 500 for a registry the host cannot reach: both are the answer.
      if (error instanceof DockerError) return { ok: false, status: error.status, message: error.engineMessage };
      throw error;
    }
  },
};
