import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { BACKUP_NOTIFY_KINDS, backupDestinations, backupPolicies, backupPolicyRuns, type BackupNotifyKind } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { nextRun, nextRuns, ScheduleError } from "../lib/schedule.ts";
import { nowIso } from "../lib/time.ts";
import { recordAudit } from "./audit.ts";
import { getDatabaseService } from "./databases.ts";
import { getHost } from "./hosts.ts";
import { getServer, serverScope } from "./servers.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal, Viewer } from "./principal.ts";
import { backupTargetInScope } from "./project-lookup.ts";

// Backup policies: a target, a cron schedule in a time zone, a destination, retention by count and
// by age, and which notifications its runs send. The rows are the truth; each policy's
// BackupScheduler Durable Object (worker/durable/backup-scheduler.ts) is armed from them whenever
// they change, and reads them again at every alarm.

type Authed = Actor & { principal: Principal };
export type PolicyRow = typeof backupPolicies.$inferSelect;
export type PolicyRunRow = typeof backupPolicyRuns.$inferSelect;

// The relay's own schemas are zod/mini (they carry no OpenAPI metadata): the same rules, in zod.
const VolumeName = z
  .string()
  .max(255)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, "must be a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+");
const ContainerRef = z
  .string()
  .max(256)
  .regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a container id or name: [a-zA-Z0-9][a-zA-Z0-9_.-]*");

/** What a policy backs up, as the API names it. */
export const PolicyTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("volume"), host_id: z.string().min(1).max(64), name: VolumeName }),
  z.object({ kind: z.literal("database"), database_id: z.string().min(1).max(64) }),
  z.object({ kind: z.literal("container"), host_id: z.string().min(1).max(64), id: ContainerRef }),
  z.object({ kind: z.literal("server"), server_id: z.string().min(1).max(64) }),
]);
export type PolicyTarget = z.infer<typeof PolicyTarget>;

/** The target as backup-core's startBackup takes it (worker/services/backups.ts). */
export type BackupTarget =
  | { kind: "volume"; hostId: string; name: string }
  | { kind: "database"; databaseId: string }
  | { kind: "container"; hostId: string; id: string }
  | { kind: "server"; serverId: string };

const Schedule = z.string().min(1).max(200);
const Timezone = z.string().min(1).max(64);
const KeepLast = z.number().int().min(1).max(10_000).nullable();
const MaxAgeDays = z.number().int().min(1).max(36_500).nullable();
const Notify = z.array(z.enum(BACKUP_NOTIFY_KINDS)).max(2);

export const PolicyCreate = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  target: PolicyTarget,
  schedule: Schedule,
  /** IANA zone the schedule is read in; UTC by default (hosts report no zone of their own). */
  timezone: Timezone.optional(),
  keep_last: KeepLast.optional(),
  max_age_days: MaxAgeDays.optional(),
  /** `default` (the Worker's R2 bucket) or a backup destination's id. */
  destination_id: z.string().min(1).max(64).optional(),
  notify: Notify.optional(),
  enabled: z.boolean().optional(),
});
export type PolicyCreate = z.infer<typeof PolicyCreate>;

/** Everything but the target: a policy's backups are one target's, so retention never mixes two. */
export const PolicyPatch = PolicyCreate.omit({ target: true }).partial();
export type PolicyPatch = z.infer<typeof PolicyPatch>;

export const DEFAULT_KEEP_LAST = 7;
const DEFAULT_NOTIFY: BackupNotifyKind[] = ["backup.failed"];

export interface PolicyRunView {
  id: string;
  policy_id: string;
  trigger: PolicyRunRow["trigger"];
  scheduled_for: string | null;
  status: PolicyRunRow["status"];
  task_id: string | null;
  backup_id: string | null;
  message: string | null;
  pruned: string[];
  created_at: string;
  finished_at: string | null;
}

export const toRunView = (r: PolicyRunRow): PolicyRunView => ({
  id: r.id,
  policy_id: r.policyId,
  trigger: r.trigger,
  scheduled_for: r.scheduledFor,
  status: r.status,
  task_id: r.taskId,
  backup_id: r.backupId,
  message: r.message,
  pruned: r.pruned ?? [],
  created_at: r.createdAt,
  finished_at: r.finishedAt,
});

