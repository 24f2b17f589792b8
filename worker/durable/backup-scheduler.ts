import { DurableObject } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { createDatabase, type Database } from "../db/client.ts";
import { errorLogFields, errorText } from "../db/errors.ts";
import { auditEvents, backupPolicies, backupPolicyRuns, backups, type BackupRunTrigger, type Role } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { newId } from "../lib/ids.ts";
import { dueWork, nextRun } from "../lib/schedule.ts";
import { nowIso } from "../lib/time.ts";
import { backupTargetOf, type PolicyRow, type PolicyRunRow, type PolicyRunView, toRunView } from "../services/backup-policies.ts";
import { selectExpired } from "../services/backup-retention.ts";
import { deleteBackup, startBackup } from "../services/backups.ts";
import { notify } from "../services/notifications.ts";
import type { Actor, Principal } from "../services/principal.ts";
import { getTask, isFinished } from "../services/tasks.ts";

/** While a run of the policy goes, the alarm looks in on its task this often. */
const POLL_MS = 10_000;

interface Current {
  runId: string;
  taskId: string;
  backupId: string;
}

/** Whoever pressed "run now": the backup is theirs, with their role. */
export interface RunBy {
  userId: string;
  username: string;
  role: Role;
}

type RunNowOutcome = { ok: true; run: PolicyRunView } | { ok: false; message: string };

/**
 * One per backup policy (named by its id). Its alarm is the policy's clock: at the scheduled time
 * it starts a backup through backup-core's startBackup, unless the policy's previous run is still
 * going (then the time is recorded as skipped: never two runs of one policy at once); an alarm that
 * fires late, past several scheduled times (the control plane was down), runs once for all of them.
 * While a run goes, the alarm also looks in on its task; when the task ends, the object records
 * the outcome, applies the policy's retention after a success, and sends the notifications the
 * policy asks for. The policy row is the truth: every alarm reads it again.
 */
export class BackupScheduler extends DurableObject<Bindings> {
  // ---- RPC --------------------------------------------------------------------------------

  /** (Re)arms the schedule from the policy row: at create, update and enable; answers the next run time. */
  async arm(policyId: string): Promise<string | null> {
    this.ctx.storage.kv.put("policy", policyId);
    const policy = await this.policy();
    if (!policy) return this.forget();
    const due = policy.enabled ? nextRun(policy.schedule, policy.timezone, new Date()) : null;
    if (due) this.ctx.storage.kv.put("due", due.getTime());
    else this.ctx.storage.kv.delete("due");
    const nextRunAt = due?.toISOString() ?? null;
    await this.db().update(backupPolicies).set({ nextRunAt }).where(eq(backupPolicies.id, policyId));
    await this.rearm();
    return nextRunAt;
  }

  /**
   * The cron trigger's check on a policy whose next run time has passed: an alarm that is still
   * pending will fire (late alarms do); one that was lost fires now, and catches up.
   */
  async wake(policyId: string): Promise<void> {
    this.ctx.storage.kv.put("policy", policyId);
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    if (this.ctx.storage.kv.get<number>("due") === undefined) await this.arm(policyId);
    else await this.ctx.storage.setAlarm(Date.now());
  }

  /** The policy is gone: no more alarms, nothing kept. */
  async forget(): Promise<null> {
    await this.ctx.storage.deleteAlarm();
    this.ctx.storage.kv.delete("policy");
    this.ctx.storage.kv.delete("due");
    this.ctx.storage.kv.delete("current");
    return null;
  }

