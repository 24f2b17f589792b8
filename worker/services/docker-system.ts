import type { DiskUsageRow, OpArgs, SystemPruneResult } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import { getHost } from "./hosts.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { startHostTask } from "./host-tasks.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// A host's Docker system: info, version, disk usage as `docker system df` shows it, and
// `docker system prune` as a task. Members prune; pruning volumes too takes an admin.

type Authed = Actor & { principal: Principal };

export const hostDockerInfo = (db: Database, env: Bindings, principal: Principal, hostId: string) =>
  runOnOrgHost(db, env, principal.organizationId, hostId, "system.info", {});

export const hostDockerVersion = (db: Database, env: Bindings, principal: Principal, hostId: string) =>
  runOnOrgHost(db, env, principal.organizationId, hostId, "system.version", {});

export interface DiskUsageView extends DiskUsageRow {
  /** As the CLI prints them: "3.2GB", and "450MB (14%)" (build cache without the share). */
  size_text: string;
  reclaimable_text: string;
}

/** The CLI's reclaimable column: the share of the size, except for the build cache. */
export function reclaimableText(row: DiskUsageRow): string {
  const text = dockerHumanSize(row.reclaimable);
  if (row.type === "Build Cache" || row.size <= 0) return text;
  return `${text} (${Math.floor((row.reclaimable * 100) / row.size)}%)`;
}

export async function diskUsage(db: Database, env: Bindings, principal: Principal, hostId: string): Promise<DiskUsageView[]> {
  const { rows } = await runOnOrgHost(db, env, principal.organizationId, hostId, "system.df", {});
  return rows.map((row) => ({ ...row, size_text: dockerHumanSize(row.size), reclaimable_text: reclaimableText(row) }));
}

/** Starts `docker system prune` on the host as a task (202 with it). */
export async function startSystemPrune(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"system.prune">) {
  const { principal } = actor;
  requireRole(principal, "member", "prune a host's containers, networks, images and build cache");
  if (args.volumes) requireRole(principal, "admin", "prune volumes (their data is lost for good)");
  const host = await getHost(db, principal.organizationId, hostId);
  return startHostTask(db, env, actor, host, { kind: "system.prune", args });
}

/** What `docker system prune` prints for this result, ending in "Total reclaimed space: …". */
export function pruneOutput(result: SystemPruneResult): string {
  const sections: Array<[string, string[]]> = [
    ["Deleted Containers:", result.containers],
    ["Deleted Networks:", result.networks],
    ["Deleted Volumes:", result.volumes],
    ["Deleted Images:", result.images.map((i) => (i.untagged ? `untagged: ${i.untagged}` : `deleted: ${i.deleted ?? ""}`))],
    ["Deleted build cache objects:", result.build_cache],
  ];
  const parts = sections.filter(([, items]) => items.length > 0).map(([title, items]) => `${title}\n${items.join("\n")}\n`);
  parts.push(`Total reclaimed space: ${dockerHumanSize(result.space_reclaimed)}`);
  return parts.join("\n");
}
