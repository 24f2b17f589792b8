import type { OpArgs, VolumeJson } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { changeOnHost, runOnOrgHost } from "./host-relay.ts";
import type { Actor, Principal } from "./principal.ts";

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

export const createVolume = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.create">) =>
  changeOnHost(db, env, actor, hostId, "volume.create", args, {
    role: "member",
    what: "create volumes",
    metadata: (volume) => ({ name: volume.Name, driver: volume.Driver, labels: args.labels ?? {} }),
  });

export const removeVolume = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.remove">) =>
  changeOnHost(db, env, actor, hostId, "volume.remove", args, {
    role: "member",
    what: "remove volumes",
    metadata: () => ({ name: args.name, force: args.force ?? false }),
  });

export const pruneVolumes = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"volume.prune">) =>
  changeOnHost(db, env, actor, hostId, "volume.prune", args, {
    role: "admin",
    what: "prune volumes (their data is lost for good)",
    metadata: (pruned) => ({ label: args.label ?? [], deleted: pruned.deleted, space_reclaimed: pruned.space_reclaimed }),
  });
