// Images (inspect, history, tag, push, prune) and container changes (update, commit, rename)
// through the canonical API, end to end: HTTP → Worker → HostRelay → the real agent → the real
// Docker engine, checked with the `docker` CLI; pushes go to the local Registry V2 fixture. Every
// object is labelled or named for this run, because other suites share the engine.
import { randomUUID } from "node:crypto";
import { readFile, rm, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRegistry, startRegistry } from "../fixtures/registry.ts";
import {
  api,
  auditEvents,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  run,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  withRoles,
} from "./client.ts";

describe.skipIf(!dockerAvailable())("images and container changes through the relay", () => {
  const tag = randomUUID().slice(0, 8);
  const label = `dev.pier.e2e=imc-${tag}`;
  const container = `pier-e2e-imc-${tag}`;
  const repo = `pier-e2e/imc-${tag}`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  let registry: LocalRegistry;
  let privateRegistry: LocalRegistry;
  const credentials = { username: "pusher", password: `secret-${tag}` };
  const base = () => `/api/v1/hosts/${host.id}`;
  const enc = encodeURIComponent;

  const audit = (action: string) => auditEvents(owner, action);
  const taskEnded = (id: string) => taskEnd(viewer, id);

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
    registry = await startRegistry({ images: [] });
    privateRegistry = await startRegistry({ images: [], auth: credentials });
    await docker("run", "-d", "--name", container, "--label", label, "-m", "64m", TEST_IMAGE, "sleep", "600");
  });

  afterAll(async () => {
    await agent?.agent.stop();
    const ids = await docker("ps", "-aq", "--filter", `label=${label}`);
    if (ids) await docker("rm", "-f", ...ids.split("\n"));
    const images = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}")).split("\n").filter((i) => i.includes(`imc-${tag}`));
    if (images.length) await docker("rmi", "-f", ...images).catch(() => undefined);
    const labelled = await docker("images", "-q", "--filter", `label=${label}`);
    if (labelled) await docker("rmi", "-f", ...new Set(labelled.split("\n"))).catch(() => undefined);
    await registry?.close();
    await privateRegistry?.close();
    await rm(`/backups/pier-e2e-imc-${tag}`, { recursive: true, force: true });
  });

  it("updates memory, CPU and restart policy of a running container live", async () => {
    const mib = 1024 * 1024;
    const updated = await api(`${base()}/containers/${container}/update`, {
      token: member,
      body: { memory: 256 * mib, cpu_shares: 512, cpus: 0.5, restart_policy: "on-failure", restart_max_retries: 3 },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({ id: container, warnings: expect.any(Array) });
    const hostConfig = JSON.parse(await docker("inspect", "-f", "{{json .HostConfig}}", container));
    expect(hostConfig).toMatchObject({
      Memory: 256 * mib,
      // Started with -m 64m (swap capped at 128m): raised with the memory, as `docker run -m` would.
      MemorySwap: 512 * mib,
      CpuShares: 512,
      NanoCpus: 500_000_000,
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    });
    expect(await docker("inspect", "-f", "{{.State.Running}}", container)).toBe("true");
    expect((await audit("container.update"))[0]).toMatchObject({ target_id: container, metadata: { host_id: host.id, cpu_shares: 512 } });

    const denied = await api(`${base()}/containers/${container}/update`, { token: viewer, body: { cpu_shares: 256 } });
    expect(denied.status).toBe(403);
    const nothing = await api(`${base()}/containers/${container}/update`, { token: member, body: {} });
    expect(nothing.status).toBe(422);
    expect(nothing.body.errors[0].detail).toMatch(/nothing to change/);
    const both = await api(`${base()}/containers/${container}/update`, { token: member, body: { cpus: 1, cpu_quota: 50_000 } });
    expect(both.status).toBe(422);
    const tooSmall = await api(`${base()}/containers/${container}/update`, { token: member, body: { memory: 1024 } });
    expect(tooSmall.status).toBe(422);
    expect(tooSmall.body.errors[0].pointer).toBe("/body/memory");
    const missing = await api(`${base()}/containers/no-such-${tag}/update`, { token: member, body: { cpu_shares: 256 } });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/No such container/);
    // The engine's own refusal keeps its words: swap below memory.
    const refused = await api(`${base()}/containers/${container}/update`, {
      token: member,
      body: { memory: 256 * mib, memory_swap: 64 * mib },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/[Mm]emory ?swap|memoryswap/);
  });

  it("commits a container to an image with Dockerfile changes", async () => {
    await docker("exec", container, "sh", "-c", `echo ${tag} > /committed.txt`);
    const committed = await api(`${base()}/containers/${container}/commit`, {
      token: member,
      body: { image: `${repo}:snap`, comment: "before the upgrade", changes: ["ENV PIER_SNAPSHOT=yes", `LABEL ${label}`] },
    });
    expect(committed.status, JSON.stringify(committed.body)).toBe(201);
    expect(committed.body).toMatchObject({ id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), image: `${repo}:snap` });
    expect(await docker("image", "inspect", "-f", "{{.Id}}", `${repo}:snap`)).toBe(committed.body.id);
    expect(await docker("image", "inspect", "-f", "{{.Comment}}", `${repo}:snap`)).toBe("before the upgrade");
    expect(await docker("image", "inspect", "-f", "{{json .Config.Env}}", `${repo}:snap`)).toContain("PIER_SNAPSHOT=yes");
    expect(await docker("run", "--rm", "--label", label, `${repo}:snap`, "cat", "/committed.txt")).toBe(tag);
    expect((await audit("container.commit"))[0]?.metadata).toMatchObject({ image: `${repo}:snap`, image_id: committed.body.id });
    // The image list counts the containers made from each image (the engine's own list says -1).
    const using = async () =>
      ((await api(`${base()}/images`, { token: viewer })).body.images as { id: string; containers: number }[]).find(
        (i) => i.id === committed.body.id,
      )?.containers;
    expect(await using()).toBe(0);
    await docker("create", "--label", label, `${repo}:snap`, "true");
    expect(await using()).toBe(1);

    const bad = await api(`${base()}/containers/${container}/commit`, { token: member, body: { image: "Upper/Case" } });
    expect(bad.status).toBe(422);
    const badChange = await api(`${base()}/containers/${container}/commit`, {
      token: member,
      body: { image: `${repo}:x`, changes: ["RUN rm -rf /"] },
    });
    expect(badChange.status).toBe(422);
    expect((await api(`${base()}/containers/${container}/commit`, { token: viewer, body: { image: `${repo}:x` } })).status).toBe(403);
  });

  it("renames a container; a name in use is a 409 in the engine's words", async () => {
    const other = `${container}-other`;
    await docker("run", "-d", "--name", other, "--label", label, TEST_IMAGE, "sleep", "600");
    const renamed = await api(`${base()}/containers/${other}/rename`, { token: member, body: { name: `${other}-renamed` } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toEqual({ id: other, name: `${other}-renamed` });
    expect(await docker("inspect", "-f", "{{.Name}}", `${other}-renamed`)).toBe(`/${other}-renamed`);
    const taken = await api(`${base()}/containers/${other}-renamed/rename`, { token: member, body: { name: container } });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toMatch(/already in use/);
    const invalid = await api(`${base()}/containers/${other}-renamed/rename`, { token: member, body: { name: "../etc" } });
    expect(invalid.status).toBe(422);
    expect((await audit("container.rename"))[0]?.metadata).toMatchObject({ name: `${other}-renamed` });
  });

  it("inspects an image, lists its history and tags it", async () => {
    const inspected = await api(`${base()}/images/${enc(TEST_IMAGE)}`, { token: viewer });
    expect(inspected.status).toBe(200);
    expect(inspected.body.Id).toBe(await docker("image", "inspect", "-f", "{{.Id}}", TEST_IMAGE));
    expect(inspected.body.RepoTags).toContain(TEST_IMAGE);
    const history = await api(`${base()}/images/${enc(TEST_IMAGE)}/history`, { token: viewer });
    expect(history.status).toBe(200);
    expect(history.body.history.length).toBe((await docker("history", "-q", TEST_IMAGE)).split("\n").length);
    expect(history.body.history[0]).toMatchObject({ created_at: expect.any(String), size: expect.any(Number) });

    const tagged = await api(`${base()}/images/${enc(TEST_IMAGE)}/tag`, { token: member, body: { target: `${repo}:tagged` } });
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(201);
    expect(tagged.body).toEqual({ source: TEST_IMAGE, target: `${repo}:tagged` });
    expect(await docker("image", "inspect", "-f", "{{.Id}}", `${repo}:tagged`)).toBe(inspected.body.Id);
    expect((await audit("image.tag"))[0]?.metadata).toMatchObject({ target: `${repo}:tagged` });

    expect((await api(`${base()}/images/${enc(`${repo}:nope`)}`, { token: viewer })).status).toBe(404);
    const missing = await api(`${base()}/images/${enc(`${repo}:nope`)}/tag`, { token: member, body: { target: `${repo}:x` } });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/No such image/);
    expect((await api(`${base()}/images/${enc(TEST_IMAGE)}/tag`, { token: member, body: { target: "UPPER:case" } })).status).toBe(422);
    expect((await api(`${base()}/images/${enc(TEST_IMAGE)}/tag`, { token: viewer, body: { target: `${repo}:v` } })).status).toBe(403);
    expect((await api(`${base()}/images/..%2F..%2Finfo`, { token: viewer })).status).toBe(422);
  });

  it("pushes an image to a registry as a task, with and without the credentials it needs", async () => {
    const target = `${registry.host}/${repo}:v1`;
    await docker("tag", TEST_IMAGE, target);
    const started = await api(`${base()}/images/push`, { token: member, body: { image: target } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.task).toMatchObject({ kind: "image.push", target_id: host.id });
    const task = await taskEnded(started.body.task_id);
    expect(task, JSON.stringify(task)).toMatchObject({ status: "succeeded", progress: 100 });
    expect(task.result).toMatchObject({ image: target, digest: expect.stringMatching(/^sha256:/) });
    expect(task.result.output).toContain(`The push refers to repository [${registry.host}/${repo}]`);
    expect(task.result.output).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    expect(registry.tags(repo)).toEqual(["v1"]);
    // What was pushed pulls back.
    await docker("rmi", target);
    await docker("pull", target);

    const secret = `${privateRegistry.host}/${repo}:private`;
    await docker("tag", TEST_IMAGE, secret);
    const refused = await taskEnded((await api(`${base()}/images/push`, { token: member, body: { image: secret } })).body.task_id);
    expect(refused.status).toBe("failed");
    expect(refused.message).toMatch(/no basic auth credentials|unauthorized|authentication required/i);
    expect(privateRegistry.tags(repo)).toEqual([]);

    const pushed = await api(`${base()}/images/push`, {
      token: member,
      body: { image: secret, auth: { ...credentials, serveraddress: privateRegistry.host } },
    });
    const ok = await taskEnded(pushed.body.task_id);
    expect(ok.status, ok.message).toBe("succeeded");
    expect(privateRegistry.tags(repo)).toEqual(["private"]);
    const events = await audit("image.push");
    expect(events[0]?.metadata).toMatchObject({ image: secret, authenticated: true, task_id: pushed.body.task_id });
    expect(JSON.stringify(events)).not.toContain(credentials.password);
    expect(JSON.stringify((await api(`/api/v1/tasks/${pushed.body.task_id}`, { token: owner.token })).body)).not.toContain(
      credentials.password,
    );

    expect((await api(`${base()}/images/push`, { token: viewer, body: { image: target } })).status).toBe(403);
    expect((await api(`${base()}/images/push`, { token: member, body: { image: `${repo}@sha256:${"a".repeat(64)}` } })).status).toBe(422);
  });

  it("prunes dangling images as a task, only those with the label when asked", async () => {
    const dockerfile = `FROM ${TEST_IMAGE}\nRUN echo ${tag} > /dangling\n`;
    const { stdout } = await run("sh", ["-c", `printf '${dockerfile.replaceAll("\n", "\\n")}' | docker build -q --label ${label} -`]);
    const dangling = stdout.trim();
    expect(dangling).toMatch(/^sha256:/);
    const started = await api(`${base()}/images/prune`, { token: member, body: { label: [label] } });
    expect(started.status).toBe(202);
    const task = await taskEnded(started.body.task_id);
    expect(task, JSON.stringify(task)).toMatchObject({ status: "succeeded", message: expect.stringMatching(/^Total reclaimed space: /) });
    expect(task.result.images).toContainEqual({ deleted: dangling });
    await expect(docker("image", "inspect", dangling)).rejects.toThrow();
    expect((await audit("image.prune"))[0]?.metadata).toMatchObject({ all: false, label: [label] });
    expect((await api(`${base()}/images/prune`, { token: viewer, body: {} })).status).toBe(403);
    expect((await api(`${base()}/images/prune`, { token: member, body: { until: "last week" } })).status).toBe(422);
  });

  it("saves images to a file under the backups directory, and nowhere else", async () => {
    // The stack runs with the default backups directory, /backups.
    const path = `/backups/pier-e2e-imc-${tag}/busybox.tar`;
    const saved = await api(`${base()}/images/save`, { token: owner.token, body: { images: [TEST_IMAGE], path } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toEqual({ path, size: (await stat(path)).size });
    expect((await readFile(path)).includes(Buffer.from("manifest.json"))).toBe(true);
    const outside = await api(`${base()}/images/save`, {
      token: owner.token,
      body: { images: [TEST_IMAGE], path: `/tmp/pier-${tag}.tar` },
    });
    expect(outside.status).toBe(422);
    expect(outside.body.errors[0].pointer).toBe("/body/path");
    const dotdot = await api(`${base()}/images/save`, {
      token: owner.token,
      body: { images: [TEST_IMAGE], path: `/backups/../tmp/x-${tag}.tar` },
    });
    expect(dotdot.status).toBe(422);
    expect((await api(`${base()}/images/save`, { token: member, body: { images: [TEST_IMAGE], path } })).status).toBe(403);
  });

  it("shows another organization nothing", async () => {
    const stranger = await newOwner("stranger");
    expect((await api(`${base()}/images/${enc(TEST_IMAGE)}`, { token: stranger.token })).status).toBe(404);
    expect((await api(`${base()}/containers/${container}/update`, { token: stranger.token, body: { cpu_shares: 256 } })).status).toBe(404);
    expect((await api(`${base()}/images/push`, { token: stranger.token, body: { image: `${repo}:v1` } })).status).toBe(404);
  });
});
