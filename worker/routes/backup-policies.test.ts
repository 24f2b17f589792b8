// Backup policies inside workerd with their real BackupScheduler objects: the API's validation,
// roles and organization scoping; the alarm's rules (one run at a time, a skipped time recorded,
// one catch-up run after downtime), and what a finished run does (retention, notifications).
// Runs are driven through real task and backup rows; the backups themselves, against a real agent,
// engine and store, are in test/e2e/backup-policies.test.ts.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { backupPolicies, backupPolicyRuns, backups } from "../db/schema.ts";
import { newId } from "../lib/ids.ts";
import { runScheduled } from "../scheduled.ts";
import { createTask, updateTask } from "../services/tasks.ts";
import { addMember, call, expectProblem, json, newOwner, unique, type TestAccount } from "../testing.ts";

async function newHost(owner: TestAccount) {
  return json<{ id: string; name: string }>(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
}

const volumePolicy = (hostId: string, extra: Record<string, unknown> = {}) => ({
  target: { kind: "volume", host_id: hostId, name: "app-data" },
  schedule: "0 3 * * *",
  ...extra,
});

async function newPolicy(owner: TestAccount, extra: Record<string, unknown> = {}) {
  const host = await newHost(owner);
  const policy = await json(await call("/api/v1/backup-policies", { token: owner.token, body: volumePolicy(host.id, extra) }), 201);
  return { host, policy };
}

const scheduler = (policyId: string) => env.BACKUP_SCHEDULER.getByName(policyId);
const storage = <T>(policyId: string, work: (s: DurableObjectStorage) => T | Promise<T>) =>
  runInDurableObject(scheduler(policyId), (_o, state) => work(state.storage));

describe("backup policies API", () => {
  it("creates a policy with its defaults, arms it, lists, changes and deletes it", async () => {
    const owner = await newOwner();
    const { host, policy } = await newPolicy(owner, { timezone: "Europe/Berlin" });
    expect(policy).toMatchObject({
      id: expect.stringMatching(/^bpl_/),
      name: `volume app-data on ${host.name}`,
      target: { kind: "volume", host_id: host.id, name: "app-data" },
      schedule: "0 3 * * *",
      timezone: "Europe/Berlin",
      keep_last: 7,
      max_age_days: null,
      destination_id: "default",
      notify: ["backup.failed"],
      enabled: true,
      last_run: null,
    });
    // 03:00 in Berlin is 02:00Z in winter: the next run is at that time, and the alarm is set for it.
    expect(policy.next_run_at).toMatch(/T02:00:00\.000Z$/);
    expect(await storage(policy.id, (s) => s.getAlarm())).toBe(Date.parse(policy.next_run_at));

    const list = await json(await call("/api/v1/backup-policies", { token: owner.token }), 200);
    expect(list.policies.map((p: any) => p.id)).toEqual([policy.id]);
    const filtered = await json(await call(`/api/v1/backup-policies?target_kind=database`, { token: owner.token }), 200);
    expect(filtered.policies).toEqual([]);

    const changed = await json(
      await call(`/api/v1/backup-policies/${policy.id}`, {
        method: "PATCH",
        token: owner.token,
        body: { schedule: "30 4 * * 1", timezone: "UTC", keep_last: null, max_age_days: 30, notify: ["backup.succeeded", "backup.failed"] },
      }),
      200,
    );
    expect(changed).toMatchObject({
      schedule: "30 4 * * 1",
      keep_last: null,
      max_age_days: 30,
      notify: ["backup.succeeded", "backup.failed"],
    });
    expect(changed.next_run_at).toMatch(/T04:30:00\.000Z$/);
    expect(new Date(changed.next_run_at).getUTCDay()).toBe(1);
    expect(await storage(policy.id, (s) => s.getAlarm())).toBe(Date.parse(changed.next_run_at));

    // Disabled: no alarm, no next run; enabled again: armed again.
    const off = await json(
      await call(`/api/v1/backup-policies/${policy.id}`, { method: "PATCH", token: owner.token, body: { enabled: false } }),
      200,
    );
    expect(off).toMatchObject({ enabled: false, next_run_at: null });
    expect(await storage(policy.id, (s) => s.getAlarm())).toBeNull();
    const on = await json(
      await call(`/api/v1/backup-policies/${policy.id}`, { method: "PATCH", token: owner.token, body: { enabled: true } }),
      200,
    );
    expect(on.next_run_at).toBe(changed.next_run_at);

    const audit = await json(await call("/api/v1/audit-events?limit=20", { token: owner.token }), 200);
    expect(audit.audit_events.map((e: any) => e.action)).toEqual(expect.arrayContaining(["backup_policy.create", "backup_policy.update"]));

    expect((await call(`/api/v1/backup-policies/${policy.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect(await storage(policy.id, (s) => s.getAlarm())).toBeNull();
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}`, { token: owner.token }), 404);
  });

  it("refuses a schedule croner cannot read with its words, and unknown targets and destinations with 422", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const create = (body: unknown) => call("/api/v1/backup-policies", { token: owner.token, body });
    await expectProblem(await create(volumePolicy(host.id, { schedule: "61 * * * *" })), 400, /Invalid value for minute: 61/);
    await expectProblem(await create(volumePolicy(host.id, { schedule: "* * * * * *" })), 400, /five-field/);
    const zone = await expectProblem(await create(volumePolicy(host.id, { timezone: "Mars/Olympus" })), 400, /Unknown time zone/);
    expect(zone.errors).toEqual([{ pointer: "/body/timezone", detail: expect.stringContaining("Mars/Olympus") }]);
    await expectProblem(await create(volumePolicy(host.id, { keep_last: 0 })), 422);
    await expectProblem(await create(volumePolicy(host.id, { notify: ["deployment.failed"] })), 422);
    await expectProblem(await create({ ...volumePolicy(host.id), target: { kind: "volume", host_id: host.id, name: "../etc" } }), 422);
    const noHost = await expectProblem(await create(volumePolicy("hst_nope")), 422);
    expect(noHost.errors[0].pointer).toBe("/body/target/host_id");
    const noDb = await expectProblem(await create({ target: { kind: "database", database_id: "dbs_nope" }, schedule: "@daily" }), 422);
    expect(noDb.errors[0].pointer).toBe("/body/target/database_id");
    const noDest = await expectProblem(await create(volumePolicy(host.id, { destination_id: "bkd_nope" })), 422, /destination/);
    expect(noDest.errors[0].pointer).toBe("/body/destination_id");

    const preview = await json(
      await call("/api/v1/backup-policies/schedule-preview?schedule=0%203%20*%20*%20*&timezone=America/New_York&count=3", {
        token: owner.token,
      }),
      200,
    );
    expect(preview.next_runs).toHaveLength(3);
    for (const at of preview.next_runs) expect(at).toMatch(/T0[78]:00:00\.000Z$/);
    await expectProblem(await call("/api/v1/backup-policies/schedule-preview?schedule=nope", { token: owner.token }), 400);
  });

  it("lets admins manage, members run now, viewers read; other organizations see nothing", async () => {
    const owner = await newOwner();
    const { host, policy } = await newPolicy(owner);
    const member = await addMember(owner, "member");
    const viewer = await addMember(owner, "viewer");
    await expectProblem(await call("/api/v1/backup-policies", { token: member.token, body: volumePolicy(host.id) }), 403);
    await expectProblem(
      await call(`/api/v1/backup-policies/${policy.id}`, { method: "PATCH", token: member.token, body: { enabled: false } }),
      403,
    );
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}`, { method: "DELETE", token: member.token }), 403);
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: viewer.token }), 403);
    expect((await json(await call("/api/v1/backup-policies", { token: viewer.token }), 200)).policies).toHaveLength(1);

    const stranger = await newOwner();
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}`, { token: stranger.token }), 404);
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: stranger.token }), 404);
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}/runs`, { token: stranger.token }), 404);
    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}`, { method: "DELETE", token: stranger.token }), 404);
    // Another organization's host is as unknown as a missing one.
    await expectProblem(await call("/api/v1/backup-policies", { token: stranger.token, body: volumePolicy(host.id) }), 422);
    expect((await json(await call("/api/v1/backup-policies", { token: stranger.token }), 200)).policies).toEqual([]);
  });
});

