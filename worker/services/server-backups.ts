import { and, asc, eq } from "drizzle-orm";
import { createDatabase, type Database } from "../db/client.ts";
import { backups, servers } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict } from "../errors.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import type { RestoreInto } from "./backup-sources.ts";
import { getBackup, startBackup } from "./backups.ts";
import { allHosts, getHost, getHostByName } from "./hosts.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";
import { getServer, listServers, type ServerFilter, serverScope } from "./servers.ts";
import { getTask } from "./tasks.ts";

// The server manager documents' backup paths over the backup services; servers as a backup
// source are in server-backup-source.ts.

// ---- what the server manager documents' backup paths read and start -------------------------------

type Authed = Actor & { principal: Principal };

/** Starts a backup of a server (by id, alias, address or name): member+, like any backup. */
export async function startServerBackup(env: Bindings, actor: Authed, ref: string | number, destinationId?: string) {
  // Refused before the server is looked up, as the canonical POST /api/v1/backups refuses.
  assertPermission(actor.principal, "manage_backups");
  const db = createDatabase(env);
  const server = await getServer(db, actor.principal.organizationId, ref, await serverScope(db, actor.principal));
  return startBackup(env, actor, { target: { kind: "server", serverId: server.id }, destinationId });
}

/** A server backup as the documents list it, with what Pier knows besides. */
export interface ServerBackupView {
  /** The documents' numeric id: its place among the organization's server backups, oldest first. */
  number: number;
  backup_id: string;
  server_id: string;
  /** The server's numeric id (alias); null once the server is deleted. */
  server_alias: number | null;
  server_name: string;
  /** The documents' words: completed, running, failed. */
  status: "completed" | "running" | "failed";
  /** `2.5GB`, as the documents show sizes; null until it finished. */
  size: string | null;
  size_bytes: number | null;
  node: string | null;
  node_id: string | null;
  destination_id: string;
  task_id: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

const STATUS_WORDS = { succeeded: "completed", running: "running", failed: "failed" } as const;

/**
 * The organization's server backups, newest first (of one server when `serverId` is given); with a
 * project scope, only those of servers in it.
 */
export async function listServerBackups(
  db: Database,
  organizationId: string,
  serverId?: string,
  scope: Pick<ServerFilter, "projectIds"> = {},
): Promise<ServerBackupView[]> {
  const rows = await db
    .select()
    .from(backups)
    .where(and(eq(backups.organizationId, organizationId), eq(backups.targetKind, "server")))
    .orderBy(asc(backups.createdAt), asc(backups.id));
  const serverRows = await db
    .select({ id: servers.id, alias: servers.alias, name: servers.name })
    .from(servers)
    .where(eq(servers.organizationId, organizationId));
  const byId = new Map(serverRows.map((s) => [s.id, s]));
  const seen = scope.projectIds ? new Set((await listServers(db, organizationId, scope)).map((s) => s.id)) : null;
  const hostRows = await allHosts(db, organizationId);
  const hostNames = new Map(hostRows.map((h) => [h.id, h.name]));
  return rows
    .map((r, i): ServerBackupView => {
      const server = byId.get(r.targetId);
      return {
        number: i + 1,
        backup_id: r.id,
        server_id: r.targetId,
        server_alias: server?.alias ?? null,
        server_name: server?.name ?? r.label.replace(/^server (\S+).*$/, "$1"),
        status: STATUS_WORDS[r.status],
        size: r.sizeBytes === null ? null : dockerHumanSize(r.sizeBytes),
        size_bytes: r.sizeBytes,
        node: r.hostId ? (hostNames.get(r.hostId) ?? null) : null,
        node_id: r.hostId,
        destination_id: r.destinationId,
        task_id: r.taskId,
        error: r.error,
        created_at: r.createdAt,
        finished_at: r.finishedAt,
      };
    })
    .filter((b) => (serverId === undefined || b.server_id === serverId) && (!seen || seen.has(b.server_id)))
    .reverse();
}

/** Each server's backups at a glance: how many, the last one, whether one is running (and how far). */
export async function serverBackupStatus(
  db: Database,
  organizationId: string,
  serverId?: string,
  scope: Pick<ServerFilter, "projectIds"> = {},
) {
  const all = await listServerBackups(db, organizationId);
  const list = serverId ? [await getServer(db, organizationId, serverId, scope)] : await listServers(db, organizationId, scope);
  const out = [];
  for (const server of list) {
    const own = all.filter((b) => b.server_id === server.id);
    const last = own[0] ?? null;
    const task = last?.task_id ? await getTask(db, organizationId, last.task_id).catch(() => null) : null;
    out.push({
      server_id: server.alias,
      server_name: server.name,
      node_id: server.hostId,
      status: last ? last.status : "none",
      running: own.some((b) => b.status === "running"),
      progress: last?.status === "running" ? (task?.progress ?? 0) : last?.status === "completed" ? 100 : null,
      message: task?.message ?? last?.error ?? null,
      backups: own.length,
      last_backup: last,
    });
  }
  return out;
}

/** Server backups grouped by the node (host) they were taken on; one node's when `node` (id or name) is given. */
export async function serverBackupsByNode(
  db: Database,
  organizationId: string,
  node?: string,
  scope: Pick<ServerFilter, "projectIds"> = {},
) {
  const all = await listServerBackups(db, organizationId, undefined, scope);
  const hostRows = node ? [await hostByIdOrName(db, organizationId, node)] : await allHosts(db, organizationId);
  return hostRows.map((h) => {
    const own = all.filter((b) => b.node_id === h.id);
    const bytes = own.reduce((n, b) => n + (b.size_bytes ?? 0), 0);
    return { node: h.name, node_id: h.id, backups: own, total: own.length, total_size: dockerHumanSize(bytes), total_bytes: bytes };
  });
}

async function hostByIdOrName(db: Database, organizationId: string, ref: string) {
  return getHost(db, organizationId, ref).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return getHostByName(db, organizationId, ref);
    throw error;
  });
}

