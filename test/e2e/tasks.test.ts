// Long operations on a host as tasks, end to end with the real agent and engine: an image pulled
// for real from a local registry (test/fixtures/registry.ts) with progress and its id as the
// result, private registries with credentials that are never kept, failures in Docker's words;
// and actions on many containers at once, each container's outcome recorded, cancellable.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, type LocalRegistry } from "../fixtures/registry.ts";
import {
  addUser,
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  removeContainers,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
} from "./client.ts";

const LABEL = `dev.pier.e2e=${process.pid}-tasks`;

describe.skipIf(!dockerAvailable())("host tasks: image pulls and bulk container actions", () => {
  const suffix = randomUUID().slice(0, 8);
  const freshSource = `pier-test/task-source-${suffix}:latest`;
  const name = `pier-test/task-pull-${suffix}`;
  const privateName = `pier-test/task-private-${suffix}`;
  const auth = { username: "pier", password: `registry-secret-${suffix}` };
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  let registry: LocalRegistry;
  let privateRegistry: LocalRegistry;

  const finished = (taskId: string) => taskEnd(owner.token, taskId);

  beforeAll(async () => {
    owner = await newOwner();
    ({ host, agent } = await onlineHost(owner));
    // An image of its own (a new layer), gone from the engine once exported: the pull must
    // download every blob instead of stopping at a manifest it already knows.
    const container = `pier-task-src-${suffix}`;
    await docker("run", "--name", container, TEST_IMAGE, "sh", "-c", `echo ${suffix} > /id`);
    await docker("commit", container, freshSource);
    await docker("rm", container);
    registry = await startRegistry({ images: [{ source: freshSource, name, tag: "v1" }] });
    privateRegistry = await startRegistry({ images: [{ source: TEST_IMAGE, name: privateName, tag: "v1" }], auth });
    await docker("rmi", freshSource);
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await removeContainers(LABEL);
    for (const reference of [registry?.reference(name, "v1"), privateRegistry?.reference(privateName, "v1"), freshSource]) {
      if (reference) await docker("rmi", reference).catch(() => undefined);
    }
    await registry?.close();
    await privateRegistry?.close();
  });

  it("pulls an image as a task with progress, lists it, and removes it", async () => {
    const reference = registry.reference(name, "v1");
    const started = await api(`/api/v1/hosts/${host.id}/images/pull`, { token: owner.token, body: { image: reference } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      task_id: expect.stringMatching(/^tsk_/),
      task: { kind: "image.pull", status: "queued", target_type: "host", target_id: host.id },
    });

    const task = await finished(started.body.task_id);
    const id = await docker("image", "inspect", "--format", "{{.Id}}", reference);
    expect(task).toMatchObject({
      status: "succeeded",
      progress: 100,
      result: { image: reference, id },
      message: expect.stringMatching(/Downloaded newer image/),
    });
    expect(registry.requests.some((r) => r.startsWith("GET /v2/") && r.includes("/blobs/"))).toBe(true);
    expect(await docker("run", "--rm", reference, "cat", "/id")).toBe(suffix);

    const listed = await api(`/api/v1/hosts/${host.id}/images`, { token: owner.token });
    expect(listed.body.images).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, repo_tags: [reference], size: expect.any(Number) })]),
    );

    // The compatibility task shapes see the same task.
    const compat = await api(`/api/tasks/${task.id}`, { token: owner.token });
    expect(compat.body).toMatchObject({ task_id: task.id, status: "succeeded", progress: 100 });

    const removed = await api(`/api/v1/hosts/${host.id}/images/${encodeURIComponent(reference)}`, { method: "DELETE", token: owner.token });
    expect(removed.status).toBe(200);
    expect(removed.body.untagged).toContain(reference);
    expect(removed.body.deleted).toContain(id);
    const gone = await api(`/api/v1/hosts/${host.id}/images/${encodeURIComponent(reference)}`, { method: "DELETE", token: owner.token });
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toMatch(/No such image/i);
  });

  it("fails a pull in Docker's words: a missing tag, a private registry without credentials", async () => {
    const missing = await api(`/api/v1/hosts/${host.id}/images/pull`, {
      token: owner.token,
      body: { image: registry.reference(name, "nope") },
    });
    expect(await finished(missing.body.task_id)).toMatchObject({ status: "failed", message: expect.stringMatching(/manifest unknown/) });

    const denied = await api(`/api/v1/hosts/${host.id}/images/pull`, {
      token: owner.token,
      body: { image: privateRegistry.reference(privateName, "v1") },
    });
    expect(await finished(denied.body.task_id)).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/no basic auth credentials|unauthorized/i),
    });
  });

  it("pulls from a private registry with credentials, and keeps them nowhere", async () => {
    const reference = privateRegistry.reference(privateName, "v1");
    const started = await api(`/api/v1/hosts/${host.id}/images/pull`, {
      token: owner.token,
      body: { image: reference, auth: { ...auth, serveraddress: privateRegistry.host } },
    });
    expect(started.status).toBe(202);
    expect(await finished(started.body.task_id)).toMatchObject({ status: "succeeded", result: { image: reference } });
    const task = await api(`/api/v1/tasks/${started.body.task_id}`, { token: owner.token });
    const audit = await api("/api/v1/audit-events?limit=100", { token: owner.token });
    for (const text of [JSON.stringify(task.body), JSON.stringify(audit.body)]) expect(text).not.toContain(auth.password);
    expect(audit.body.audit_events).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: "image.pull", target_id: host.id })]),
    );
  });

  it("stops, starts and removes many containers as one task, recording each outcome", async () => {
    const names = [unique("bulk"), unique("bulk"), unique("bulk")];
    for (const n of names)
      await docker("run", "-d", "--name", n, "--label", LABEL, TEST_IMAGE, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done");
    const missing = "pier-no-such-container";

    const stop = await api(`/api/v1/hosts/${host.id}/containers/bulk`, {
      token: owner.token,
      body: { action: "stop", ids: [...names, missing], timeout: 5 },
    });
    expect(stop.status).toBe(202);
    const stopped = await finished(stop.body.task_id);
    expect(stopped).toMatchObject({
      kind: "container.bulk",
      status: "failed",
      progress: 100,
      message: expect.stringContaining(`1 of 4 failed (${missing}`),
    });
    expect(stopped.result).toEqual({
      action: "stop",
      items: [
        ...names.map((id) => ({ id, ok: true, changed: true })),
        { id: missing, ok: false, error: expect.stringMatching(/No such container/i) },
      ],
    });
    for (const n of names) expect(await docker("inspect", "-f", "{{.State.Running}}", n)).toBe("false");

    const start = await api(`/api/v1/hosts/${host.id}/containers/bulk`, { token: owner.token, body: { action: "start", ids: names } });
    expect(await finished(start.body.task_id)).toMatchObject({
      status: "succeeded",
      progress: 100,
      message: "Started 3 containers: done.",
    });
    for (const n of names) expect(await docker("inspect", "-f", "{{.State.Running}}", n)).toBe("true");

    const remove = await api(`/api/v1/hosts/${host.id}/containers/bulk`, {
      token: owner.token,
      body: { action: "remove", ids: names, force: true },
    });
    expect(await finished(remove.body.task_id)).toMatchObject({ status: "succeeded" });
    expect(await docker("ps", "-aq", "--filter", `label=${LABEL}`)).toBe("");
  });

  it("cancels a bulk action between containers: the rest are left as they were", async () => {
    // sh as PID 1 ignores SIGTERM: each stop takes its whole timeout, so there is time to cancel.
    const names = [unique("slow"), unique("slow"), unique("slow")];
    for (const n of names) await docker("run", "-d", "--name", n, "--label", LABEL, TEST_IMAGE, "sh", "-c", "while true; do sleep 1; done");
    const stop = await api(`/api/v1/hosts/${host.id}/containers/bulk`, {
      token: owner.token,
      body: { action: "stop", ids: names, timeout: 3 },
    });
    await waitFor(
      "the first stop to begin",
      async () => (await api(`/api/v1/tasks/${stop.body.task_id}`, { token: owner.token })).body.status === "running",
    );
    const cancel = await api(`/api/v1/tasks/${stop.body.task_id}/cancel`, { method: "POST", token: owner.token });
    expect(cancel.status).toBe(200);
    const task = await finished(stop.body.task_id);
    expect(task).toMatchObject({ status: "cancelled", message: expect.stringMatching(/^Cancelled \(by .+\) after \d of 3 containers\.$/) });
    const done = task.result.items.length as number;
    expect(done).toBeLessThan(3);
    const running = await Promise.all(names.map((n) => docker("inspect", "-f", "{{.State.Running}}", n)));
    expect(running.slice(done)).toEqual(running.slice(done).map(() => "true"));

    const again = await api(`/api/v1/tasks/${stop.body.task_id}/cancel`, { method: "POST", token: owner.token });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already ended \(cancelled\)/);
  });

  it("refuses what the caller may not do, and shows another organization nothing", async () => {
    const viewer = await addUser(owner, "viewer");
    const asViewer = await api(`/api/v1/hosts/${host.id}/images/pull`, { token: viewer, body: { image: TEST_IMAGE } });
    expect(asViewer.status).toBe(403);
    expect((await api(`/api/v1/hosts/${host.id}/images`, { token: viewer })).status).toBe(200);

    const stranger = await newOwner("stranger");
    for (const [path, body] of [
      [`/api/v1/hosts/${host.id}/images/pull`, { image: TEST_IMAGE }],
      [`/api/v1/hosts/${host.id}/containers/bulk`, { action: "stop", ids: ["x"] }],
    ] as const) {
      expect((await api(path, { token: stranger.token, body })).status).toBe(404);
    }
    expect((await api(`/api/v1/hosts/${host.id}/images`, { token: stranger.token })).status).toBe(404);
    const tasks = await api(`/api/v1/tasks?kind=container.bulk`, { token: owner.token });
    expect((await api(`/api/v1/tasks/${tasks.body.tasks[0].id}`, { token: stranger.token })).status).toBe(404);
    expect((await api(`/api/v1/tasks/${tasks.body.tasks[0].id}/cancel`, { method: "POST", token: stranger.token })).status).toBe(404);
  });
});
