import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { ContainerRef } from "./refs.ts";

// Logical backups of database services, made and restored by each engine's own tools inside its
// container, as byte transfers (protocol/transfer.ts): `database.dump` streams the artifact out
// as the tool writes it, `database.restore` feeds the artifact to the tool as it reads it. Nothing
// is staged on the host's disk or held in the agent's memory.
//
//   postgres  pg_dump -Fc (custom format)            → pg_restore --clean --if-exists --single-transaction
//   mysql,    mariadb-dump | mysqldump                → mariadb | mysql, the SQL piped in
//   mariadb     --single-transaction --routines …
//   mongo     mongodump --archive                     → mongorestore --archive --drop
//   redis     BGSAVE, LASTSAVE waited on, dump.rdb    → stopped, the RDB put back (as the AOF's base
//             copied out as a tar (the archive API)     when append-only is on), started
//
// A restore first reads the server version the artifact was made from (from the artifact itself,
// so a backup Pier found by scanning a destination is checked too) and refuses one into an older
// major version of the engine, before it changes anything.

export const DUMP_ENGINES = ["postgres", "mysql", "mariadb", "mongo", "redis"] as const;
export type DumpEngine = (typeof DUMP_ENGINES)[number];

const secret = z.string().check(z.maxLength(4096));
const name = z.string().check(z.minLength(1), z.maxLength(255));

/** The service as its container runs it, and the credentials Pier keeps for it (never logged). */
export const DatabaseDumpArgs = z.object({
  container: ContainerRef,
  engine: z.enum(DUMP_ENGINES),
  /** The database to dump (postgres, mysql, mariadb; mongo: all databases when absent). */
  database: z.optional(name),
  user: z.optional(name),
  password: z.optional(secret),
  /** MySQL/MariaDB: the root password, used when given (routines and events need it). */
  root_password: z.optional(secret),
});
export type DatabaseDumpArgs = z.infer<typeof DatabaseDumpArgs>;

export const DatabaseRestoreArgs = z.extend(DatabaseDumpArgs, {
  /** Restore even into an older major version than the artifact's (the engine may still refuse). */
  allow_older_target: z.optional(z.boolean()),
});
export type DatabaseRestoreArgs = z.infer<typeof DatabaseRestoreArgs>;

const SIX_HOURS = 6 * 60 * 60_000;

export const DUMP_OPS = {
  "database.dump": { args: DatabaseDumpArgs, timeoutMs: SIX_HOURS, streaming: false, idempotent: true, transfer: "download" },
  "database.restore": { args: DatabaseRestoreArgs, timeoutMs: SIX_HOURS, streaming: false, idempotent: false, transfer: "upload" },
} as const satisfies Record<string, OpSpec>;

/** What the artifact is; also the download's `transfer_start.meta`. */
export interface DumpMeta extends Record<string, unknown> {
  engine: DumpEngine;
  /**
   * What restore expects: `pg_dump` (custom format), `mariadb-dump` or `mysqldump` (SQL),
   * `mongodump` (an archive), `redis-rdb` (dump.rdb in a tar, as the archive API gives it).
   */
  format: string;
  /** The file name extension for the artifact. */
  extension: string;
  /** The server's version, as it reports it (`15.18 (Debian 15.18-0+deb12u1)`, `10.11.18-MariaDB…`, `7.0.15`). */
  server_version: string;
  /** The program that wrote the artifact and its version line. */
  tool: string;
}

export interface DumpOpResults {
  "database.dump": DumpMeta & { bytes: number };
  "database.restore": {
    engine: DumpEngine;
    bytes: number;
    /** The target server's version, and the version the artifact says it came from (null: unknown). */
    server_version: string;
    source_version: string | null;
    /** The restoring tool's last words (warnings), bounded. */
    output: string;
  };
}

/** The major version in a server version string: `15.18 (Debian …)` → 15, `10.11.18-MariaDB` → 10. */
export function majorVersion(version: string | null | undefined): number | null {
  const match = /(\d+)(?:\.\d+)?/.exec(version ?? "");
  return match ? Number(match[1]) : null;
}
