import { and, asc, eq } from "drizzle-orm";
import { createDatabase, type Database } from "../db/client.ts";
import { backups, servers } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict } from "../errors.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import { BackupStepError, type BackupSource, type RestoreInto, type ServerTarget, volumeSource } from "./backup-sources.ts";
import { getBackup, startBackup } from "./backups.ts";
import { runOnHost } from "./host-relay.ts";
import { allHosts, getHost, getHostByName } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";
import { DEFAULT_DATA_PATH } from "./server-roles.ts";
import { getServer, listServers, type ServerFilter, type ServerRow, serverContainerName, serverScope } from "./servers.ts";
import { getTask } from "./tasks.ts";

// Servers (issue 13) as a backup source: a server's backup is its data volume, read as a tar like
// any volume (services/backup-sources.ts), and for a server of the `db` role a logical dump made
// inside its container first and kept in that volume (`<data path>/.pier-dump/`), so the artifact
// holds a consistent copy of the data besides the files the server was writing while they were
// read. A restore writes the tar over the server's volume (its container stopped meanwhile and
// started again), over another server's (on any host: the documents' target_server_id), or into
// a new volume on a host.

/** Where a `db` server's logical dump goes, under its data path. */
export const SERVER_DUMP_DIR = ".pier-dump";

/**
 * `sh -c` run in a `db` server's container: the engine's own dump tool, found by what the image
 * has, with the official images' environment variables for the credentials; $1 is the data path.
 * The dump is written beside and renamed over the previous one, so a failed dump leaves the last
 * good one. It prints the engine it dumped.
 */
const DUMP_SCRIPT = [
  "set -e",
  'out="$1/.pier-dump"',
  'mkdir -p "$out"',
  "if command -v pg_dumpall >/dev/null 2>&1; then",
  '  PGPASSWORD="${POSTGRES_PASSWORD:-}" pg_dumpall -U "${POSTGRES_USER:-postgres}" > "$out/dump.sql.partial"',
  '  mv "$out/dump.sql.partial" "$out/dump.sql"; echo postgres',
  "elif command -v mariadb-dump >/dev/null 2>&1 || command -v mysqldump >/dev/null 2>&1; then",
  "  tool=$(command -v mariadb-dump || command -v mysqldump)",
  '  MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}" "$tool" --user=root --all-databases --single-transaction --routines --triggers --events > "$out/dump.sql.partial"',
  '  mv "$out/dump.sql.partial" "$out/dump.sql"; echo mariadb',
  "elif command -v redis-cli >/dev/null 2>&1; then",
  '  redis-cli ${REDIS_PASSWORD:+-a "$REDIS_PASSWORD" --no-auth-warning} --rdb "$out/dump.rdb" >/dev/null; echo redis',
  "else",
  "  echo none",
  "fi",
].join("\n");

async function serverOf(db: Database, organizationId: string, serverId: string) {
  const server = await getServer(db, organizationId, serverId);
  if (!server.hostId)
    throw conflict(`Server ${server.name} has no host (its host was deleted): there is nothing to back up or restore into.`);
  return server as ServerRow & { hostId: string };
}

const dataPathOf = (server: ServerRow) => server.config.data_path ?? DEFAULT_DATA_PATH;

export const serverSource: BackupSource<ServerTarget> = {
  async describe(env, target, { db, organizationId }) {
    const server = await serverOf(db, organizationId, target.serverId);
    const host = await getHost(db, organizationId, server.hostId);
    return {
      hostId: host.id,
      format: "tar",
      ext: "tar",
      label: `server ${server.name} on ${host.name}`,
      targetId: server.id,
    };
  },

  async open(env, target, ctx) {
    const server = await serverOf(ctx.db, ctx.organizationId, target.serverId);
    if (server.role === "db") {
      const container = serverContainerName(server);
      ctx.log(`Dumping the database of ${server.name} into ${dataPathOf(server)}/${SERVER_DUMP_DIR}/ with the engine's own tool`);
      const dumped = await runOnHost(env, server.hostId, "container.exec", {
        id: container,
        cmd: ["sh", "-c", DUMP_SCRIPT, "sh", dataPathOf(server)],
        timeout_ms: 30 * 60_000,
      }).catch((error: unknown) => {
        throw new BackupStepError(
          `The database of ${server.name} could not be dumped: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      if (dumped.exit_code !== 0)
        throw new BackupStepError(
          `The database of ${server.name} could not be dumped (exit ${dumped.exit_code}): ${(dumped.stderr || dumped.stdout).trim().slice(-2000)}`,
        );
      const engine = dumped.stdout.trim().split("\n").pop();
      ctx.log(engine === "none" ? "No database tool in the image: only the files are backed up" : `Dumped the ${engine} data`);
    }
    return volumeSource.open(env, { kind: "volume", hostId: server.hostId, name: server.volumeName }, ctx);
  },

  async restore(env, target, into, body, ctx) {
    if (into.kind === "new") {
      // A new volume (on another host too), for a server made afterwards or for inspection.
      const source = await serverOf(ctx.db, ctx.organizationId, target.serverId).catch(() => null);
      const hostId = into.hostId ?? source?.hostId;
      if (!hostId) throw new BackupStepError("The server is gone: name the host (host_id) to restore its volume onto.");
      const restored = await volumeSource.restore(
        env,
        { kind: "volume", hostId, name: into.name },
        { kind: "new", name: into.name, hostId },
        body,
        ctx,
      );
      return { ...restored, volume: into.name };
    }
    const server = await serverOf(ctx.db, ctx.organizationId, into.kind === "server" ? into.serverId : target.serverId);
    ctx.log(
      `Restoring into server ${server.name}'s volume ${server.volumeName} (its container stopped meanwhile and started again; its current data kept as a safety copy until the restore succeeds)`,
    );
    const restored = await volumeSource.restore(
      env,
      { kind: "volume", hostId: server.hostId, name: server.volumeName, stopContainers: true },
      { kind: "same" },
      body,
      ctx,
    );
    return { ...restored, server_id: server.id, server_name: server.name, volume: server.volumeName };
  },
};

// ---- what the server manager documents' backup paths read and start -------------------------------

type Authed = Actor & { principal: Principal };

/** Starts a backup of a server (by id, alias, address or name): member+, like any backup. */
export async function startServerBackup(env: Bindings, actor: Authed, ref: string | number, destinationId?: string) {
  // Refused before the server is looked up, as the canonical POST /api/v1/backups refuses.
  requireRole(actor.principal, "member", "run backups");
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

/** The organization's server backups, newest first (of one server when `serverId` is given). */
export async function listServerBackups(db: Database, organizationId: string, serverId?: string): Promise<ServerBackupView[]> {
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
    .filter((b) => serverId === undefined || b.server_id === serverId)
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
export async function serverBackupsByNode(db: Database, organizationId: string, node?: string) {
  const all = await listServerBackups(db, organizationId);
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
  requireRole(principal, "admin", "restore backups");
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