export const targetOfRow = (row: PolicyRow): PolicyTarget =>
  row.targetKind === "volume"
    ? { kind: "volume", host_id: row.targetHostId ?? "", name: row.targetRef }
    : row.targetKind === "container"
      ? { kind: "container", host_id: row.targetHostId ?? "", id: row.targetRef }
      : row.targetKind === "server"
        ? { kind: "server", server_id: row.targetRef }
        : { kind: "database", database_id: row.targetRef };

export const backupTargetOf = (row: PolicyRow): BackupTarget =>
  row.targetKind === "volume"
    ? { kind: "volume", hostId: row.targetHostId ?? "", name: row.targetRef }
    : row.targetKind === "container"
      ? { kind: "container", hostId: row.targetHostId ?? "", id: row.targetRef }
      : row.targetKind === "server"
        ? { kind: "server", serverId: row.targetRef }
        : { kind: "database", databaseId: row.targetRef };

export const toPolicyView = (row: PolicyRow, lastRun: PolicyRunRow | null) => ({
  id: row.id,
  name: row.name,
  target: targetOfRow(row),
  schedule: row.schedule,
  timezone: row.timezone,
  keep_last: row.keepLast,
  max_age_days: row.maxAgeDays,
  destination_id: row.destinationId,
  notify: row.notify,
  enabled: row.enabled,
  next_run_at: row.nextRunAt,
  last_run: lastRun ? toRunView(lastRun) : null,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});
export type PolicyView = ReturnType<typeof toPolicyView>;

/** A schedule croner cannot read is malformed input: a 400 in croner's own words. */
function checkSchedule(schedule: string, timezone: string): void {
  try {
    nextRun(schedule, timezone, new Date());
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    const pointer = /time zone/.test(error.message) ? "/body/timezone" : "/body/schedule";
    throw new ApiError(400, error.message, { errors: [{ pointer, detail: error.message }] });
  }
}

/** The next `count` times a schedule comes due: the screens' cron helper shows them as it is typed. */
export function previewSchedule(schedule: string, timezone: string, count: number): string[] {
  try {
    return nextRuns(schedule, timezone, count, new Date()).map((d) => d.toISOString());
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    throw new ApiError(400, error.message, {
      errors: [{ pointer: /time zone/.test(error.message) ? "/query/timezone" : "/query/schedule", detail: error.message }],
    });
  }
}

/**
 * The target exists in the organization and, for a project-scoped member, in their projects (a 422
 * naming the field if not: one outside their projects reads exactly as a missing one); its label,
 * and the id the policy stores. A policy runs on its creator's behalf without their scope
 * (backup-scheduler's actorFor), so the scope is checked here, once, for good.
 */
async function checkTarget(db: Database, principal: Principal, target: PolicyTarget): Promise<{ label: string; ref: string }> {
  const { organizationId } = principal;
  const missing = (pointer: string, what: string) =>
    invalid([{ pointer: `/body/target/${pointer}`, detail: `${what} was not found in your organization.` }]);
  if (target.kind === "database") {
    const service = await getDatabaseService(db, principal, target.database_id).catch(() => {
      throw missing("database_id", `Database service ${target.database_id}`);
    });
    return { label: `database ${service.name}`, ref: service.id };
  }
  if (target.kind === "server") {
    const server = await getServer(db, organizationId, target.server_id, await serverScope(db, principal)).catch((error: unknown) => {
      // Two servers sharing an address on different hosts: the 409 says to name it otherwise.
      if (error instanceof ApiError && error.status === 409) throw error;
      throw missing("server_id", `Server ${target.server_id}`);
    });
    return { label: `server ${server.name}`, ref: server.id };
  }
  if (principal.projectScope) {
    throw forbidden(
      `A policy backing up a host's ${target.kind} is not available to project-scoped members: it belongs to a host, not a project.`,
    );
  }
  const host = await getHost(db, organizationId, target.host_id).catch(() => {
    throw missing("host_id", `Host ${target.host_id}`);
  });
  return target.kind === "volume"
    ? { label: `volume ${target.name} on ${host.name}`, ref: target.name }
    : { label: `container ${target.id.slice(0, 12)} on ${host.name}`, ref: target.id };
}