/**
 * Where the documents' restore requests go: over another server (`target_server`, on whatever
 * host it runs), into a new volume on a node, or over the backed-up server itself. Replacing a
 * server's data needs `overwrite` (true unless sent false).
 */
export async function resolveRestoreInto(
  db: Database,
  principal: Principal,
  backupId: string,
  options: { targetServer?: string | number; node?: string; volumeName?: string; overwrite: boolean },
): Promise<RestoreInto> {
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const row = await getBackup(db, principal, backupId);
  if (options.targetServer !== undefined && options.node !== undefined)
    throw new ApiError(422, "Send either target_server (restore over a server's data) or node (into a new volume there), not both.");
  if (options.node !== undefined) {
    const host = await hostByIdOrName(db, principal.organizationId, options.node);
    return {
      kind: "new",
      name: options.volumeName ?? `${row.targetId.replace(/[^A-Za-z0-9_.-]/g, "-")}-restored-${Date.now().toString(36)}`,
      hostId: host.id,
    };
  }
  if (options.targetServer !== undefined) {
    if (row.targetKind !== "server")
      throw new ApiError(422, `Backup ${row.id} is of a ${row.targetKind}, not a server: it cannot be restored over a server.`, {
        errors: [{ pointer: "/body/target_server", detail: "only for server backups" }],
      });
    const server = await getServer(db, principal.organizationId, options.targetServer, await serverScope(db, principal));
    if (!options.overwrite) throw conflict(`Restoring over ${server.name} replaces its data: send "overwrite": true to do it.`);
    return server.id === row.targetId ? { kind: "same" } : { kind: "server", serverId: server.id };
  }
  if (!options.overwrite) throw conflict(`Restoring ${row.label} in place replaces its data: send "overwrite": true to do it.`);
  return { kind: "same" };
}
