// Every container operation of the canonical API, end to end: HTTP → Worker → HostRelay →
// the real agent → the real Docker engine, checked against the `docker` CLI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry } from "../fixtures/registry.ts";
import {
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  readSse,
  removeContainers,
  type SseEvent,
  SseStream,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
} from "./client.ts";

const LABEL = `dev.pier.e2e=${process.pid}-containers`;

describe.skipIf(!dockerAvailable())("container operations through the relay", () => {
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  const base = () => `/api/v1/hosts/${host.id}/containers`;

  beforeAll(async () => {
    owner = await newOwner();
    ({ host, agent } = await onlineHost(owner));
    await agent.agent.eventsReady;
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await removeContainers(LABEL);
  });

  it("shows the agent's versions and addresses on the host", async () => {
    const res = await api(`/api/v1/hosts/${host.id}`, { token: owner.token });
    expect(res.body).toMatchObject({
      status: "online",
      engine_version: await docker("version", "--format", "{{.Server.Version}}"),
      agent_version: expect.any(String),
      hostname: expect.any(String),
    });
    expect(Array.isArray(res.body.addresses)).toBe(true);
  });

  it("runs, inspects, lists, stops, starts, restarts, pauses, kills and removes a container", async () => {
    const name = unique("web");
    const created = await api(base(), {
      token: owner.token,
      body: {
        name,
        image: TEST_IMAGE,
        cmd: ["sh", "-c", "echo hello-out; echo hello-err >&2; exec httpd -f -p 8080"],
        env: { GREETING: "hi" },
        labels: { "dev.pier.e2e": LABEL.split("=")[1]! },
        restart_policy: "unless-stopped",
        memory: 64 * 1024 * 1024,
        cpus: 0.5,
        ports: [{ container_port: 8080 }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{64}$/), started: true });
    const id = created.body.id as string;

    const inspected = await api(`${base()}/${name}`, { token: owner.token });
    expect(inspected.status).toBe(200);
    expect(inspected.body.Id).toBe(id);
    expect(inspected.body.Config.Env).toContain("GREETING=hi");
    expect(inspected.body.Config.Labels["dev.pier.managed"]).toBe("true");
    expect(inspected.body.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspected.body.HostConfig.NanoCpus).toBe(500_000_000);
    expect(inspected.body.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
    expect(await docker("inspect", "-f", "{{.State.Running}}", id)).toBe("true");

    const running = await api(base(), { token: owner.token });
    expect(running.body.containers.map((c: { id: string }) => c.id)).toContain(id);

    const logs = await waitFor("logs", async () => {
      const res = await api(`${base()}/${id}/logs?tail=10`, { token: owner.token });
      return res.body.lines?.length >= 2 ? res.body : undefined;
    });
    expect(logs.lines).toEqual(
      expect.arrayContaining([
        { stream: "stdout", text: "hello-out" },
        { stream: "stderr", text: "hello-err" },
      ]),
    );
    const onlyErr = await api(`${base()}/${id}/logs?stdout=false`, { token: owner.token });
    expect(onlyErr.body.lines.map((l: { stream: string }) => l.stream)).toEqual(["stderr"]);

    const top = await api(`${base()}/${id}/top`, { token: owner.token });
    expect(top.body.titles).toContain("PID");
    expect(top.body.processes.some((p: string[]) => p.join(" ").includes("httpd"))).toBe(true);

    const exec = await api(`${base()}/${id}/exec`, {
      token: owner.token,
      body: { cmd: ["sh", "-c", "echo $GREETING; echo oops >&2; exit 3"] },
    });
    expect(exec.body).toMatchObject({ exit_code: 3, stdout: "hi\n", stderr: "oops\n" });

    const stats = await api(`${base()}/${id}/stats`, { token: owner.token });
    expect(stats.body).toMatchObject({ id, memory_limit: 64 * 1024 * 1024 });
    expect(stats.body.memory_usage).toBeGreaterThan(0);

    const again = await api(`${base()}/${id}/start`, { method: "POST", token: owner.token });
    expect(again.body).toMatchObject({ changed: false, note: expect.stringMatching(/already started/) });

    expect((await api(`${base()}/${id}/pause`, { method: "POST", token: owner.token })).body.changed).toBe(true);
    expect(await docker("inspect", "-f", "{{.State.Status}}", id)).toBe("paused");
    expect((await api(`${base()}/${id}/unpause`, { method: "POST", token: owner.token })).body.changed).toBe(true);

    const stopped = await api(`${base()}/${id}/stop?timeout=1`, { method: "POST", token: owner.token });
    expect(stopped.body.changed).toBe(true);
    expect(await docker("inspect", "-f", "{{.State.Running}}", id)).toBe("false");
    const all = await api(`${base()}?all=true`, { token: owner.token });
    expect(all.body.containers.find((c: { id: string }) => c.id === id)).toMatchObject({ state: "exited", name });
    const runningOnly = await api(base(), { token: owner.token });
    expect(runningOnly.body.containers.map((c: { id: string }) => c.id)).not.toContain(id);

    expect((await api(`${base()}/${id}/start`, { method: "POST", token: owner.token })).body.changed).toBe(true);
    expect((await api(`${base()}/${id}/restart?timeout=1`, { method: "POST", token: owner.token })).status).toBe(200);
    const conflict = await api(`${base()}/${id}`, { method: "DELETE", token: owner.token });
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toMatch(/running|stop/i);
    expect((await api(`${base()}/${id}/kill?signal=SIGKILL`, { method: "POST", token: owner.token })).body.changed).toBe(true);
    expect((await api(`${base()}/${id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect(await docker("ps", "-aq", "--filter", `id=${id}`)).toBe("");
  });

  it("answers Docker's errors with the engine's message and a fitting status", async () => {
    const missing = await api(`${base()}/no-such-container-${process.pid}`, { token: owner.token });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/No such container/);
    const badImage = await api(base(), {
      token: owner.token,
      body: { image: "pier-test/does-not-exist:never", name: unique("x"), pull_policy: "never" },
    });
    expect(badImage.status).toBe(404);
    expect(badImage.body.detail).toMatch(/does-not-exist|No such image|pull/i);
    const invalid = await api(base(), { token: owner.token, body: { image: "" } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors[0].pointer).toBe("/body/image");
  });

  it("pulls an image the host lacks as a task that then creates the container (pull_policy missing by default), or answers 404 with how to pull", async () => {
    const name = `pier-test/create-pull-${process.pid}`;
    const registry = await startRegistry({ images: [{ source: TEST_IMAGE, name, tag: "v1" }] });
    const image = registry.reference(name, "v1");
    const containers = [unique("pulled"), unique("always")];
    const labels = { "dev.pier.e2e": LABEL.split("=")[1]! };
    const taskEnded = (id: string) => taskEnd(owner.token, id);
    try {
      await docker("rmi", "-f", image).catch(() => undefined);
      const never = await api(base(), { token: owner.token, body: { image, pull_policy: "never", name: unique("never") } });
      expect(never.status).toBe(404);
      expect(never.headers.get("content-type")).toMatch(/problem\+json/);
      expect(never.body.detail).toContain(`the image ${image} is not on this host and pull_policy is "never"`);
      expect(never.body.detail).toContain(`POST /api/v1/hosts/{hostId}/images/pull and the body {"image":"${image}"}`);
      expect(registry.requests.filter((r) => r.includes("/manifests/"))).toEqual([]);

      // Missing (the default): 202 with a task; the pull's progress is the task's, then the container.
      const pulling = await api(base(), { token: owner.token, body: { image, name: containers[0], cmd: ["sleep", "600"], labels } });
      expect(pulling.status, JSON.stringify(pulling.body)).toBe(202);
      expect(pulling.body.task).toMatchObject({ id: pulling.body.task_id, kind: "container.create" });
      const done = await taskEnded(pulling.body.task_id);
      expect(done, JSON.stringify(done)).toMatchObject({
        status: "succeeded",
        progress: 100,
        message: expect.stringContaining(`Pulled ${image}`),
        result: { name: containers[0], started: true },
      });
      expect(registry.requests.some((r) => r.includes(`/v2/${name}/manifests/v1`))).toBe(true);
      expect(await docker("inspect", "-f", "{{.Config.Image}} {{.State.Running}}", done.result.id)).toBe(`${image} true`);

      // Now on the host: created at once, no task, no pull.
      const pulls = registry.requests.filter((r) => r.includes("/manifests/")).length;
      const present = await api(base(), {
        token: owner.token,
        body: { image, name: unique("present"), cmd: ["sleep", "600"], labels, start: false },
      });
      expect(present.status, JSON.stringify(present.body)).toBe(201);
      expect(present.body).toMatchObject({ started: false });
      expect(registry.requests.filter((r) => r.includes("/manifests/")).length).toBe(pulls);
      await docker("rm", "-f", present.body.id);

      // Always: pulled again, as a task.
      const always = await api(base(), {
        token: owner.token,
        body: { image, name: containers[1], cmd: ["sleep", "600"], labels, pull_policy: "always" },
      });
      expect(always.status).toBe(202);
      expect(await taskEnded(always.body.task_id)).toMatchObject({ status: "succeeded", result: { name: containers[1] } });
      expect(registry.requests.filter((r) => r.includes("/manifests/")).length).toBeGreaterThan(pulls);

      // A pull that cannot work: the task fails, says why, and no container is made.
      const nope = unique("nope");
      const unreachable = await api(base(), { token: owner.token, body: { image: `127.0.0.1:1/${name}:v1`, name: nope } });
      expect(unreachable.status).toBe(202);
      const failed = await taskEnded(unreachable.body.task_id);
      expect(failed.status).toBe("failed");
      expect(failed.message).toMatch(/could not be pulled, so no container was created/);
      expect(await docker("ps", "-aq", "--filter", `name=^${nope}$`)).toBe("");
    } finally {
      for (const container of containers) await docker("rm", "-f", container).catch(() => undefined);
      await docker("rmi", "-f", image).catch(() => undefined);
      await registry.close();
    }
  });

  it("answers stats for every container at once from the agent's cache", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await docker("run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "600"));
    }
    const all = await waitFor("stats of the new containers", async () => {
      const res = await api(`/api/v1/hosts/${host.id}/stats`, { token: owner.token });
      const seen = new Set(res.body.samples.map((s: { id: string }) => s.id));
      return ids.every((id) => seen.has(id)) ? res.body : undefined;
    });
    expect(Date.parse(all.at)).toBeGreaterThan(0);
    for (const sample of all.samples.filter((s: { id: string }) => ids.includes(s.id))) {
      expect(sample.memory_usage).toBeGreaterThan(0);
    }
  });

  it("follows logs as SSE", async () => {
    const id = await docker(
      "run",
      "-d",
      "--label",
      LABEL,
      TEST_IMAGE,
      "sh",
      "-c",
      "for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i; sleep 0.2; done; sleep 600",
    );
    const res = await fetch(`${(await import("./client.ts")).pierUrl()}${base()}/${id}/logs?follow=true&tail=all`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(res, (e) => e.event === "log" && e.data.text === "line-5");
    expect(events.filter((e) => e.event === "log").map((e) => e.data.text)).toEqual(["line-1", "line-2", "line-3", "line-4", "line-5"]);
  });

  it("streams Docker events of a container started with the docker CLI over SSE", async () => {
    const name = unique("evt");
    const url = `${(await import("./client.ts")).pierUrl()}/api/v1/events?type=container&access_token=${encodeURIComponent(owner.token)}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const stream = new SseStream(res);
    await stream.ready();
    await docker("run", "-d", "--name", name, "--label", LABEL, TEST_IMAGE, "sleep", "600");
    const events = await stream.until((e) => e.data?.name === name && e.data.action === "start");
    const start = events.find((e) => e.data.name === name && e.data.action === "start");
    expect(start).toMatchObject({ event: "docker", data: { host_id: host.id, host_name: host.name, type: "container", action: "start" } });
  });

  it("shows another organization nothing: 404 for every route, no events", async () => {
    const stranger = await newOwner("stranger");
    for (const [method, path] of [
      ["GET", `/api/v1/hosts/${host.id}`],
      ["GET", base()],
      ["POST", `${base()}/x/start`],
      ["DELETE", `${base()}/x`],
      ["GET", `/api/v1/hosts/${host.id}/stats`],
    ]) {
      expect((await api(path!, { method, token: stranger.token })).status, `${method} ${path}`).toBe(404);
    }

    // Its event stream carries only its own hosts' events. Its own agent watches the same engine,
    // so a container started now shows on both streams: once the stranger has it from its own host,
    // the owner's copy of it (which the owner has already been sent) has had its chance to leak.
    const { host: strangerHost, agent: strangerAgent } = await onlineHost(stranger, { agent: { metricsIntervalMs: 0, statsCache: false } });
    try {
      await strangerAgent.agent.eventsReady;
      const events = (token: string) => fetch(`${pierUrl()}/api/v1/events?type=container&access_token=${encodeURIComponent(token)}`);
      const ours = new SseStream(await events(owner.token));
      const theirs = new SseStream(await events(stranger.token));
      await Promise.all([ours.ready(), theirs.ready()]);
      const name = unique("leak");
      await docker("run", "-d", "--name", name, "--label", LABEL, TEST_IMAGE, "sleep", "600");
      const started = (e: SseEvent) => e.data?.name === name && e.data.action === "start";
      expect((await ours.until(started)).at(-1)?.data.host_id).toBe(host.id);
      const seen = (await theirs.until(started)).filter((e) => e.event !== "ready");
      expect(seen.at(-1)).toMatchObject({ data: { name, action: "start", host_id: strangerHost.id } });
      expect(seen.map((e) => e.data.host_id)).toEqual(seen.map(() => strangerHost.id));
      await Promise.all([ours.close(), theirs.close()]);
    } finally {
      await strangerAgent.agent.stop();
    }
  });
});