async function checkDestination(db: Database, organizationId: string, destinationId: string): Promise<void> {
  if (destinationId === "default") return;
  const [row] = await db
    .select({ id: backupDestinations.id })
    .from(backupDestinations)
    .where(and(eq(backupDestinations.organizationId, organizationId), eq(backupDestinations.id, destinationId)))
    .limit(1);
  if (!row)
    throw invalid([
      {
        pointer: "/body/destination_id",
        detail: `Backup destination ${destinationId} was not found in your organization: give one of GET /api/v1/backup-destinations, or default.`,
      },
    ]);
}

async function lastRuns(db: Database, rows: PolicyRow[]): Promise<Map<string, PolicyRunRow>> {
  const ids = rows.map((r) => r.lastRunId).filter((id): id is string => id !== null);
  if (ids.length === 0) return new Map();
  const runs = await db.select().from(backupPolicyRuns).where(inArray(backupPolicyRuns.id, ids));
  return new Map(runs.map((r) => [r.policyId, r]));
}

export interface PolicyFilter {
  target_kind?: PolicyRow["targetKind"];
  host_id?: string;
  target_ref?: string;
}

export async function listPolicies(db: Database, principal: Principal, filter: PolicyFilter = {}): Promise<PolicyView[]> {
  const rows = await db
    .select()
    .from(backupPolicies)
    .where(
      and(
        eq(backupPolicies.organizationId, principal.organizationId),
        policyScope(db, principal),
        filter.target_kind ? eq(backupPolicies.targetKind, filter.target_kind) : undefined,
        filter.host_id ? eq(backupPolicies.targetHostId, filter.host_id) : undefined,
        filter.target_ref ? eq(backupPolicies.targetRef, filter.target_ref) : undefined,
      ),
    )
    .orderBy(desc(backupPolicies.createdAt));
  const runs = await lastRuns(db, rows);
  return rows.map((r) => toPolicyView(r, runs.get(r.id) ?? null));
}

/** A project-scoped member's policies: those of their projects' databases and servers. */
const policyScope = (db: Database, viewer: Viewer) =>
  backupTargetInScope(db, { kind: backupPolicies.targetKind, id: backupPolicies.targetRef }, viewer);

export async function getPolicyRow(db: Database, viewer: Viewer, id: string): Promise<PolicyRow> {
  const [row] = await db
    .select()
    .from(backupPolicies)
    .where(and(eq(backupPolicies.organizationId, viewer.organizationId), eq(backupPolicies.id, id), policyScope(db, viewer)))
    .limit(1);
  if (!row) throw notFound(`Backup policy ${id}`);
  return row;
}

export async function getPolicy(db: Database, principal: Principal, id: string): Promise<PolicyView> {
  const row = await getPolicyRow(db, principal, id);
  return toPolicyView(row, (await lastRuns(db, [row])).get(row.id) ?? null);
}

export async function createPolicy(db: Database, env: Bindings, actor: Authed, input: PolicyCreate): Promise<PolicyView> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const timezone = input.timezone ?? "UTC";
  checkSchedule(input.schedule, timezone);
  const { label, ref } = await checkTarget(db, principal, input.target);
  const destinationId = input.destination_id ?? "default";
  await checkDestination(db, principal.organizationId, destinationId);
  const now = nowIso();
  const target = input.target;
  const row: PolicyRow = {
    id: newId("bpl"),
    organizationId: principal.organizationId,
    name: input.name ?? label,
    targetKind: target.kind,
    targetHostId: target.kind === "database" || target.kind === "server" ? null : target.host_id,
    targetRef: ref,
    schedule: input.schedule.trim(),
    timezone,
    keepLast: input.keep_last === undefined ? DEFAULT_KEEP_LAST : input.keep_last,
    maxAgeDays: input.max_age_days ?? null,
    destinationId,
    notify: [...new Set(input.notify ?? DEFAULT_NOTIFY)],
    enabled: input.enabled ?? true,
    nextRunAt: null,
    lastRunId: null,
    createdBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(backupPolicies).values(row);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_policy.create",
    targetType: "backup_policy",
    targetId: row.id,
    metadata: { target: input.target, schedule: row.schedule, timezone, destination_id: destinationId, enabled: row.enabled },
  });
  row.nextRunAt = await env.BACKUP_SCHEDULER.getByName(row.id).arm(row.id);
  return toPolicyView(row, null);
}

