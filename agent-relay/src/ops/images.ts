// Image operations: list, pull with progress, remove. A pull streams `{progress, status}` JSON
// lines as chunks, so a task can show how far it got; the image's id rides on the final `end`.
import type { PullLine } from "../docker/client.ts";
import type { DockerJson, ImagePullResult, PullProgress } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";
import { inspectImage } from "./deploy-engine.ts";

/** Downloading counts for this share of a layer; extracting for the rest. */
const DOWNLOAD_SHARE = 0.7;
const DONE = new Set(["Pull complete", "Already exists"]);
const DOWNLOADED = new Set(["Download complete", "Verifying Checksum"]);

/**
 * Turns Docker's per-layer pull lines into one percentage. Layers are equal weights (their sizes
 * are known only once each starts downloading); a finished pull is 100.
 */
export class PullTracker {
  readonly #layers = new Map<string, number>();

  /** The progress after this line, and a status worth showing when it says something new. */
  push(line: PullLine): PullProgress {
    const { id, status = "" } = line;
    // Lines without an id ("Pulling from …", "Digest: …") and the tag's own line carry no layer.
    if (id && !status.startsWith("Pulling from")) {
      const { current = 0, total = 0 } = line.progressDetail ?? {};
      const fraction = total > 0 ? Math.min(1, current / total) : 0;
      const before = this.#layers.get(id) ?? 0;
      let now = before;
      if (DONE.has(status)) now = 1;
      else if (DOWNLOADED.has(status)) now = DOWNLOAD_SHARE;
      else if (status === "Downloading") now = DOWNLOAD_SHARE * fraction;
      else if (status === "Extracting") now = DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * fraction;
      // A line never moves a layer backwards (Docker repeats "Waiting" and retries downloads).
      this.#layers.set(id, Math.max(before, now));
    }
    return { progress: this.progress(), status: id && !status.startsWith("Pulling from") ? `${id}: ${status}` : status };
  }

  progress(): number {
    if (this.#layers.size === 0) return 0;
    let sum = 0;
    for (const value of this.#layers.values()) sum += value;
    // (The epsilon keeps 0.7 × 0.8 from flooring to 55.)
    return Math.floor((sum / this.#layers.size) * 100 + 1e-9);
  }
}

/**
 * Fills each image's `Containers` (how many containers, running or not, were made from it): the
 * engine's image list leaves it at -1 and counts only for `GET /system/df`, which also measures
 * every layer and volume. A container list is cheap, and it is how Portainer tells unused images.
 */
export function withContainerCounts(images: DockerJson[], containers: DockerJson[]): DockerJson[] {
  const using = new Map<unknown, number>();
  for (const c of containers) using.set(c.ImageID, (using.get(c.ImageID) ?? 0) + 1);
  return images.map((i) => (typeof i.Containers === "number" && i.Containers >= 0 ? i : { ...i, Containers: using.get(i.Id) ?? 0 }));
}

type ImageOps = "image.list" | "image.pull" | "image.remove";

export const imageOps: Pick<OpHandlers, ImageOps> = {
  "image.list": async (args, { docker, signal }) => {
    const [images, containers] = await Promise.all([
      docker.listImages({ all: args.all }, signal),
      docker.listContainers({ all: true }, signal),
    ]);
    return withContainerCounts(images, containers);
  },

  "image.pull": async (args, { docker, signal, output }): Promise<ImagePullResult> => {
    const tracker = new PullTracker();
    let shown = { progress: -1, status: "" };
    const say = (p: PullProgress) => output.write(`${JSON.stringify(p)}\n`);
    await say({ progress: 0, status: `Pulling ${args.image}` });
    const { status } = await docker.pullImage(
      args.image,
      {
        platform: args.platform,
        auth: args.auth,
        onProgress: async (line) => {
          const next = tracker.push(line);
          // "Downloading" repeats many times a second: only a new status or a whole percent more.
          const statusChanged =
            !line.status?.startsWith("Downloading") && !line.status?.startsWith("Extracting") && next.status !== shown.status;
          if (next.progress > shown.progress || statusChanged) {
            shown = next;
            await say(next);
          }
        },
      },
      signal,
    );
    const image = await inspectImage(docker, args.image, signal);
    await say({ progress: 100, status });
    return { image: args.image, id: String(image?.Id ?? ""), status };
  },

  "image.remove": async (args, { docker, signal }) => {
    const report = await docker.removeImage(args.id, { force: args.force, noprune: args.noprune }, signal);
    return {
      untagged: report.flatMap((r) => (r.Untagged ? [r.Untagged] : [])),
      deleted: report.flatMap((r) => (r.Deleted ? [r.Deleted] : [])),
    };
  },
};
