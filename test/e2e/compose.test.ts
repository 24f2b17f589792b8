// Compose projects through the canonical API, end to end: HTTP → Worker → HostRelay → the real
// agent → the host's real Compose (v2 where installed, else docker-compose) → the real engine,
// checked with the `docker` CLI. The failure paths: a file Compose refuses, a project nobody sent,
// a host without Compose, and the roles.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  attachAgent,
  auditEvents,
  docker,
  dockerAvailable,
  type NewHost,
  newHost,
  newOwner,
  onlineHost,
  type Owner,
  run,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  waitFor,
  waitForStatus,
  withRoles,
} from "./client.ts";

async function composeInstalled(): Promise<boolean> {
  for (const [command, args] of [
    ["docker", ["compose", "version"]],
    ["docker-compose", ["version"]],
  ] as const) {
    if (
      await run(command, [...args]).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}
const hasCompose = dockerAvailable() && (await composeInstalled());
if (!hasCompose && process.env.CI === "true") throw new Error("Docker Compose is required under CI=true: run scripts/docker-setup.sh");
if (!hasCompose) console.warn("\n*** compose.test.ts SKIPPED: no Docker engine or no Compose (run scripts/docker-setup.sh) ***\n");

const composeFile = (tag: string) => `services:
  web:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1::8080"]
    labels:
      dev.pier.e2e: compose-${tag}
  worker:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo hello-from-worker-${tag}; sleep 600"]
    labels:
      dev.pier.e2e: compose-${tag}
`;

// Compose's own start-up (a CLI that reads the engine, creates a network and containers) is what a
// loaded machine slows most: each test may take longer than the suite-wide two minutes.
describe.skipIf(!hasCompose)("Compose projects through the relay", { timeout: 240_000 }, () => {
  const tag = randomUUID().slice(0, 8);
  const project = `pier-e2e-${tag}`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  const base = () => `/api/v1/hosts/${host.id}/compose`;
  const finished = (taskId: string) => taskEnd(owner.token, taskId);

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
  });

  afterAll(async () => {
    await agent?.agent.stop();
    const ids = await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`);
    if (ids) await docker("rm", "-f", ...ids.split("\n"));
    for (const n of (await docker("network", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`))
      .split("\n")
      .filter(Boolean))
      await docker("network", "rm", n);
  });

  it("brings a project up from a sent file as a task, lists it, reads its logs and takes it down", async () => {
    const started = await api(`${base()}/up`, { token: member, body: { project, content: composeFile(tag) } });
    expect(started.status).toBe(202);
    expect(started.body.task).toMatchObject({ kind: "compose.up", target_id: host.id });
    const task = await finished(started.body.task_id);
    expect(task).toMatchObject({ status: "succeeded", progress: 100, message: `Project ${project} is up: 2 of 2 container(s) running.` });
    expect(task.result.command).toMatch(/^docker(-| )compose$/);
    expect(task.result.output).toMatch(/web/);

    // What the engine says, independently of Pier.
    const names = (await docker("ps", "--filter", `label=com.docker.compose.project=${project}`, "--format", "{{.Names}}"))
      .split("\n")
      .sort();
    expect(names).toHaveLength(2);
    const port = await docker("port", names.find((n) => n.includes("web"))!, "8080/tcp");

    const ps = await api(`${base()}/${project}/ps`, { token: viewer });
    expect(ps.status).toBe(200);
    expect(ps.body.containers.map((c: { Service: string }) => c.Service)).toEqual(["web", "worker"]);
    const web = ps.body.containers[0];
    expect(web).toMatchObject({
      State: "running",
      Image: TEST_IMAGE,
      Publishers: [{ URL: "127.0.0.1", TargetPort: 8080, Protocol: "tcp" }],
    });
    expect(`127.0.0.1:${web.Publishers[0].PublishedPort}`).toBe(port);
    const served = await fetch(`http://${port}/`);
    expect(await served.text()).toContain("pier test image");

    // Each probe runs `docker compose logs` on the host: on a loaded machine one has taken 30 s.
    const logs = await waitFor(
      "the worker's line in the logs",
      async () => {
        const res = await api(`${base()}/${project}/logs?service=worker&tail=10`, { token: viewer });
        return res.status === 200 && res.body.output.includes(`hello-from-worker-${tag}`) ? res.body : undefined;
      },
      { timeout: 90_000 },
    );
    expect(logs.project).toBe(project);

    // Naming the project alone uses the file kept from `up`.
    const pulled = await api(`${base()}/pull`, { token: member, body: { project, services: ["web"] } });
    expect(pulled.status).toBe(202);
    // The image exists only locally (nothing can be pulled here): the task fails in Compose's words.
    const pullTask = await finished(pulled.body.task_id);
    expect(pullTask.status).toBe("failed");
    expect(pullTask.message).toMatch(/pull failed \(exit code \d+\)/);

    const down = await api(`${base()}/down`, { token: member, body: { project } });
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ project, command: task.result.command });
    expect(await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`)).toBe("");
    expect((await api(`${base()}/${project}/ps?all=true`, { token: viewer })).body.containers).toEqual([]);

    // The kept file went with the project.
    const again = await api(`${base()}/down`, { token: member, body: { project } });
    expect(again.status).toBe(404);
    expect(again.body.detail).toMatch(/No compose file is known for project .*send the file as `content`/);

    const events = await auditEvents(owner);
    expect(events.find((e) => e.action === "compose.up")?.metadata).toMatchObject({
      project,
      source: "content",
      task_id: started.body.task_id,
    });
    expect(events.find((e) => e.action === "compose.down")?.metadata).toMatchObject({ project, source: "kept" });
  });

  it("answers a file Compose refuses with a 422 in Compose's words, before any task, keeping nothing", async () => {
    const broken = await api(`${base()}/up`, {
      token: member,
      body: { project: `${project}-bad`, content: "services:\n  web:\n    image: [oops\n" },
    });
    expect(broken.status).toBe(422);
    expect(broken.body.detail).toMatch(/^The compose file is invalid: .*(expected|while parsing)/s);
    const unknownKey = await api(`${base()}/up`, {
      token: member,
      body: { project: `${project}-bad`, content: `services:\n  web:\n    image: ${TEST_IMAGE}\n    restart_please: always\n` },
    });
    expect(unknownKey.status).toBe(422);
    expect(unknownKey.body.detail).toMatch(/restart_please/);
    expect((await api(`${base()}/down`, { token: member, body: { project: `${project}-bad` } })).status).toBe(404);
    expect((await api("/api/v1/tasks?kind=compose.up&limit=50", { token: owner.token })).body.tasks).toHaveLength(1);
  });

  it("checks input and roles", async () => {
    const content = composeFile(tag);
    expect((await api(`${base()}/up`, { token: member, body: { project: "Not_Valid", content } })).status).toBe(422);
    expect((await api(`${base()}/up`, { token: member, body: { project, content, directory: "/srv" } })).status).toBe(422);
    expect((await api(`${base()}/up`, { token: member, body: { project, directory: "/srv/../etc" } })).status).toBe(422);
    expect((await api(`${base()}/up`, { token: viewer, body: { project, content } })).status).toBe(403);
    expect((await api(`${base()}/down`, { token: viewer, body: { project } })).status).toBe(403);
    const dir = await api(`${base()}/up`, { token: member, body: { project, directory: "/srv/app" } });
    expect(dir.status).toBe(403);
    expect(dir.body.detail).toMatch(/admin/);
    expect((await api(`${base()}/up`, { token: owner.token, body: { project, directory: "/nonexistent/pier" } })).status).toBe(404);
    const stranger = await newOwner("stranger");
    expect((await api(`${base()}/${project}/ps`, { token: stranger.token })).status).toBe(404);
    expect((await api(`${base()}/up`, { token: stranger.token, body: { project, content } })).status).toBe(404);
  });

  it("runs a project from a directory on the host (admin), and says what to install on a host without Compose", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pier-e2e-compose-"));
    try {
      await writeFile(join(dir, "compose.override-free.yml"), composeFile(tag).replace("sleep 600", "sleep 601"));
      const up = await api(`${base()}/up`, {
        token: owner.token,
        body: { project: `${project}-dir`, directory: dir, files: ["compose.override-free.yml"], services: ["worker"] },
      });
      expect(up.status).toBe(202);
      expect(await finished(up.body.task_id)).toMatchObject({
        status: "succeeded",
        message: `Project ${project}-dir is up: 1 of 1 container(s) running.`,
      });
      const down = await api(`${base()}/down`, {
        token: owner.token,
        body: { project: `${project}-dir`, directory: dir, files: ["compose.override-free.yml"] },
      });
      expect(down.status).toBe(200);
      expect(await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}-dir`)).toBe("");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // A host whose PATH has neither `docker compose` nor `docker-compose`.
    const bare = await newHost(owner);
    const empty = await mkdtemp(join(tmpdir(), "pier-e2e-nopath-"));
    const bareAgent = attachAgent(bare.agent_token, { toolPath: empty });
    try {
      await waitForStatus(owner, bare.id, "online");
      const res = await api(`/api/v1/hosts/${bare.id}/compose/up`, { token: member, body: { project, content: composeFile(tag) } });
      expect(res.status).toBe(501);
      expect(res.body.detail).toMatch(/neither `docker compose` .* nor `docker-compose` was found/);
      expect(res.body.detail).toMatch(/apt-get install docker-compose/);
      const down = await api(`/api/v1/hosts/${bare.id}/compose/down`, { token: member, body: { project, content: composeFile(tag) } });
      expect(down.status).toBe(501);
      // `ps` reads the engine: it needs no Compose.
      expect((await api(`/api/v1/hosts/${bare.id}/compose/${project}/ps`, { token: viewer })).status).toBe(200);
    } finally {
      await bareAgent.agent.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
