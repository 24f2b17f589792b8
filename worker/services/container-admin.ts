import type { OpArgs } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// Changes to a container on a host, for the canonical API and the compatibility surfaces (DevFlow's
// limits and backup): `docker update`, `docker commit`, `docker rename`. Members and up.

type Authed = Actor & { principal: Principal };

/** Memory, CPU and restart policy, applied to the running container. */
export async function updateContainer(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"container.update">) {
  const { principal } = actor;
  requireRole(principal, "member", "change a container's limits");
  const updated = await runOnOrgHost(db, env, principal.organizationId, hostId, "container.update", args);
  const { id, ...changes } = args;
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "container.update",
    targetType: "container",
    targetId: id,
    metadata: { host_id: hostId, ...changes },
  });
  return updated;
}

/** The container's filesystem and config as a new image (`{id, image}`). */
export async function commitContainer(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"container.commit">) {
  const { principal } = actor;
  requireRole(principal, "member", "commit containers to images");
  const committed = await runOnOrgHost(db, env, principal.organizationId, hostId, "container.commit", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "container.commit",
    targetType: "container",
    targetId: args.id,
    metadata: { host_id: hostId, image: committed.image, image_id: committed.id },
  });
  return committed;
}

export async function renameContainer(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"container.rename">) {
  const { principal } = actor;
  requireRole(principal, "member", "rename containers");
  const renamed = await runOnOrgHost(db, env, principal.organizationId, hostId, "container.rename", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "container.rename",
    targetType: "container",
    targetId: args.id,
    metadata: { host_id: hostId, name: renamed.name },
  });
  return renamed;
}

/** What a path in the container is (`docker cp`'s stat): viewers may look. */
export async function statContainerPath(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"container.archive_stat">,
) {
  return runOnOrgHost(db, env, actor.principal.organizationId, hostId, "container.archive_stat", args);
}
