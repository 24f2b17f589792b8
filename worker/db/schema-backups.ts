import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations, users } from "./schema-core.ts";

// Backups (worker/services/backups.ts): where artifacts go, and what was stored there.

/**
 * An S3-compatible store of an organization. The Worker's own R2 bucket (the `BACKUPS` binding) is
 * every organization's default destination and has no row: its id is `default`.
 */
export const backupDestinations = sqliteTable(
  "backup_destinations",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["s3"] }).notNull(),
    /** `https://s3.eu-west-1.amazonaws.com`, `http://minio.lan:9000`: scheme, host, optional port. */
    endpoint: text("endpoint").notNull(),
    bucket: text("bucket").notNull(),
    region: text("region").notNull(),
    accessKeyId: text("access_key_id").notNull(),
    secretEncrypted: text("secret_encrypted").notNull(),
    /** The last 4 characters of a long secret, for the mask (`…a1b2`); empty for short ones. */
    secretHint: text("secret_hint").notNull(),
    /** Keys start with it (no leading or trailing slash); empty for the bucket's root. */
    prefix: text("prefix").notNull().default(""),
    /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO, s3rver, most self-hosted stores). */
    forcePathStyle: integer("force_path_style", { mode: "boolean" }).notNull().default(true),
    /** Client-side encryption of artifacts with the organization's key (lib/backup-crypto.ts). */
    encrypt: integer("encrypt", { mode: "boolean" }).notNull().default(false),
    verifiedAt: text("verified_at").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("backup_destinations_org_name_unique").on(t.organizationId, t.name)],
);

export const BACKUP_STATUSES = ["running", "succeeded", "failed"] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];
/** `server`: a server's data volume (issue 13: services/server-backups.ts). */
export const BACKUP_TARGET_KINDS = ["volume", "database", "container", "server"] as const;
export type BackupTargetKind = (typeof BACKUP_TARGET_KINDS)[number];

/** One artifact in a destination (or the attempt at one): what, where, how big, its SHA-256. */
export const backups = sqliteTable(
  "backups",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** `default` (the R2 binding) or a destination's id. Not a foreign key: a backup outlives its destination's row. */
    destinationId: text("destination_id").notNull(),
    /** The policy that made it (backup-policies); null for an on-demand or imported backup. */
    policyId: text("policy_id"),
    targetKind: text("target_kind", { enum: BACKUP_TARGET_KINDS }).notNull(),
    /** The volume's name, the database service's id, the container's id, the server's id. */
    targetId: text("target_id").notNull(),
    /** The host the artifact was taken on. */
    hostId: text("host_id"),
    /** For people: `volume app-data on host-a`. */
    label: text("label").notNull(),
    /** `tar`, `pg_dump`, `mariadb-dump`, `redis-rdb`, `docker-image`: what restore expects. */
    format: text("format").notNull(),
    /** The object key in the destination (the manifest is `<key>.manifest.json`). */
    objectKey: text("object_key").notNull(),
    status: text("status", { enum: BACKUP_STATUSES }).notNull(),
    /** Bytes stored (after encryption). */
    sizeBytes: integer("size_bytes"),
    /** SHA-256 (hex) of the stored bytes: checked before and while a restore reads them. */
    sha256: text("sha256"),
    encrypted: integer("encrypted", { mode: "boolean" }).notNull(),
    engineVersion: text("engine_version"),
    taskId: text("task_id"),
    error: text("error"),
    /** Found by scanning the destination, not made by this Pier. */
    imported: integer("imported", { mode: "boolean" }).notNull().default(false),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [
    index("backups_org_created_idx").on(t.organizationId, t.createdAt),
    index("backups_target_idx").on(t.organizationId, t.targetKind, t.targetId),
    uniqueIndex("backups_org_object_unique").on(t.organizationId, t.destinationId, t.objectKey),
  ],
);
