import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { newOwner } from "../testing.ts";
import { createTask, getTask, listTasks, updateTask } from "./tasks.ts";

describe("tasks service", () => {
  it("creates a queued task and stamps started_at and finished_at as the status moves", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const task = await createTask(db, {
      organizationId: owner.organizationId,
      kind: "deployment",
      targetType: "deployment",
      targetId: "dpl_x",
      message: "Queued",
      createdBy: owner.userId,
    });
    expect(task).toMatchObject({
      status: "queued",
      progress: 0,
      kind: "deployment",
      message: "Queued",
      startedAt: null,
      finishedAt: null,
      createdBy: owner.userId,
    });
    expect(task.id).toMatch(/^tsk_[0-9a-z]{20}$/);

    await updateTask(db, task.id, { status: "running", progress: 40.4, message: "Building" });
    const running = await getTask(db, owner.organizationId, task.id);
    expect(running).toMatchObject({ status: "running", progress: 40, message: "Building", finishedAt: null });
    expect(running.startedAt).not.toBeNull();

    await updateTask(db, task.id, { progress: 250 });
    expect((await getTask(db, owner.organizationId, task.id)).progress).toBe(100);

    await updateTask(db, task.id, { status: "succeeded" });
    const done = await getTask(db, owner.organizationId, task.id);
    expect(done).toMatchObject({ status: "succeeded", progress: 100, startedAt: running.startedAt });
    expect(done.finishedAt).not.toBeNull();

    // A task that fails straight from the queue gets both stamps.
    const other = await createTask(db, { organizationId: owner.organizationId, kind: "image.pull" });
    await updateTask(db, other.id, { status: "failed", message: "no such image" });
    const failed = await getTask(db, owner.organizationId, other.id);
    expect(failed.startedAt).not.toBeNull();
    expect(failed.finishedAt).not.toBeNull();
    expect(failed.progress).toBe(0);
  });

  it("scopes tasks by organization and filters lists", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    const db = createDatabase(env);
    const t1 = await createTask(db, { organizationId: a.organizationId, kind: "deployment", targetType: "application", targetId: "app_1" });
    const t2 = await createTask(db, { organizationId: a.organizationId, kind: "backup" });
    await expect(getTask(db, b.organizationId, t1.id)).rejects.toMatchObject({ status: 404 });
    const all = await listTasks(db, { organizationId: a.organizationId }, {}, { limit: 50 });
    expect(all.items.map((t) => t.id)).toEqual([t2.id, t1.id]);
    const deployments = await listTasks(db, { organizationId: a.organizationId }, { kind: "deployment", targetId: "app_1" }, { limit: 50 });
    expect(deployments.items.map((t) => t.id)).toEqual([t1.id]);
    expect((await listTasks(db, { organizationId: b.organizationId }, {}, { limit: 50 })).items).toEqual([]);
    await expect(updateTask(db, "tsk_missing", { status: "running" })).rejects.toMatchObject({ status: 404 });
  });
});
