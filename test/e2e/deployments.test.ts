// Deployments end to end: `npm start`'s stack, a real agent, a real Docker engine. An image
// deploy with live logs; an image pulled from a private registry (test/fixtures/registry.ts) with
// the application's credentials; Dockerfile deploys from a local git repository (file://) that replace
// each other; a failing build and a failing health check that leave the old container serving; a
// cancel during a build; a timeout; a rollback; domains as Traefik labels; database services
// (with a busybox stand-in: no official image can be pulled here, so only the container spec and
// its lifecycle are checked, not a real database server).
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type ErrorEvent, EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workDir } from "../../agent-relay/src/ops/deploy-git.ts";
import { startRegistry } from "../fixtures/registry.ts";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  readSse,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
  waitForStatus,
} from "./client.ts";
import { cleanupOwner, deployLogs, gitRepo, served, waitDeployment, type TestRepo } from "./deploy-helpers.ts";

const dockerfile = (marker: string, extra = "") =>
  `FROM ${TEST_IMAGE}\n${extra}RUN mkdir -p /www && echo ${marker} > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`;
const probe = { http_path: "/index.html", port: 8080, interval_seconds: 1, retries: 10 };

describe.skipIf(!dockerAvailable())("deployments", () => {
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  let projectId: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    owner = await newOwner("deploy");
    ({ host, agent } = await onlineHost(owner));
    projectId = (await api("/api/v1/projects", { token: owner.token, body: { name: "e2e" } })).body.id;
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await docker("network", "rm", `pier-${projectId}`).catch(() => undefined);
    await agent?.agent.stop();
  });

  async function newApp(body: Record<string, unknown>) {
    const res = await api("/api/v1/applications", {
      token: owner.token,
      body: { project_id: projectId, app_name: unique(String(body.name).replace(/\W+/g, "-")), ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    cleanups.push(() => cleanupOwner("dev.pier.app", res.body.id, res.body.app_name));
    return res.body as { id: string; app_name: string };
  }

  const deploy = async (appId: string, body?: unknown) => {
    const res = await api(`/api/v1/applications/${appId}/deployments`, { token: owner.token, method: "POST", body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body as { id: string; task_id: string };
  };
  const containerId = (name: string) => docker("inspect", "-f", "{{.Id}}", name);
  const deleteProjectAnswers = async (id: string, status: number) =>
    expect((await api(`/api/v1/projects/${id}`, { token: owner.token, method: "DELETE" })).status).toBe(status);

  it("deploys an image with its environment, limits and health check, streaming the output live", async () => {
    const app = await newApp({
      name: "image app",
      image: TEST_IMAGE,
      pull_policy: "never",
      // PID 1 ignores SIGTERM unless it traps it: without the trap every stop would wait 10 s.
      command: ["sh", "-c", "mkdir -p /www; echo image-app > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"],
      ports: [{ container_port: 8080 }],
      cpus: 0.5,
      memory: 64 * 1024 * 1024,
      health_check: probe,
      environment: { GREETING: "hello-e2e-secret-value" },
    });
    const queued = await deploy(app.id);
    // Follow the output while it runs: SSE from the Worker, fed by the DeployQueue.
    const res = await fetch(`${pierUrl()}/api/v1/deployments/${queued.id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(res, (e) => e.event === "end", 120_000);
    expect(events.at(-1)).toMatchObject({ event: "end", data: { status: "succeeded" } });
    const streamed = events
      .filter((e) => e.event === "log")
      .map((e) => e.data.text)
      .join("");
    expect(streamed).toContain("Using pier-test/busybox:latest already on the host");
    expect(streamed).toContain("Healthy");
    expect(streamed).not.toContain("hello-e2e-secret-value");

    const d = await waitDeployment(owner, queued.id);
    expect(d).toMatchObject({ status: "succeeded", image_tag: `pier/${app.app_name}:${queued.id}` });
    const inspect = JSON.parse(await docker("inspect", app.app_name))[0];
    expect(inspect.Config.Env).toContain("GREETING=hello-e2e-secret-value");
    expect(inspect.Config.Labels).toMatchObject({ "dev.pier.managed": "true", "dev.pier.app": app.id, "dev.pier.deployment": queued.id });
    expect(inspect.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * 1024 * 1024,
      RestartPolicy: { Name: "unless-stopped" },
    });
    expect(Object.keys(inspect.NetworkSettings.Networks)).toContain(`pier-${projectId}`);
    expect(await served(app.app_name)).toBe("image-app");
    expect(await deployLogs(owner, queued.id)).not.toContain("hello-e2e-secret-value");
    expect((await api(`/api/v1/tasks/${queued.task_id}`, { token: owner.token })).body).toMatchObject({ status: "succeeded" });

    // Stop, start and restart act on the container.
    expect((await api(`/api/v1/applications/${app.id}/stop`, { token: owner.token, method: "POST" })).body).toMatchObject({
      status: "stopped",
      changed: true,
    });
    expect(await docker("inspect", "-f", "{{.State.Running}}", app.app_name)).toBe("false");
    expect((await api(`/api/v1/applications/${app.id}/start`, { token: owner.token, method: "POST" })).body).toMatchObject({
      status: "running",
      changed: true,
    });
    expect((await api(`/api/v1/applications/${app.id}/restart`, { token: owner.token, method: "POST" })).status).toBe(200);
    expect(await docker("inspect", "-f", "{{.State.Running}}", app.app_name)).toBe("true");
  });

  it("tells EventSource to stop once a finished deployment's output has been read: 204 on its reconnect", async () => {
    const app = await newApp({
      name: "finished follow",
      image: TEST_IMAGE,
      pull_policy: "never",
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
    });
    const queued = await deploy(app.id);
    expect(await waitDeployment(owner, queued.id)).toMatchObject({ status: "succeeded" });

    // The real browser-compatible client: it replays the stored output and the end, the stream
    // closes, it reconnects with Last-Event-ID, and the 204 makes it stop for good.
    const statuses: number[] = [];
    const source = new EventSource(`${pierUrl()}/api/v1/deployments/${queued.id}/logs?follow=true&access_token=${owner.token}`, {
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    const received: Array<{ type: string; id: string }> = [];
    for (const type of ["log", "end"]) source.addEventListener(type, (e) => received.push({ type, id: e.lastEventId }));
    const stopped = await new Promise<ErrorEvent>((resolve) => {
      source.onerror = (e) => {
        if (source.readyState === EventSource.CLOSED) resolve(e);
      };
    });
    expect(stopped.code).toBe(204);
    expect(statuses).toEqual([200, 204]);
    expect(received.filter((e) => e.type === "end")).toHaveLength(1);
    const lastLog = received.filter((e) => e.type === "log").at(-1)!;
    expect(received.at(-1)).toEqual({ type: "end", id: lastLog.id });
    expect(await deployLogs(owner, queued.id)).toContain("Deployment succeeded");
  });

  it("keeps the images of the last successful deployments for rollback and prunes older ones (PIER_KEEP_DEPLOYMENT_IMAGES=2)", async () => {
    const app = await newApp({
      name: "retention",
      image: TEST_IMAGE,
      pull_policy: "never",
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const queued = await deploy(app.id);
      expect(await waitDeployment(owner, queued.id), await deployLogs(owner, queued.id)).toMatchObject({ status: "succeeded" });
      ids.push(queued.id);
    }
    const tags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `pier/${app.app_name}`)).split("\n").sort();
    expect(tags).toEqual([`pier/${app.app_name}:${ids[1]}`, `pier/${app.app_name}:${ids[2]}`].sort());
    expect(await deployLogs(owner, ids[2]!)).toContain(`Removed 1 image(s) of older deployments`);
    // The base image was only untagged, never removed.
    expect(await docker("images", "-q", TEST_IMAGE)).not.toBe("");

    const pruned = await api(`/api/v1/deployments/${ids[0]}/rollback`, { token: owner.token, method: "POST" });
    expect(pruned.status).toBe(409);
    expect(pruned.body.detail).toMatch(/was pruned from the host.*last 2 successful deployments.*PIER_KEEP_DEPLOYMENT_IMAGES/);
    const kept = await api(`/api/v1/deployments/${ids[1]}/rollback`, { token: owner.token, method: "POST" });
    expect(kept.status).toBe(202);
    expect(await waitDeployment(owner, kept.body.id)).toMatchObject({ status: "succeeded", image_tag: `pier/${app.app_name}:${ids[1]}` });
  });

  it("finds a name clash with a container Pier did not create before building anything", async () => {
    const repo = await gitRepo();
    cleanups.push(() => repo.remove());
    await repo.commit({ Dockerfile: dockerfile("clash", "RUN echo build-step-ran\n") }, "clash");
    const app = await newApp({ name: "clash", git_url: repo.url, git_branch: "main", build_type: "dockerfile" });
    await docker("run", "-d", "--name", app.app_name, TEST_IMAGE, "sleep", "600");
    cleanups.push(() => docker("rm", "-f", app.app_name));
    const queued = await deploy(app.id);
    expect(await waitDeployment(owner, queued.id)).toMatchObject({
      status: "failed",
      error: expect.stringContaining(
        `a container named ${app.app_name} already exists on this host and does not belong to this application (it was not created by Pier)`,
      ),
    });
    const logs = await deployLogs(owner, queued.id);
    expect(logs).not.toContain("Fetching");
    expect(logs).not.toContain("docker build");
    expect(await docker("images", "-q", `pier/${app.app_name}`)).toBe("");
  });

  it("pulls an image from a private registry with the application's credentials, every time with pull policy always", async () => {
    const suffix = randomUUID().slice(0, 8);
    const auth = { username: "deployer", password: `registry-pass-${suffix}` };
    const registry = await startRegistry({ images: [{ source: TEST_IMAGE, name: `pier-test/private-app-${suffix}`, tag: "v1" }], auth });
    const image = registry.reference(`pier-test/private-app-${suffix}`, "v1");
    cleanups.push(async () => {
      await docker("rmi", image).catch(() => undefined);
      await registry.close();
    });
    const app = await newApp({
      name: "private image",
      image,
      pull_policy: "always",
      registry_username: auth.username,
      registry_password: auth.password,
      registry_server: registry.host,
      command: ["sh", "-c", "mkdir -p /www; echo private-app > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"],
      ports: [{ container_port: 8080 }],
      health_check: probe,
    });
    const shown = await api(`/api/v1/applications/${app.id}`, { token: owner.token });
    expect(JSON.stringify(shown.body)).not.toContain(auth.password);

    const first = await waitDeployment(owner, (await deploy(app.id)).id);
    expect(first.status, first.error).toBe("succeeded");
    expect(await served(app.app_name)).toBe("private-app");
    const manifestsAfterFirst = registry.requests.filter((r) => r.includes("/manifests/")).length;
    expect(manifestsAfterFirst).toBeGreaterThan(0);
    // "always": the second deployment asks the registry again although the image is on the host.
    const second = await waitDeployment(owner, (await deploy(app.id)).id);
    expect(second.status, second.error).toBe("succeeded");
    expect(registry.requests.filter((r) => r.includes("/manifests/")).length).toBeGreaterThan(manifestsAfterFirst);
    const logs = await deployLogs(owner, second.id);
    expect(logs).toContain(`Pulling ${image}`);
    expect(logs).not.toContain(auth.password);
  });

  describe("from a git repository", () => {
    let repo: TestRepo;
    let app: { id: string; app_name: string };
    let first: { id: string };
    let v2Container: string;

    beforeAll(async () => {
      repo = await gitRepo();
      cleanups.push(() => repo.remove());
      await repo.commit({ Dockerfile: dockerfile("version-one") }, "version one");
      app = await newApp({
        name: "site",
        git_url: repo.url,
        git_branch: "main",
        build_type: "dockerfile",
        ports: [{ container_port: 8080 }],
        health_check: probe,
      });
    });

    it("builds the commit's Dockerfile on the host, with domains as Traefik labels, and replaces the old container", async () => {
      const domain = await api(`/api/v1/applications/${app.id}/domains`, {
        token: owner.token,
        body: { host: "site.pier-e2e.test", https: true, certificate_type: "letsencrypt" },
      });
      expect(domain.status).toBe(201);
      first = await deploy(app.id);
      const one = await waitDeployment(owner, first.id);
      expect(one, await deployLogs(owner, first.id)).toMatchObject({
        status: "succeeded",
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
        commit_message: "version one",
      });
      expect(await served(app.app_name)).toBe("version-one");
      const labels = JSON.parse(await docker("inspect", "-f", "{{json .Config.Labels}}", app.app_name));
      const router = Object.keys(labels).find((k) => k.endsWith(".rule"))!;
      expect(labels[router]).toBe("Host(`site.pier-e2e.test`)");
      expect(labels).toMatchObject({ "traefik.enable": "true", "traefik.docker.network": `pier-${projectId}` });
      expect(Object.entries(labels)).toContainEqual([expect.stringMatching(/-secure\.tls\.certresolver$/), "letsencrypt"]);
      const oldId = await containerId(app.app_name);

      await repo.commit({ Dockerfile: dockerfile("version-two") }, "version two");
      const second = await deploy(app.id);
      expect(await waitDeployment(owner, second.id)).toMatchObject({ status: "succeeded", commit_message: "version two" });
      expect(await served(app.app_name)).toBe("version-two");
      v2Container = await containerId(app.app_name);
      expect(v2Container).not.toBe(oldId);
      expect((await docker("ps", "-aq", "--filter", `label=dev.pier.app=${app.id}`)).split("\n")).toEqual([v2Container.slice(0, 12)]);
      const logs = await deployLogs(owner, second.id);
      expect(logs).toContain("Removing the previous container");
      const history = await api(`/api/v1/applications/${app.id}/deployments`, { token: owner.token });
      expect(history.body.deployments.map((x: { id: string }) => x.id)).toEqual([second.id, first.id]);
    });

    it("keeps the old container serving when the build fails, and the logs say why", async () => {
      await repo.commit({ Dockerfile: dockerfile("broken", "RUN echo about-to-fail && exit 3\n") }, "broken build");
      const broken = await deploy(app.id);
      const d = await waitDeployment(owner, broken.id);
      expect(d).toMatchObject({ status: "failed", error: expect.stringMatching(/non-zero code: 3/) });
      const logs = await deployLogs(owner, broken.id);
      expect(logs).toContain("about-to-fail");
      expect(logs).toContain("Deployment failed");
      expect(await containerId(app.app_name)).toBe(v2Container);
      expect(await served(app.app_name)).toBe("version-two");
    });

    it("keeps the old container serving when the new one fails its health check", async () => {
      await repo.commit({ Dockerfile: dockerfile("version-three") }, "version three");
      await api(`/api/v1/applications/${app.id}`, {
        token: owner.token,
        method: "PATCH",
        body: { health_check: { ...probe, http_path: "/missing.html", retries: 2 } },
      });
      const unhealthy = await deploy(app.id);
      const d = await waitDeployment(owner, unhealthy.id);
      expect(d).toMatchObject({ status: "failed", error: expect.stringMatching(/health check failed.*missing\.html/) });
      expect(await deployLogs(owner, unhealthy.id)).toContain("The previous version keeps serving");
      expect(await containerId(app.app_name)).toBe(v2Container);
      expect(await served(app.app_name)).toBe("version-two");
      expect((await docker("ps", "-aq", "--filter", `label=dev.pier.app=${app.id}`)).split("\n")).toHaveLength(1);
      await api(`/api/v1/applications/${app.id}`, { token: owner.token, method: "PATCH", body: { health_check: probe } });
    });

    it("cancels a running build on the host, and fails one past its timeout", async () => {
      await repo.commit({ Dockerfile: dockerfile("slow", "RUN echo slow-step-started && sleep 60\n") }, "slow build");
      const slow = await deploy(app.id);
      await waitFor("the slow build step to start", async () => (await deployLogs(owner, slow.id)).includes("slow-step-started"), {
        timeout: 90_000,
      });
      const cancel = await api(`/api/v1/deployments/${slow.id}/cancel`, { token: owner.token, method: "POST" });
      expect(cancel.status).toBe(200);
      expect(await waitDeployment(owner, slow.id)).toMatchObject({ status: "cancelled" });
      expect(await served(app.app_name)).toBe("version-two");

      await api(`/api/v1/applications/${app.id}`, { token: owner.token, method: "PATCH", body: { deploy_timeout_seconds: 3 } });
      const stuck = await deploy(app.id);
      expect(await waitDeployment(owner, stuck.id)).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/timed out after 3 s/),
      });
      expect(await containerId(app.app_name)).toBe(v2Container);
      expect(await served(app.app_name)).toBe("version-two");
      await api(`/api/v1/applications/${app.id}`, { token: owner.token, method: "PATCH", body: { deploy_timeout_seconds: 600 } });
    });

    it("fails a deployment whose host drops mid-build, and leaves the running version alone", async () => {
      const dropped = await deploy(app.id);
      await waitFor("the slow build step to start", async () => (await deployLogs(owner, dropped.id)).includes("slow-step-started"), {
        timeout: 90_000,
      });
      await agent.agent.stop();
      expect(await waitDeployment(owner, dropped.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/disconnected/) });
      expect(await containerId(app.app_name)).toBe(v2Container);
      expect(await served(app.app_name)).toBe("version-two");
      agent = attachAgent(host.agent_token);
      await waitForStatus(owner, host.id, "online");
    });

    it("rolls back to an earlier successful deployment by reusing its image", async () => {
      const back = await api(`/api/v1/deployments/${first.id}/rollback`, { token: owner.token, method: "POST" });
      expect(back.status).toBe(202);
      expect(back.body).toMatchObject({ trigger: "rollback", rollback_of: first.id, image_tag: `pier/${app.app_name}:${first.id}` });
      expect(await waitDeployment(owner, back.body.id)).toMatchObject({ status: "succeeded" });
      expect(await served(app.app_name)).toBe("version-one");
      expect(await deployLogs(owner, back.body.id)).toContain("Rolling back");
      expect((await api(`/api/v1/applications/${app.id}`, { token: owner.token })).body).toMatchObject({
        current_deployment_id: back.body.id,
        status: "running",
      });
    });

    it("deleting the application removes its containers, every image it made and the agent's clone", async () => {
      const clone = join(workDir(), "repos", `${app.id}.git`);
      expect(existsSync(clone)).toBe(true);
      expect(await docker("images", "-q", `pier/${app.app_name}`)).not.toBe("");
      expect((await api(`/api/v1/applications/${app.id}`, { token: owner.token, method: "DELETE" })).status).toBe(204);
      expect(await docker("ps", "-aq", "--filter", `label=dev.pier.app=${app.id}`)).toBe("");
      expect(await docker("images", "-q", `pier/${app.app_name}`)).toBe("");
      expect(await docker("images", "-aq", "--filter", `label=dev.pier.app=${app.id}`)).toBe("");
      expect(existsSync(clone)).toBe(false);
    });
  });

  it("runs database services on the project network with a named volume that outlives the container", async () => {
    // A stand-in for the official image (none can be pulled here): the spec and lifecycle are real.
    const pgName = unique("main-db");
    const pg = await api("/api/v1/databases", {
      token: owner.token,
      body: {
        project_id: projectId,
        engine: "postgres",
        name: "main-db",
        app_name: pgName,
        image: TEST_IMAGE,
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
      },
    });
    expect(pg.status, JSON.stringify(pg.body)).toBe(201);
    cleanups.push(async () => {
      await cleanupOwner("dev.pier.database", pg.body.id);
      await docker("volume", "rm", "-f", pg.body.volume).catch(() => undefined);
    });
    expect(pg.body).toMatchObject({
      status: "running",
      volume: `${pgName}-data`,
      internal_host: pgName,
      database_name: pgName.replace(/-/g, "_"),
    });
    const conn = (await api(`/api/v1/databases/${pg.body.id}/connection`, { token: owner.token })).body;
    const inspect = JSON.parse(await docker("inspect", pgName))[0];
    expect(inspect.Config.Env).toEqual(
      expect.arrayContaining([`POSTGRES_PASSWORD=${conn.password}`, "POSTGRES_USER=pier", `POSTGRES_DB=${pgName.replace(/-/g, "_")}`]),
    );
    expect(conn.connection_string).toBe(`postgresql://pier:${conn.password}@${pgName}:5432/${pgName.replace(/-/g, "_")}`);
    expect(inspect.Mounts).toContainEqual(
      expect.objectContaining({ Type: "volume", Name: `${pgName}-data`, Destination: "/var/lib/postgresql/data" }),
    );
    expect(inspect.NetworkSettings.Networks[`pier-${projectId}`].Aliases).toContain(pgName);
    expect(inspect.Config.Labels).toMatchObject({ "dev.pier.database": pg.body.id, "dev.pier.managed": "true" });

    expect((await api(`/api/v1/databases/${pg.body.id}/stop`, { token: owner.token, method: "POST" })).body.status).toBe("stopped");
    expect(await docker("inspect", "-f", "{{.State.Running}}", pgName)).toBe("false");
    expect((await api(`/api/v1/databases/${pg.body.id}/start`, { token: owner.token, method: "POST" })).body.status).toBe("running");
    expect(await docker("inspect", "-f", "{{.State.Running}}", pgName)).toBe("true");

    expect((await api(`/api/v1/databases/${pg.body.id}`, { token: owner.token, method: "DELETE" })).status).toBe(204);
    expect(await docker("ps", "-aq", "--filter", `label=dev.pier.database=${pg.body.id}`)).toBe("");
    expect(await docker("volume", "inspect", "-f", "{{.Name}}", `${pgName}-data`)).toBe(`${pgName}-data`);

    // busybox has no redis-server: the engine's command fails, the start says so instead of
    // pretending, and no broken container is left behind.
    const redisName = unique("cache");
    const redis = await api("/api/v1/databases", {
      token: owner.token,
      body: { project_id: projectId, engine: "redis", name: "cache", app_name: redisName, image: TEST_IMAGE },
    });
    expect(redis.body).toMatchObject({
      status: "error",
      error: expect.stringMatching(/health check failed: the container (exited|keeps restarting)/),
    });
    expect(await docker("ps", "-aq", "--filter", `label=dev.pier.database=${redis.body.id}`)).toBe("");
    expect((await api(`/api/v1/databases/${redis.body.id}?purge=true`, { token: owner.token, method: "DELETE" })).status).toBe(204);
    await expect(docker("volume", "inspect", `${redisName}-data`)).rejects.toThrow();
  });
  it("deletes a project with everything in it only when forced: containers and the project's network go", async () => {
    await deleteProjectAnswers(projectId, 409);
    const res = await api(`/api/v1/projects/${projectId}?force=true`, { token: owner.token, method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await docker("ps", "-aq", "--filter", `label=dev.pier.project=${projectId}`)).toBe("");
    expect(await docker("network", "ls", "-q", "--filter", `name=^pier-${projectId}$`)).toBe("");
  });
});
