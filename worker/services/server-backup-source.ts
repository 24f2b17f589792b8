import type { Database } from "../db/client.ts";
import { conflict } from "../errors.ts";
import { BackupStepError, type BackupSource, type ServerTarget, volumeSource } from "./backup-sources.ts";
import { runOnHost } from "./host-relay.ts";
import { getHost } from "./hosts.ts";
import { DEFAULT_DATA_PATH } from "./server-roles.ts";
import { getServer, type ServerRow, serverContainerName } from "./servers.ts";

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
  async describe(_env, target, { db, organizationId }) {
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