describe("the BackupScheduler", () => {
  it("records a run that cannot start as failed, and notifies it as the policy asks", async () => {
    const owner = await newOwner();
    const { host, policy } = await newPolicy(owner, { notify: ["backup.failed"] });
    // The target's host is gone: the backup cannot even start.
    expect((await call(`/api/v1/hosts/${host.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    const run = await json(await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: owner.token }), 202);
    expect(run).toMatchObject({ trigger: "manual", status: "failed", message: expect.stringMatching(/could not start/) });
    const notes = await json(await call("/api/v1/notifications?kind=backup.failed", { token: owner.token }), 200);
    expect(notes.notifications).toEqual([
      expect.objectContaining({ kind: "backup.failed", severity: "error", target_type: "backup_policy", target_id: policy.id }),
    ]);
    const got = await json(await call(`/api/v1/backup-policies/${policy.id}`, { token: owner.token }), 200);
    expect(got.last_run).toMatchObject({ id: run.id, status: "failed" });
  });

  it("starts a backup as the policy's, follows its task, and records how it ended", async () => {
    const owner = await newOwner();
    // The host's agent never connected: the backup starts, and its task fails.
    const { policy } = await newPolicy(owner, { notify: ["backup.succeeded", "backup.failed"] });
    const run = await json(await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: owner.token }), 202);
    expect(run).toMatchObject({ trigger: "manual", status: "running", task_id: expect.stringMatching(/^tsk_/) });
    const backup = await json(await call(`/api/v1/backups/${run.backup_id}`, { token: owner.token }), 200);
    expect(backup).toMatchObject({ policy_id: policy.id, destination_id: "default", target: { kind: "volume", id: "app-data" } });
    await expect
      .poll(async () => (await json(await call(`/api/v1/tasks/${run.task_id}`, { token: owner.token }), 200)).status, { timeout: 20_000 })
      .toBe("failed");
    // The scheduler looks in on the run at its next alarm.
    expect(await storage(policy.id, (s) => s.getAlarm())).toBeLessThanOrEqual(Date.now() + 10_000);
    await runDurableObjectAlarm(scheduler(policy.id));
    const got = await json(await call(`/api/v1/backup-policies/${policy.id}`, { token: owner.token }), 200);
    expect(got.last_run).toMatchObject({ id: run.id, status: "failed", finished_at: expect.any(String) });
    const notes = await json(await call("/api/v1/notifications?kind=backup.failed", { token: owner.token }), 200);
    expect(notes.notifications[0]).toMatchObject({ target_id: policy.id, data: expect.objectContaining({ backup_id: run.backup_id }) });
    // Only the scheduled time is left to wait for.
    expect(await storage(policy.id, (s) => s.getAlarm())).toBe(Date.parse(got.next_run_at));
  });

  it("never runs twice at once: a due time while a run goes is recorded as skipped, and run now is refused", async () => {
    const owner = await newOwner();
    const { policy } = await newPolicy(owner, { notify: ["backup.succeeded", "backup.failed"] });
    const db = createDatabase(env);
    const going = await seedRunningRun(owner, policy.id);

    await expectProblem(await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: owner.token }), 409, /still going/);

    // The scheduled time comes while the run goes.
    const due = Date.now() - 1_000;
    await storage(policy.id, (s) => s.kv.put("due", due));
    const alarmRan = Date.now();
    expect(await runDurableObjectAlarm(scheduler(policy.id))).toBe(true);
    const runs = (await json(await call(`/api/v1/backup-policies/${policy.id}/runs`, { token: owner.token }), 200)).runs;
    expect(runs.map((r: any) => [r.trigger, r.status])).toEqual([
      ["schedule", "skipped"],
      ["manual", "running"],
    ]);
    expect(runs[0].message).toMatch(new RegExp(`previous run \\(task ${going.taskId}\\) was still going`));
    // Armed for the next scheduled time and, sooner, to look in on the run that goes.
    // (Set by that alarm, so not before it ran; a slow machine may have passed it since.)
    const alarm = await storage(policy.id, (s) => s.getAlarm());
    expect(alarm).toBeGreaterThan(alarmRan);
    expect(alarm).toBeLessThanOrEqual(Date.now() + 10_000);

    // The run ends: the next alarm records it and notifies.
    await db.update(backups).set({ status: "failed", error: "disk full" }).where(eq(backups.id, going.backupId));
    await updateTask(db, going.taskId, { status: "failed", message: "The host's disk is full." });
    await runDurableObjectAlarm(scheduler(policy.id));
    const [ended] = await db.select().from(backupPolicyRuns).where(eq(backupPolicyRuns.id, going.runId));
    expect(ended).toMatchObject({ status: "failed", message: "The host's disk is full." });
    const notes = await json(await call("/api/v1/notifications?kind=backup.failed", { token: owner.token }), 200);
    expect(notes.notifications[0]).toMatchObject({
      message: "The host's disk is full.",
      data: expect.objectContaining({ run_id: going.runId }),
    });
    // Nothing is going now: run now is accepted again (and fails to start: no agent).
    expect((await call(`/api/v1/backup-policies/${policy.id}/run`, { method: "POST", token: owner.token })).status).toBe(202);
  });

  it("runs once after downtime for every scheduled time it missed", async () => {
    const owner = await newOwner();
    const { policy } = await newPolicy(owner, { schedule: "0 * * * *" });
    // Down for five hours: the alarm set for five hours ago fires only now.
    await storage(policy.id, (s) => s.kv.put("due", Date.now() - 5 * 3_600_000 - 60_000));
    await runDurableObjectAlarm(scheduler(policy.id));
    const runs = (await json(await call(`/api/v1/backup-policies/${policy.id}/runs`, { token: owner.token }), 200)).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: "catch_up" });
    // It stands for the latest missed time, within the last hour.
    expect(Date.now() - Date.parse(runs[0].scheduled_for)).toBeLessThan(3_600_000);
    const got = await json(await call(`/api/v1/backup-policies/${policy.id}`, { token: owner.token }), 200);
    expect(Date.parse(got.next_run_at)).toBeGreaterThan(Date.now());
    // Armed for the next time, or sooner to look in on the run it started.
    expect(await storage(policy.id, (s) => s.getAlarm())).toBeLessThanOrEqual(Date.parse(got.next_run_at));
  });

  it("is woken by the cron trigger when its alarm was lost, and catches up", async () => {
    const owner = await newOwner();
    const { policy } = await newPolicy(owner, { schedule: "*/10 * * * *" });
    const due = Date.now() - 3_600_000;
    await storage(policy.id, async (s) => {
      s.kv.put("due", due);
      await s.deleteAlarm();
    });
    await createDatabase(env)
      .update(backupPolicies)
      .set({ nextRunAt: new Date(due).toISOString() })
      .where(eq(backupPolicies.id, policy.id));
    await runScheduled(env);
    expect(await storage(policy.id, (s) => s.getAlarm())).not.toBeNull();
    await runDurableObjectAlarm(scheduler(policy.id));
    const runs = (await json(await call(`/api/v1/backup-policies/${policy.id}/runs`, { token: owner.token }), 200)).runs;
    expect(runs.map((r: any) => r.trigger)).toEqual(["catch_up"]);
  });

  it("after a success, deletes exactly what retention says: the policy's own older backups, nothing else", async () => {
    const owner = await newOwner();
    const { policy } = await newPolicy(owner, { keep_last: 2, max_age_days: 10, notify: ["backup.succeeded"] });
    const other = (await newPolicy(owner)).policy;
    const db = createDatabase(env);
    const day = 86_400_000;
    const old = (policyId: string | null, ageDays: number, status: "succeeded" | "failed" = "succeeded") =>
      seedBackup(owner, policyId, new Date(Date.now() - ageDays * day).toISOString(), status);
    const mine1 = await old(policy.id, 1);
    const mine3 = await old(policy.id, 3);
    const mineFailed = await old(policy.id, 2, "failed");
    const otherOld = await old(other.id, 40);
    const onDemandOld = await old(null, 40);
    const going = await seedRunningRun(owner, policy.id);

    await db.update(backups).set({ status: "succeeded" }).where(eq(backups.id, going.backupId));
    await updateTask(db, going.taskId, { status: "succeeded", message: "Backed up 1.2 MB." });
    await runDurableObjectAlarm(scheduler(policy.id));

    const [ended] = await db.select().from(backupPolicyRuns).where(eq(backupPolicyRuns.id, going.runId));
    expect(ended).toMatchObject({ status: "succeeded", pruned: [mine3] });
    const left = (await db.select({ id: backups.id }).from(backups).where(eq(backups.organizationId, owner.organizationId))).map(
      (b) => b.id,
    );
    expect(left.sort()).toEqual([going.backupId, mine1, mineFailed, otherOld, onDemandOld].sort());
    const notes = await json(await call("/api/v1/notifications?kind=backup.succeeded", { token: owner.token }), 200);
    expect(notes.notifications[0].data).toMatchObject({ backup_id: going.backupId, pruned: [mine3] });
    const audit = await json(await call("/api/v1/audit-events?limit=50", { token: owner.token }), 200);
    expect(audit.audit_events.find((e: any) => e.action === "backup_policy.retention")).toMatchObject({
      target_id: policy.id,
      metadata: expect.objectContaining({ deleted: [mine3], kept: going.backupId }),
    });
  });
});

/** A backup row of the organization, as the pipeline leaves it. */
async function seedBackup(owner: TestAccount, policyId: string | null, createdAt: string, status: "running" | "succeeded" | "failed") {
  const id = newId("bak");
  await createDatabase(env)
    .insert(backups)
    .values({
      id,
      organizationId: owner.organizationId,
      destinationId: "default",
      policyId,
      targetKind: "volume",
      targetId: "app-data",
      hostId: null,
      label: "volume app-data",
      format: "tar",
      objectKey: `pier/${owner.organizationId}/volume/app-data/${createdAt}-${id}.tar`,
      status,
      sizeBytes: status === "succeeded" ? 10 : null,
      sha256: null,
      encrypted: false,
      engineVersion: null,
      taskId: null,
      error: null,
      imported: false,
      createdBy: owner.userId,
      createdAt,
      finishedAt: status === "running" ? null : createdAt,
    });
  return id;
}

/** A run of the policy whose backup is going: a real task and backup row, and the scheduler told of them. */
async function seedRunningRun(owner: TestAccount, policyId: string) {
  const db = createDatabase(env);
  const task = await createTask(db, {
    organizationId: owner.organizationId,
    kind: "backup",
    targetType: "backup_policy",
    targetId: policyId,
  });
  await updateTask(db, task.id, { status: "running", progress: 10 });
  const backupId = await seedBackup(owner, policyId, new Date().toISOString(), "running");
  const runId = newId("bpr");
  const now = new Date().toISOString();
  await db.insert(backupPolicyRuns).values({
    id: runId,
    organizationId: owner.organizationId,
    policyId,
    trigger: "manual",
    scheduledFor: null,
    status: "running",
    taskId: task.id,
    backupId,
    message: null,
    pruned: null,
    createdAt: now,
    finishedAt: null,
  });
  await storage(policyId, (s) => s.kv.put("current", { runId, taskId: task.id, backupId }));
  return { runId, taskId: task.id, backupId };
}
