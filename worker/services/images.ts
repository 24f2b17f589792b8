import type { ImagePruneResult, ImagePushResult, OpArgs } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { getHost } from "./hosts.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { runStreamed } from "./host-streams.ts";
import { startHostTask } from "./host-tasks.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";
import { registryAuthFor } from "./registries.ts";
import type { TaskRow } from "./tasks.ts";

// Images on a host beyond list/pull/remove, for the canonical API and the compatibility surfaces:
// inspect and history (viewers), tag (members), push and prune (members, as tasks with progress;
// or synchronously for surfaces that answer with the outcome, such as DevFlow's).

type Authed = Actor & { principal: Principal };

export const inspectImage = (db: Database, env: Bindings, principal: Principal, hostId: string, image: string) =>
  runOnOrgHost(db, env, principal.organizationId, hostId, "image.inspect", { id: image });

export const imageHistory = (db: Database, env: Bindings, principal: Principal, hostId: string, image: string) =>
  runOnOrgHost(db, env, principal.organizationId, hostId, "image.history", { id: image });

/** `docker tag source target`; 404 in the engine's words when the source is missing. */
export async function tagImage(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"image.tag">) {
  const { principal } = actor;
  requireRole(principal, "member", "tag images");
  const tagged = await runOnOrgHost(db, env, principal.organizationId, hostId, "image.tag", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "image.tag",
    targetType: "host",
    targetId: hostId,
    metadata: { ...tagged },
  });
  return tagged;
}

/** Starts `docker push` as a task (202 with it). `auth` goes to the host's engine only: never stored, never logged. */
export async function startImagePush(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"image.push">,
): Promise<TaskRow> {
  requireRole(actor.principal, "member", "push images");
  const host = await getHost(db, actor.principal.organizationId, hostId);
  return startHostTask(db, env, actor, host, { kind: "image.push", args });
}

/** Starts `docker image prune` (dangling, or with `all` every unused image) as a task. */
export async function startImagePrune(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"image.prune">,
): Promise<TaskRow> {
  requireRole(actor.principal, "member", "prune images");
  const host = await getHost(db, actor.principal.organizationId, hostId);
  return startHostTask(db, env, actor, host, { kind: "image.prune", args });
}

/** `docker push`, waited for: the outcome with what the CLI prints (DevFlow's synchronous push). */
export async function pushImage(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"image.push">,
): Promise<ImagePushResult> {
  const { principal } = actor;
  requireRole(principal, "member", "push images");
  const auth = args.auth ?? (await registryAuthFor(db, env, principal.organizationId, args.image));
  const result = await runStreamed(db, env, principal, hostId, "image.push", { ...args, ...(auth ? { auth } : {}) });
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "image.push",
    targetType: "host",
    targetId: hostId,
    metadata: { image: args.image, digest: result.digest, authenticated: auth !== undefined },
  });
  return result;
}

/** `docker image prune`, waited for (DevFlow's synchronous prune). */
export async function pruneImages(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"image.prune">,
): Promise<ImagePruneResult> {
  const { principal } = actor;
  requireRole(principal, "member", "prune images");
  const result = await runStreamed(db, env, principal, hostId, "image.prune", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "image.prune",
    targetType: "host",
    targetId: hostId,
    metadata: { all: args.all ?? false, deleted: result.images.length, space_reclaimed: result.space_reclaimed },
  });
  return result;
}