  /** A run besides the schedule ("run now"); refused while a run of the policy is going. */
  async runNow(policyId: string, by: RunBy): Promise<RunNowOutcome> {
    this.ctx.storage.kv.put("policy", policyId);
    return this.ctx.blockConcurrencyWhile(async () => {
      const policy = await this.policy();
      if (!policy) return { ok: false as const, message: `Backup policy ${policyId} was deleted.` };
      const going = await this.runGoing(policy);
      if (going)
        return {
          ok: false as const,
          message: `A run of this policy is still going (task ${going.taskId}): wait for it to end, or follow it at GET /api/v1/tasks/${going.taskId}.`,
        };
      const run = await this.start(policy, "manual", null, by);
      await this.rearm();
      return { ok: true as const, run: toRunView(run) };
    });
  }

  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      const policy = await this.policy();
      if (!policy) {
        await this.forget();
        return;
      }
      await this.runGoing(policy);
      const due = this.ctx.storage.kv.get<number>("due");
      if (policy.enabled && due !== undefined) {
        const work = dueWork(policy.schedule, policy.timezone, new Date(due), new Date());
        if (work.run) {
          const trigger: BackupRunTrigger = work.run.missed > 0 ? "catch_up" : "schedule";
          const going = this.ctx.storage.kv.get<Current>("current");
          if (going) await this.record(policy, trigger, work.run.scheduledFor, "skipped", skippedMessage(going, work.run.missed));
          else await this.start(policy, trigger, work.run.scheduledFor, null, work.run.missed);
        }
        if (work.next) this.ctx.storage.kv.put("due", work.next.getTime());
        else this.ctx.storage.kv.delete("due");
        await this.db()
          .update(backupPolicies)
          .set({ nextRunAt: work.next?.toISOString() ?? null })
          .where(eq(backupPolicies.id, policy.id));
      }
      await this.rearm();
    });
  }

  // ---- the runs ------------------------------------------------------------------------------

  /** Starts a backup for the policy and remembers it as the current run. */
  private async start(
    policy: PolicyRow,
    trigger: BackupRunTrigger,
    scheduledFor: Date | null,
    by: RunBy | null,
    missed = 0,
  ): Promise<PolicyRunRow> {
    try {
      const { task, backup } = await startBackup(this.env, this.actorFor(policy, by), {
        target: backupTargetOf(policy),
        destinationId: policy.destinationId === "default" ? undefined : policy.destinationId,
        policyId: policy.id,
      });
      const message =
        trigger === "catch_up"
          ? `Catching up: ${missed + 1} scheduled runs were missed while Pier was down; this one run stands for all of them.`
          : null;
      const run = await this.record(policy, trigger, scheduledFor, "running", message, { taskId: task.id, backupId: backup.id });
      this.ctx.storage.kv.put<Current>("current", { runId: run.id, taskId: task.id, backupId: backup.id });
      return run;
    } catch (error) {
      // The backup could not even start (target gone, host offline, destination refused): that
      // is this run's failure, told like any other.
      const message = `The backup could not start: ${errorText(error)}`;
      const run = await this.record(policy, trigger, scheduledFor, "failed", message);
      await this.announce(policy, "failed", message, run, null);
      return run;
    }
  }

  /**
   * The current run, if it is still going. A run whose task has ended is finished here first
   * (outcome recorded, retention applied, notifications sent), so the caller sees it gone.
   */
  private async runGoing(policy: PolicyRow): Promise<Current | null> {
    const current = this.ctx.storage.kv.get<Current>("current");
    if (!current) return null;
    const task = await getTask(this.db(), policy.organizationId, current.taskId).catch(() => null);
    if (task && !isFinished(task.status)) return current;
    const succeeded = task?.status === "succeeded";
    const message = task?.message ?? (task ? null : "The backup's task is gone.");
    let pruned: string[] = [];
    let pruneError: string | null = null;
    if (succeeded) {
      try {
        pruned = await this.prune(policy, current.backupId);
      } catch (error) {
        pruneError = `Retention failed: ${errorText(error)}`;
        console.error(JSON.stringify({ level: "error", msg: "backup retention failed", policy: policy.id, ...errorLogFields(error) }));
      }
    }
    const finishedAt = nowIso();
    const status = succeeded ? "succeeded" : "failed";
    const fullMessage = [message, pruneError].filter(Boolean).join(" ") || null;
    await this.db()
      .update(backupPolicyRuns)
      .set({ status, message: fullMessage, pruned, finishedAt })
      .where(eq(backupPolicyRuns.id, current.runId));
    this.ctx.storage.kv.delete("current");
    const [run] = await this.db().select().from(backupPolicyRuns).where(eq(backupPolicyRuns.id, current.runId)).limit(1);
    if (run) await this.announce(policy, status, fullMessage, run, current.backupId);
    return null;
  }

  /** Applies the policy's retention after the backup `keepId` succeeded; answers what it deleted. */
  private async prune(policy: PolicyRow, keepId: string): Promise<string[]> {
    if (policy.keepLast === null && policy.maxAgeDays === null) return [];
    const db = this.db();
    const own = await db
      .select({ id: backups.id, policyId: backups.policyId, status: backups.status, createdAt: backups.createdAt })
      .from(backups)
      .where(and(eq(backups.organizationId, policy.organizationId), eq(backups.policyId, policy.id)));
    const expired = selectExpired(
      own,
      { policyId: policy.id, keepLast: policy.keepLast, maxAgeDays: policy.maxAgeDays },
      keepId,
      new Date(),
    );
    const deleted: string[] = [];
    for (const id of expired) {
      await deleteBackup(this.env, this.actorFor(policy, null), id);
      deleted.push(id);
    }
    if (deleted.length > 0)
      await db.insert(auditEvents).values({
        id: newId("aud"),
        organizationId: policy.organizationId,
        actorType: "system",
        actorId: null,
        action: "backup_policy.retention",
        targetType: "backup_policy",
        targetId: policy.id,
        ip: null,
        userAgent: null,
        metadata: { deleted, kept: keepId, keep_last: policy.keepLast, max_age_days: policy.maxAgeDays },
        createdAt: nowIso(),
      });
    return deleted;
  }

  private async announce(
    policy: PolicyRow,
    status: "succeeded" | "failed",
    message: string | null,
    run: PolicyRunRow,
    backupId: string | null,
  ): Promise<void> {
    const kind = status === "succeeded" ? "backup.succeeded" : "backup.failed";
    if (!policy.notify.includes(kind)) return;
    await notify(this.env, {
      organizationId: policy.organizationId,
      kind,
      title: status === "succeeded" ? `Backup of ${policy.name} succeeded` : `Backup of ${policy.name} failed`,
      message:
        message ??
        (status === "succeeded"
          ? `Policy ${policy.name} backed up its target${run.pruned?.length ? `; retention deleted ${run.pruned.length} older backups` : ""}.`
          : `Policy ${policy.name} could not back up its target.`),
      targetType: "backup_policy",
      targetId: policy.id,
      data: {
        policy_id: policy.id,
        run_id: run.id,
        backup_id: backupId,
        task_id: run.taskId,
        trigger: run.trigger,
        pruned: run.pruned ?? [],
      },
    });
  }

  private async record(
    policy: PolicyRow,
    trigger: BackupRunTrigger,
    scheduledFor: Date | null,
    status: PolicyRunRow["status"],
    message: string | null,
    started?: { taskId: string; backupId: string },
  ): Promise<PolicyRunRow> {
    const now = nowIso();
    const run: PolicyRunRow = {
      id: newId("bpr"),
      organizationId: policy.organizationId,
      policyId: policy.id,
      trigger,
      scheduledFor: scheduledFor?.toISOString() ?? null,
      status,
      taskId: started?.taskId ?? null,
      backupId: started?.backupId ?? null,
      message,
      pruned: null,
      createdAt: now,
      finishedAt: status === "running" ? null : now,
    };
    const db = this.db();
    await db.insert(backupPolicyRuns).values(run);
    await db.update(backupPolicies).set({ lastRunId: run.id }).where(eq(backupPolicies.id, policy.id));
    return run;
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** The next alarm: the scheduled time, or sooner to look in on a run that is going. */
  private async rearm(): Promise<void> {
    const due = this.ctx.storage.kv.get<number>("due");
    const poll = this.ctx.storage.kv.get<Current>("current") ? Date.now() + POLL_MS : undefined;
    const at = Math.min(due ?? Number.POSITIVE_INFINITY, poll ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(at)) await this.ctx.storage.setAlarm(at);
    else await this.ctx.storage.deleteAlarm();
  }

  private async policy(): Promise<PolicyRow | null> {
    const id = this.ctx.storage.kv.get<string>("policy");
    if (!id) return null;
    const [row] = await this.db().select().from(backupPolicies).where(eq(backupPolicies.id, id)).limit(1);
    return row ?? null;
  }

  /**
   * Who a run acts as: the member who pressed "run now", else the policy on its creator's behalf,
   * with the admin role that creating it took (backup-core checks roles on whoever starts a backup).
   */
  private actorFor(policy: PolicyRow, by: RunBy | null): Actor & { principal: Principal } {
    return {
      ip: null,
      userAgent: `pier-backup-policy/${policy.id}`,
      principal: {
        kind: "session",
        userId: by?.userId ?? policy.createdBy ?? "",
        username: by?.username ?? `backup policy ${policy.name}`,
        organizationId: policy.organizationId,
        role: by?.role ?? "admin",
      },
    };
  }

  private db(): Database {
    return createDatabase(this.env);
  }
}

function skippedMessage(going: Current, missed: number): string {
  const times = missed > 0 ? `${missed + 1} scheduled times (missed while Pier was down)` : "this scheduled time";
  return `Skipped ${times}: the policy's previous run (task ${going.taskId}) was still going, and a policy never runs twice at once.`;
}
