// An application's images on the host: `pier/<app_name>:<deployment>` tags (every deployment
// makes one, so a rollback finds its exact image) and images its builds labelled with
// `dev.pier.app`. `deploy.prune` keeps the ones the control plane names (its last successful
// deployments) and removes the rest; `deploy.remove` removes them all with the application.
//
// Removal is by tag and without force: a tag that shares its image with another (a pulled
// `nginx:1.27` re-tagged for a deployment) only untags, and an image a container uses stays.
// The classic builder's cache is the chain of untagged parent images of a built image; removing
// the image (noprune off) removes the parents nothing else uses.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DockerClient } from "../docker/client.ts";
import * as api from "../docker/endpoints.ts";
import { APP_LABEL, type DeployPruneArgs, type DeployPruneResult } from "../protocol.ts";
import type { OpContext } from "./context.ts";
import { workDir } from "./deploy-git.ts";

interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
}

/** The application's images: tagged `pier/<app_name>:*`, or labelled as built for it. */
export async function appImages(docker: DockerClient, appId: string, appName: string, signal: AbortSignal): Promise<ImageSummary[]> {
  const [tagged, labelled] = await Promise.all([
    docker.transport.json(api.imageList, { filters: { reference: [`pier/${appName}`] } }, signal) as Promise<ImageSummary[]>,
    docker.transport.json(api.imageList, { filters: { label: [`${APP_LABEL}=${appId}`] } }, signal) as Promise<ImageSummary[]>,
  ]);
  const byId = new Map<string, ImageSummary>();
  for (const image of [...tagged, ...labelled]) byId.set(image.Id, image);
  return [...byId.values()];
}

/** What to remove of an image: its `pier/<app_name>:` tags, or the image itself when it has no tag. */
function removable(image: ImageSummary, appName: string): string[] {
  const tags = (image.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
  if (tags.length === 0) return [image.Id];
  return tags.filter((t) => t.startsWith(`pier/${appName}:`));
}

/** Removes the application's images except `keep`; one a container uses is reported, not forced. */
export async function removeAppImages(
  docker: DockerClient,
  app: { id: string; name: string },
  keep: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<DeployPruneResult> {
  const result: DeployPruneResult = { removed: [], kept: [], in_use: [] };
  for (const image of await appImages(docker, app.id, app.name, signal)) {
    const refs = removable(image, app.name);
    // An image also tagged with a kept deployment's tag is kept whole (its other tags go).
    for (const ref of refs) {
      if (keep.has(ref)) {
        result.kept.push(ref);
        continue;
      }
      try {
        await docker.removeImage(ref, {}, signal);
        result.removed.push(ref);
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 409) result.in_use.push(ref);
        else if (status !== 404) throw error;
      }
    }
  }
  return result;
}

/** The agent's bare clone of the application's repository (deploy-git.ts). */
export async function removeClone(appId: string): Promise<boolean> {
  await rm(join(workDir(), "repos", `${appId}.git`), { recursive: true, force: true });
  return true;
}

export async function deployPrune(args: DeployPruneArgs, { docker, signal }: OpContext): Promise<DeployPruneResult> {
  return removeAppImages(docker, { id: args.app_id, name: args.app_name }, new Set(args.keep), signal);
}
