// Image pulls and bulk container actions as tasks, inside workerd: what is refused before a task
// exists (bad input, an offline host, roles, other organizations), cancelling, and the TaskRunner
// failing a task it finds orphaned after a restart. The runs themselves, against a real agent and
// engine, are in test/e2e/tasks.test.ts.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import type { HostTaskSpec } from "../services/host-tasks.ts";
import { createTask, getTask, updateTask } from "../services/tasks.ts";
import { addMember, call, expectProblem, json, newOwner, unique, type TestAccount } from "../testing.ts";

async function newHost(owner: TestAccount) {
  return json<{ id: string; name: string }>(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
}

describe("host tasks", () => {
  it("validates a bulk action and a pull before anything runs", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const bulk = (body: unknown) => call(`/api/v1/hosts/${host.id}/containers/bulk`, { token: owner.token, body });
    await expectProblem(await bulk({ action: "stop", ids: [] }), 422);
    await expectProblem(await bulk({ action: "explode", ids: ["a"] }), 422);
    const repeated = await expectProblem(await bulk({ action: "stop", ids: ["a", "a"] }), 422);
    expect(JSON.stringify(repeated.errors)).toContain("must not repeat");
    await expectProblem(await bulk({ action: "stop", ids: Array.from({ length: 101 }, (_, i) => `c${i}`) }), 422);
    await expectProblem(await bulk({ action: "stop", ids: ["a"], timeout: -1 }), 422);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images/pull`, { token: owner.token, body: { image: "" } }), 422);
    await expectProblem(
      await call(`/api/v1/hosts/${host.id}/images/pull`, {
        token: owner.token,
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      }),
      400,
    );
  });

  it("answers 503 for a host whose agent is not connected, and starts no task", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    await expectProblem(
      await call(`/api/v1/hosts/${host.id}/images/pull`, { token: owner.token, body: { image: "busybox:1.36" } }),
      503,
      /never connected.*Start the agent/,
    );
    await expectProblem(
      await call(`/api/v1/hosts/${host.id}/containers/bulk`, { token: owner.token, body: { action: "start", ids: ["web"] } }),
      503,
    );
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images`, { token: owner.token }), 503);
    const tasks = await json(await call(`/api/v1/tasks?target_id=${host.id}`, { token: owner.token }), 200);
    expect(tasks.tasks).toEqual([]);
  });

  it("keeps viewers to reading, and other organizations out", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const viewer = await addMember(owner, "viewer");
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images/pull`, { token: viewer.token, body: { image: "busybox" } }), 403);
    await expectProblem(
      await call(`/api/v1/hosts/${host.id}/containers/bulk`, { token: viewer.token, body: { action: "stop", ids: ["a"] } }),
      403,
    );
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images/busybox`, { method: "DELETE", token: viewer.token }), 403);

    const stranger = await newOwner();
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images/pull`, { token: stranger.token, body: { image: "busybox" } }), 404);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/images`, { token: stranger.token }), 404);
    const task = await createTask(createDatabase(env), {
      organizationId: owner.organizationId,
      kind: "image.pull",
      targetType: "host",
      targetId: host.id,
    });
    await expectProblem(await call(`/api/v1/tasks/${task.id}/cancel`, { method: "POST", token: stranger.token }), 404);
    await expectProblem(await call(`/api/v1/tasks/${task.id}/cancel`, { method: "POST", token: viewer.token }), 403);
  });

  it("cancels a task nothing runs any more, and refuses ended tasks and deployments", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const orphan = await createTask(db, { organizationId: owner.organizationId, kind: "container.bulk" });
    const cancelled = await json(await call(`/api/v1/tasks/${orphan.id}/cancel`, { method: "POST", token: owner.token }), 200);
    expect(cancelled).toMatchObject({ status: "cancelled", message: `Cancelled by ${owner.username}.`, finished_at: expect.any(String) });
    await expectProblem(
      await call(`/api/v1/tasks/${orphan.id}/cancel`, { method: "POST", token: owner.token }),
      409,
      /already ended \(cancelled\)/,
    );

    const deployment = await createTask(db, {
      organizationId: owner.organizationId,
      kind: "deployment",
      targetType: "deployment",
      targetId: "dpl_x",
    });
    await expectProblem(
      await call(`/api/v1/tasks/${deployment.id}/cancel`, { method: "POST", token: owner.token }),
      409,
      /deployments\/dpl_x\/cancel/,
    );
  });

  it("fails a task whose runner restarted mid-way instead of leaving it running", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const task = await createTask(db, { organizationId: owner.organizationId, kind: "image.pull" });
    await updateTask(db, task.id, { status: "running", progress: 40 });
    const stub = env.TASK_RUNNER.getByName(task.id);
    // What a runner leaves in storage while it works; a fresh instance has no run in memory.
    const spec: HostTaskSpec = {
      kind: "image.pull",
      taskId: task.id,
      organizationId: owner.organizationId,
      hostId: "hst_gone",
      timeoutMs: 60_000,
      args: { image: "busybox" },
    };
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.kv.put("spec", { spec, deadline: Date.now() + 60_000 });
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await getTask(db, owner.organizationId, task.id)).toMatchObject({
      status: "failed",
      progress: 40,
      message: expect.stringMatching(/^Interrupted: the control plane restarted/),
    });
    // Its storage is cleared: a later alarm has nothing to do.
    await runInDurableObject(stub, (_instance, state) => expect(state.storage.kv.get("spec")).toBeUndefined());
  });
});