export async function updatePolicy(db: Database, env: Bindings, actor: Authed, id: string, patch: PolicyPatch): Promise<PolicyView> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const row = await getPolicyRow(db, principal, id);
  const schedule = patch.schedule?.trim() ?? row.schedule;
  const timezone = patch.timezone ?? row.timezone;
  if (patch.schedule !== undefined || patch.timezone !== undefined) checkSchedule(schedule, timezone);
  if (patch.destination_id !== undefined) await checkDestination(db, principal.organizationId, patch.destination_id);
  const next: Partial<PolicyRow> = {
    ...(patch.name !== undefined && { name: patch.name }),
    schedule,
    timezone,
    ...(patch.keep_last !== undefined && { keepLast: patch.keep_last }),
    ...(patch.max_age_days !== undefined && { maxAgeDays: patch.max_age_days }),
    ...(patch.destination_id !== undefined && { destinationId: patch.destination_id }),
    ...(patch.notify !== undefined && { notify: [...new Set(patch.notify)] }),
    ...(patch.enabled !== undefined && { enabled: patch.enabled }),
    updatedAt: nowIso(),
  };
  await db.update(backupPolicies).set(next).where(eq(backupPolicies.id, id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_policy.update",
    targetType: "backup_policy",
    targetId: id,
    metadata: { changed: Object.keys(patch) },
  });
  const nextRunAt = await env.BACKUP_SCHEDULER.getByName(id).arm(id);
  const updated = { ...row, ...next, nextRunAt };
  return toPolicyView(updated, (await lastRuns(db, [updated])).get(id) ?? null);
}

/** Deletes the policy and its run history; the backups it made stay (they are listed and restorable on their own). */
export async function deletePolicy(db: Database, env: Bindings, actor: Authed, id: string): Promise<void> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const row = await getPolicyRow(db, principal, id);
  await db.delete(backupPolicies).where(eq(backupPolicies.id, id));
  await env.BACKUP_SCHEDULER.getByName(id).forget();
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_policy.delete",
    targetType: "backup_policy",
    targetId: id,
    metadata: { name: row.name, target: targetOfRow(row) },
  });
}

/** Runs the policy now, besides its schedule (member+, as any on-demand backup); 409 while a run of it is going. */
export async function runPolicyNow(db: Database, env: Bindings, actor: Authed, id: string): Promise<PolicyRunView> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  await getPolicyRow(db, principal, id);
  const outcome = await env.BACKUP_SCHEDULER.getByName(id).runNow(id, {
    userId: principal.userId,
    username: principal.username,
    role: principal.role,
  });
  if (!outcome.ok) throw conflict(outcome.message);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_policy.run",
    targetType: "backup_policy",
    targetId: id,
    metadata: { run_id: outcome.run.id, backup_id: outcome.run.backup_id, task_id: outcome.run.task_id },
  });
  return outcome.run;
}

export async function listPolicyRuns(db: Database, principal: Principal, id: string, limit: number): Promise<PolicyRunView[]> {
  await getPolicyRow(db, principal, id);
  const rows = await db
    .select()
    .from(backupPolicyRuns)
    .where(eq(backupPolicyRuns.policyId, id))
    .orderBy(desc(backupPolicyRuns.createdAt), desc(backupPolicyRuns.id))
    .limit(limit);
  return rows.map(toRunView);
}

/** How late a policy's next run may be before the cron trigger checks on its scheduler. */
const OVERDUE_MS = 5 * 60_000;

/**
 * The cron trigger's sweep: every enabled policy whose next run time passed a while ago has its
 * scheduler woken, so a schedule whose alarm was lost still runs (once, catching up).
 */
export async function wakeOverduePolicies(db: Database, env: Bindings, now = Date.now()): Promise<number> {
  const overdue = await db
    .select({ id: backupPolicies.id })
    .from(backupPolicies)
    .where(and(eq(backupPolicies.enabled, true), lt(backupPolicies.nextRunAt, new Date(now - OVERDUE_MS).toISOString())));
  await Promise.all(overdue.map((p) => env.BACKUP_SCHEDULER.getByName(p.id).wake(p.id)));
  return overdue.length;
}
