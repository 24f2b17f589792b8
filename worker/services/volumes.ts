import type { OpArgs, VolumeJson } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// Volumes on a host, for the canonical API and the compatibility surfaces. Viewers read, members
// create and remove, admins prune (a prune destroys data nobody named).

type Authed = Actor & { principal: Principal };

export interface VolumeView {
  name: string;
  driver: string;
  mountpoint: string;
  created_at: string | null;
  scope: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  managed: boolean;
  /** Bytes, when usage was asked for and the driver could tell; else null. */
  size: number | null;
  /** Containers using it, when usage was asked for; else null. */
  ref_count: number | null;
}

export function toVolumeView(v: VolumeJson): VolumeView {
  const usage = v.UsageData ?? null;
  return {
    name: v.Name,
    driver: v.Driver,
    mountpoint: v.Mountpoint,
    created_at: v.CreatedAt ?? null,
    scope: v.Scope,
    labels: v.Labels ?? {},
    options: v.Options ?? {},
    managed: v.Labels?.["dev.pier.managed"] === "true",
    size: usage && usage.Size >= 0 ? usage.Size : null,
    ref_count: usage && usage.RefCount >= 0 ? usage.RefCount : null,
  };
}

export async function listVolumes(db: Database, env: Bindings, principal: Principal, hostId: string, query: OpArgs<"volume.list">) {
  return runOnOrgHost(db, env, principal.organizationId, hostId, "volume.list", query);
}

export async function inspectVolume(db: Database, env: Bindings, principal: Principal, hostId: string, name: string) {
  return runOnOrgHost(db, env, principal.organizationId, hostId, "volume.inspect", { name });
}

export async function createVolume(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.create">) {
  const { principal } = actor;
  requireRole(principal, "member", "create volumes");
  const volume = await runOnOrgHost(db, env, principal.organizationId, hostId, "volume.create", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "volume.create",
    targetType: "host",
    targetId: hostId,
    metadata: { name: volume.Name, driver: volume.Driver, labels: args.labels ?? {} },
  });
  return volume;
}

export async function removeVolume(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.remove">) {
  const { principal } = actor;
  requireRole(principal, "member", "remove volumes");
  const removed = await runOnOrgHost(db, env, principal.organizationId, hostId, "volume.remove", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "volume.remove",
    targetType: "host",
    targetId: hostId,
    metadata: { name: args.name, force: args.force ?? false },
  });
  return removed;
}

export async function pruneVolumes(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.prune">) {
  const { principal } = actor;
  requireRole(principal, "admin", "prune volumes (their data is lost for good)");
  const pruned = await runOnOrgHost(db, env, principal.organizationId, hostId, "volume.prune", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "volume.prune",
    targetType: "host",
    targetId: hostId,
    metadata: { label: args.label ?? [], deleted: pruned.deleted, space_reclaimed: pruned.space_reclaimed },
  });
  return pruned;
}
