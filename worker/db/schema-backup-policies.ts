import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { BACKUP_TARGET_KINDS } from "./schema-backups.ts";
import { organizations, users } from "./schema-core.ts";

// Backup policies (issue 12): what to back up, when, where, and how many to keep. Same conventions
// as schema-core.ts. A policy's schedule runs in its BackupScheduler Durable Object; these rows are
// the source of truth the object reads at every alarm.

export const BACKUP_NOTIFY_KINDS = ["backup.succeeded", "backup.failed"] as const;
export type BackupNotifyKind = (typeof BACKUP_NOTIFY_KINDS)[number];

export const backupPolicies = sqliteTable(
  "backup_policies",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    targetKind: text("target_kind", { enum: BACKUP_TARGET_KINDS }).notNull(),
    /** The host of a volume or container target; null for a database service (it names its own). */
    targetHostId: text("target_host_id"),
    /** The volume's name, the container's id, or the database service's id. */
    targetRef: text("target_ref").notNull(),
    /** Five-field cron (minute hour day-of-month month day-of-week), read by croner. */
    schedule: text("schedule").notNull(),
    /** IANA time zone the schedule is read in. */
    timezone: text("timezone").notNull(),
    /** Keep at most this many of the policy's backups (null: no limit by count). */
    keepLast: integer("keep_last"),
    /** Delete the policy's backups older than this many days (null: no limit by age). */
    maxAgeDays: integer("max_age_days"),
    /** `default` (the Worker's R2 bucket, as in backups.destination_id) or a backup destination's id. */
    destinationId: text("destination_id").notNull().default("default"),
    /** Which of backup.succeeded / backup.failed this policy's runs notify. */
    notify: text("notify", { mode: "json" }).$type<BackupNotifyKind[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** The next scheduled time the scheduler is armed for (null while disabled). */
    nextRunAt: text("next_run_at"),
    /** The newest row of backup_policy_runs, for lists that show how the last run went. */
    lastRunId: text("last_run_id"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("backup_policies_org_idx").on(t.organizationId, t.createdAt),
    index("backup_policies_target_idx").on(t.organizationId, t.targetKind, t.targetRef),
  ],
);

export const BACKUP_RUN_TRIGGERS = ["schedule", "catch_up", "manual"] as const;
export type BackupRunTrigger = (typeof BACKUP_RUN_TRIGGERS)[number];
export const BACKUP_RUN_STATUSES = ["running", "succeeded", "failed", "skipped"] as const;
export type BackupRunStatus = (typeof BACKUP_RUN_STATUSES)[number];

/**
 * One row per time a policy came due (or was run by hand): the backup it started and how that
 * ended, or why nothing ran (skipped while the previous run was still going, or failed to start).
 */
export const backupPolicyRuns = sqliteTable(
  "backup_policy_runs",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    policyId: text("policy_id")
      .notNull()
      .references(() => backupPolicies.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: BACKUP_RUN_TRIGGERS }).notNull(),
    /** The scheduled time this run is for (the latest one missed, for a catch-up); null when manual. */
    scheduledFor: text("scheduled_for"),
    status: text("status", { enum: BACKUP_RUN_STATUSES }).notNull(),
    taskId: text("task_id"),
    backupId: text("backup_id"),
    message: text("message"),
    /** Backups retention deleted after this run succeeded. */
    pruned: text("pruned", { mode: "json" }).$type<string[]>(),
    createdAt: text("created_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [index("backup_policy_runs_policy_idx").on(t.policyId, t.createdAt)],
);
