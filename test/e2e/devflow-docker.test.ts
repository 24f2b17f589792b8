// DevFlow Pro's Docker Management API (seed 003) end to end: its documented bodies and formats,
// through the Worker, the relay and a real agent, checked against the `docker` CLI. Engine-wide
// operations (prunes, and the document's weekly-cleanup.sh) run against a private engine of this
// file's own, so they cannot delete what other suites are using.
import { execFile, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, rmdir, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
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
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
  withRoles,
} from "./client.ts";
import { gitRepo, removeProject, waitDeployment } from "./deploy-helpers.ts";
import { type PrivateEngine, startPrivateEngine } from "./private-engine.ts";

/** compose/up runs the host's Compose (scripts/docker-setup.sh installs it; CI must have it). */
const hasCompose =
  spawnSync("docker", ["compose", "version"]).status === 0 ||
  spawnSync("docker-compose", ["version"]).status === 0 ||
  process.env.CI === "true";

/** The JSON bodies a script's `curl` calls printed, in order (curl adds no newline after them). */
export function jsonBodies(stdout: string): any[] {
  const bodies: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stdout.length; i++) {
    const ch = stdout[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"' && depth > 0) inString = true;
    else if (ch === "{") {
      if (depth++ === 0) start = i;
    } else if (ch === "}" && depth > 0 && --depth === 0) bodies.push(JSON.parse(stdout.slice(start, i + 1)));
  }
  return bodies;
}

/** An application placed on the host and deployed from the test image, serving on 8080. */
async function deployedApp(owner: Owner, hostId: string, name: string) {
  const project = (await api("/api/v1/projects", { token: owner.token, body: { name: unique("devflow") } })).body.id;
  const created = await api("/api/v1/applications", {
    token: owner.token,
    body: {
      project_id: project,
      name,
      app_name: unique(name),
      host_id: hostId,
      image: TEST_IMAGE,
      pull_policy: "never",
      command: ["sh", "-c", "mkdir -p /www; echo devflow-app > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const queued = await api(`/api/v1/applications/${created.body.id}/deployments`, { token: owner.token, method: "POST" });
  expect(queued.status).toBe(202);
  expect(await waitDeployment(owner, queued.body.id)).toMatchObject({ status: "succeeded" });
  return { id: created.body.id as string, appName: created.body.app_name as string, projectId: project as string };
}

describe.skipIf(!dockerAvailable())("DevFlow's Docker API on the shared engine", () => {
  const tag = randomUUID().slice(0, 8);
  const labels = { "dev.pier.e2e": `devflow-${tag}` };
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  let app: Awaited<ReturnType<typeof deployedApp>>;
  const server = () => `/api/servers/${host.id}/docker`;
  const project = () => `/api/projects/${app.appName}/docker`;

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles("devflow"));
    ({ host, agent } = await onlineHost(owner));
    app = await deployedApp(owner, host.id, "shop");
  });

  afterAll(async () => {
    // The test connected the app's container to its own network: that one goes first.
    await docker("network", "disconnect", "-f", `devflow-net-${tag}`, app?.appName ?? "none").catch(() => undefined);
    await docker("network", "rm", `devflow-net-${tag}`).catch(() => undefined);
    await removeProject(owner, app?.projectId, [app && { id: app.id, app_name: app.appName }]);
    await agent?.agent.stop();
    await docker("volume", "rm", "-f", `devflow-vol-${tag}`).catch(() => undefined);
  });

  it("reports the project's container in `docker stats` strings, runs commands and lists its processes", async () => {
    const stats = await api(`${project()}/stats`, { token: viewer });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      success: true,
      stats: {
        Container: app.appName,
        CPUPerc: expect.stringMatching(/^\d+(\.\d{1,2})?%$/),
        MemUsage: expect.stringMatching(/^\d+(\.\d+)?[kMGT]?B \/ \d+(\.\d+)?[kMGT]?B$/),
        MemPerc: expect.stringMatching(/^\d+(\.\d{1,2})?%$/),
        NetIO: expect.stringMatching(/^\S+B \/ \S+B$/),
        BlockIO: expect.stringMatching(/^\S+B \/ \S+B$/),
        PIDs: expect.stringMatching(/^[1-9]\d*$/),
      },
    });
    // The app's id and its name work too.
    expect((await api(`/api/projects/${app.id}/docker/stats`, { token: viewer })).body.stats.Container).toBe(app.appName);
    expect((await api("/api/projects/shop/docker/stats", { token: viewer })).body.stats.Container).toBe(app.appName);

    const exec = await api(`${project()}/exec`, {
      token: member,
      body: { command: "cat /www/index.html && echo to-stderr >&2", interactive: false },
    });
    expect(exec.status).toBe(200);
    expect(exec.body).toEqual({ success: true, output: "devflow-app\nto-stderr", exit_code: 0 });
    const failing = await api(`${project()}/exec`, { token: member, body: { command: "exit 3" } });
    expect(failing.body).toMatchObject({ success: false, exit_code: 3 });
    const interactive = await api(`${project()}/exec`, { token: member, body: { command: "sh", interactive: true } });
    expect(interactive.status).toBe(422);
    expect(interactive.body.errors.interactive[0]).toMatch(/terminal WebSocket/);
    const missing = await api(`${project()}/exec`, { token: member, body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({ message: "The given data was invalid.", errors: { command: ["The command field is required."] } });

    const ps = await api(`${project()}/processes`, { token: viewer });
    expect(ps.status).toBe(200);
    const [header, ...rows] = ps.body.processes.split("\n");
    expect(header).toMatch(/^PID\s+USER\s+COMMAND$/);
    expect(rows.some((r: string) => /^\d+\s+root\s+httpd -f -p 8080/.test(r))).toBe(true);
  });

  it("lists, creates and deletes volumes and networks, and connects the project's container", async () => {
    const volume = `devflow-vol-${tag}`;
    const created = await api(`${server()}/volumes`, { token: member, body: { name: volume, driver: "local", labels } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ success: true, volume_name: volume });
    const listed = await api(`${server()}/volumes`, { token: viewer });
    const mine = listed.body.volumes.find((v: { Name: string }) => v.Name === volume);
    expect(mine).toEqual({
      Name: volume,
      Driver: "local",
      Mountpoint: await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume),
      CreatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      Labels: { ...labels, "dev.pier.managed": "true" },
    });
    const deleted = await api(`${server()}/volumes/${volume}`, { token: member, method: "DELETE" });
    expect(deleted.body).toEqual({ success: true, message: "Volume deleted successfully" });
    expect(await docker("volume", "ls", "-q", "--filter", `name=${volume}`)).toBe("");
    const again = await api(`${server()}/volumes/${volume}`, { token: member, method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.body.message).toMatch(/no such volume/i);

    const network = `devflow-net-${tag}`;
    const net = await api(`${server()}/networks`, { token: member, body: { name: network, driver: "bridge" } });
    expect(net.status).toBe(200);
    expect(net.body).toEqual({ success: true, network_id: await docker("network", "inspect", "-f", "{{.Id}}", network) });
    const networks = await api(`${server()}/networks`, { token: viewer });
    expect(networks.body.networks).toContainEqual({
      Name: network,
      ID: net.body.network_id.slice(0, 12),
      Driver: "bridge",
      Scope: "local",
    });
    const connect = await api(`${project()}/networks/connect`, { token: member, body: { network_name: network } });
    expect(connect.body).toEqual({ success: true, message: "Container connected to network" });
    expect(await docker("inspect", "-f", `{{index .NetworkSettings.Networks "${network}"}}`, app.appName)).not.toBe("<no value>");
    const twice = await api(`${project()}/networks/connect`, { token: member, body: { network_name: network } });
    expect(twice.status).toBe(409);
    await docker("network", "disconnect", network, app.appName);
  });

  it("lists images as `docker images` rows, pulls with Docker's output and deletes", async () => {
    const images = await api(`${server()}/images`, { token: viewer });
    expect(images.status).toBe(200);
    const busybox = images.body.images.find(
      (i: { Repository: string; Tag: string }) => i.Repository === "pier-test/busybox" && i.Tag === "latest",
    );
    const id = (await docker("image", "inspect", "-f", "{{.Id}}", TEST_IMAGE)).replace("sha256:", "").slice(0, 12);
    expect(busybox).toEqual({
      Repository: "pier-test/busybox",
      Tag: "latest",
      ID: id,
      Size: expect.stringMatching(/^\d+(\.\d+)?[kMG]?B$/),
      CreatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });

    const name = `pier-e2e/devflow-${tag}`;
    const registry = await startRegistry({ images: [{ source: TEST_IMAGE, name, tag: "v1" }] });
    const reference = registry.reference(name, "v1");
    try {
      const pulled = await api(`${server()}/images/pull`, { token: member, body: { image: reference } });
      expect(pulled.status, JSON.stringify(pulled.body)).toBe(200);
      expect(pulled.body).toMatchObject({ success: true, message: "Image pulled successfully" });
      expect(pulled.body.output).toMatch(/Pulling/);
      expect(pulled.body.output).toMatch(/Status: Downloaded newer image for/);
      expect(await docker("image", "inspect", "-f", "{{.Id}}", reference)).toMatch(/^sha256:/);

      const removed = await api(`${server()}/images/${reference}`, { token: member, method: "DELETE" });
      expect(removed.body).toEqual({ success: true, message: "Image deleted successfully" });
      await expect(docker("image", "inspect", reference)).rejects.toThrow();
      const gone = await api(`${server()}/images/${reference}`, { token: member, method: "DELETE" });
      expect(gone.status).toBe(404);
    } finally {
      await registry.close();
      await docker("rmi", "-f", reference).catch(() => undefined);
    }
    const bad = await api(`${server()}/images/pull`, { token: member, body: { image: "Not A Reference" } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.image[0]).toMatch(/^The image field must be an image reference/);
  });

  it("answers info and disk usage in the document's fields", async () => {
    const info = await api(`${server()}/info`, { token: viewer });
    expect(info.body).toEqual({
      success: true,
      info: {
        ServerVersion: await docker("version", "--format", "{{.Server.Version}}"),
        Containers: expect.any(Number),
        ContainersRunning: expect.any(Number),
        ContainersStopped: expect.any(Number),
        Images: expect.any(Number),
        Driver: await docker("info", "--format", "{{.Driver}}"),
        NCPU: expect.any(Number),
        MemTotal: expect.any(Number),
        OperatingSystem: expect.any(String),
      },
    });
    const usage = await api(`${server()}/disk-usage`, { token: viewer });
    expect(usage.body.usage.map((r: { Type: string }) => r.Type)).toEqual(["Images", "Containers", "Volumes", "Build Cache"]);
    for (const row of usage.body.usage) {
      expect(row).toEqual({
        Type: row.Type,
        TotalCount: expect.any(Number),
        Active: expect.any(Number),
        Size: expect.stringMatching(/^\d+(\.\d+)?[kMGT]?B$/),
        Reclaimable: expect.stringMatching(/^\d+(\.\d+)?[kMGT]?B$/),
      });
    }
    expect(usage.body.usage[0].TotalCount).toBeGreaterThan(0);
  });

  it.skipIf(!hasCompose)(
    "deploys a Compose application with compose/up and shows its services; a project that is not one is a 409",
    async () => {
      const status = await api(`${project()}/compose/status`, { token: viewer });
      expect(status.body).toEqual({ success: true, services: [] });
      const notCompose = await api(`${project()}/compose/up`, { token: member, method: "POST" });
      expect(notCompose.status).toBe(409);
      expect(notCompose.body.message).toMatch(/is not a Compose application \(its build type is dockerfile\)/);

      const repo = await gitRepo();
      const appName = unique("stack");
      try {
        await repo.commit(
          {
            "docker-compose.yml": `services:
  app:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    ports: ["127.0.0.1::80"]
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "600"]
`,
          },
          "a compose project",
        );
        const created = await api("/api/v1/applications", {
          token: owner.token,
          body: {
            project_id: app.projectId,
            name: "stack",
            app_name: appName,
            host_id: host.id,
            git_url: repo.url,
            git_branch: "main",
            build_type: "compose",
          },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect((await api(`/api/projects/${appName}/docker/compose/up`, { token: viewer, method: "POST" })).status).toBe(403);
        const up = await api(`/api/projects/${appName}/docker/compose/up`, { token: member, method: "POST" });
        expect(up.status, JSON.stringify(up.body)).toBe(200);
        expect(up.body).toEqual({ success: true, output: expect.stringMatching(/Creating|Created|Started/) });
        const services = await api(`/api/projects/${appName}/docker/compose/status`, { token: viewer });
        expect(services.body.success).toBe(true);
        expect(services.body.services).toEqual([
          { Name: "app", State: "running", Publishers: [{ URL: "127.0.0.1", TargetPort: 80, PublishedPort: expect.any(Number) }] },
          { Name: "db", State: "running" },
        ]);
        const published = services.body.services[0].Publishers[0].PublishedPort;
        expect(await (await fetch(`http://127.0.0.1:${published}/`)).text()).toContain("pier test image");
      } finally {
        for (const id of (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${appName}`)).split("\n").filter(Boolean))
          await docker("rm", "-f", id);
        await docker("network", "rm", `${appName}_default`).catch(() => undefined);
        await repo.remove();
      }
    },
  );

  it("refuses viewers every change, and answers unknown servers and projects with a 404", async () => {
    const refusals: Array<[string, unknown, string?]> = [
      [`${project()}/exec`, { command: "true" }],
      [`${project()}/networks/connect`, { network_name: "bridge" }],
      [`${server()}/volumes`, { name: `devflow-viewer-${tag}` }],
      [`${server()}/networks`, { name: `devflow-viewer-${tag}` }],
      [`${server()}/images/pull`, { image: TEST_IMAGE }],
      [`${server()}/prune`, { volumes: false }],
      [`${server()}/volumes/whatever`, undefined, "DELETE"],
      [`${server()}/images/${TEST_IMAGE}`, undefined, "DELETE"],
    ];
    for (const [path, body, method] of refusals) {
      const res = await api(path, { token: viewer, ...(body !== undefined ? { body } : {}), ...(method ? { method } : {}) });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.message).toMatch(/viewer/);
    }
    expect(await docker("image", "inspect", "-f", "{{.Id}}", TEST_IMAGE)).toMatch(/^sha256:/);

    const noProject = await api("/api/projects/no-such-project/docker/stats", { token: viewer });
    expect(noProject).toMatchObject({ status: 404, body: { message: "Project no-such-project was not found." } });
    const noServer = await api("/api/servers/no-such-server/docker/info", { token: viewer });
    expect(noServer).toMatchObject({ status: 404, body: { message: "Server no-such-server was not found." } });
    // By name, as well as by id.
    expect((await api(`/api/servers/${host.name}/docker/info`, { token: viewer })).status).toBe(200);
    const stranger = await newOwner("stranger");
    expect((await api(`${server()}/info`, { token: stranger.token })).status).toBe(404);
    expect((await api(`${project()}/stats`, { token: stranger.token })).status).toBe(404);
    expect((await api(`${server()}/info`)).body).toEqual({ message: "Unauthenticated." });
  });
});

/** A script of the document, run as written with only its settings filled in (like monitor.sh). */
async function runScript(dir: string, name: string, settings: Record<string, string>): Promise<string> {
  let script = await readFile(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  for (const [line, value] of Object.entries(settings)) {
    expect(script, `${name} sets ${line}`).toContain(line);
    script = script.replace(line, value);
  }
  const path = join(dir, name);
  await writeFile(path, script, { mode: 0o755 });
  return (await promisify(execFile)("bash", [path], { timeout: 300_000 })).stdout;
}

describe.skipIf(!dockerAvailable())("DevFlow's Docker API on an engine of its own, and the document's scripts", () => {
  const tag = randomUUID().slice(0, 8);
  let engine: PrivateEngine;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let devflowToken: string;
  let host: NewHost;
  let agent: TestAgent;
  let app: Awaited<ReturnType<typeof deployedApp>>;
  let dir: string;
  const backups = `/backups/pier-e2e-${tag}`;
  const server = () => `/api/servers/${host.id}/docker`;
  const project = () => `/api/projects/${app.appName}/docker`;

  beforeAll(async () => {
    engine = await startPrivateEngine();
    dir = await mkdtemp(join(tmpdir(), "pier-devflow-scripts-"));
    ({ owner, member, viewer } = await withRoles("devflow-own"));
    ({ host, agent } = await onlineHost(owner, { agent: { dockerHost: engine.host } }));
    app = await deployedApp(owner, host.id, "my-project");
    // A personal token the DevFlow way: POST /api/login.
    const login = await api("/api/login", { body: { email: `${owner.username}@example.test`, password: owner.password } });
    expect(login.status).toBe(200);
    devflowToken = login.body.token;
  }, 300_000);

  afterAll(async () => {
    await agent?.agent.stop();
    await engine?.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await rm(backups, { recursive: true, force: true });
    await rmdir("/backups").catch(() => undefined);
  });

  it("sets the project container's limits live", async () => {
    const set = await api(`${project()}/limits`, { token: member, body: { memory_mb: 512, cpu_shares: 512 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({ success: true, message: "Resource limits updated" });
    const limits = JSON.parse(await engine.docker("inspect", "-f", "{{json .HostConfig}}", app.appName));
    expect(limits).toMatchObject({ Memory: 512 * 1024 * 1024, CpuShares: 512 });
    expect(await engine.docker("inspect", "-f", "{{.State.Running}}", app.appName)).toBe("true");
    const tooSmall = await api(`${project()}/limits`, { token: member, body: { memory_mb: 1 } });
    expect(tooSmall.status).toBe(422);
    expect(tooSmall.body.errors.memory_mb[0]).toMatch(/^The memory mb field must be at least 6/);
    expect((await api(`${project()}/limits`, { token: member, body: {} })).status).toBe(422);
    expect((await api(`${project()}/limits`, { token: viewer, body: { memory_mb: 64 } })).status).toBe(403);
  });

  it("backs the project's container up as an image, tags, pushes and saves it under the backups directory", async () => {
    const backup = await api(`${project()}/backup`, { token: member, body: { backup_name: "my-project-backup-v1" } });
    expect(backup.status, JSON.stringify(backup.body)).toBe(200);
    expect(backup.body).toEqual({
      success: true,
      backup_name: "my-project-backup-v1",
      image_id: await engine.docker("image", "inspect", "-f", "{{.Id}}", "my-project-backup-v1"),
    });
    expect(backup.body.image_id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const registry = await startRegistry({ images: [] });
    try {
      const target = `${registry.host}/team/my-app:v1.0.0`;
      const tagged = await api(`${server()}/images/tag`, {
        token: member,
        body: { source_image: "my-project-backup-v1", target_image: target },
      });
      expect(tagged.body).toEqual({ success: true, message: "Image tagged successfully" });
      expect(await engine.docker("image", "inspect", "-f", "{{.Id}}", target)).toBe(backup.body.image_id);
      const pushed = await api(`${server()}/images/push`, { token: member, body: { image_name: target } });
      expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
      expect(pushed.body.success).toBe(true);
      expect(pushed.body.output).toMatch(new RegExp(`^The push refers to repository \\[${registry.host}/team/my-app\\]`));
      expect(registry.requests.some((r) => r.startsWith("PUT /v2/team/my-app/manifests/v1.0.0"))).toBe(true);
      const noSource = await api(`${server()}/images/tag`, {
        token: member,
        body: { source_image: "nothing-here:1", target_image: "x:1" },
      });
      expect(noSource.status).toBe(404);
    } finally {
      await registry.close();
    }
    const locked = await startRegistry({ images: [], auth: { username: "ci", password: "s3cret-pass" } });
    try {
      const target = `${locked.host}/team/locked:v1`;
      await api(`${server()}/images/tag`, { token: member, body: { source_image: "my-project-backup-v1", target_image: target } });
      const refused = await api(`${server()}/images/push`, { token: member, body: { image_name: target } });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.body.message).toMatch(/auth|unauthorized|login/i);

      // registry/login checks the credentials from the server, keeps them, and pushes use them.
      const login = (token: string, password: string) =>
        api(`${server()}/registry/login`, {
          token,
          body: { registry: locked.host, username: "ci", password },
        });
      expect((await login(member, "s3cret-pass")).status).toBe(403);
      const wrong = await login(owner.token, "not-the-password");
      expect(wrong.status).toBe(422);
      expect(wrong.body.errors.password[0]).toMatch(/unauthorized|authentication|denied/i);
      const right = await login(owner.token, "s3cret-pass");
      expect(right.status, JSON.stringify(right.body)).toBe(200);
      expect(right.body).toEqual({ success: true, message: "Login Succeeded" });
      const kept = (await api("/api/v1/registries", { token: owner.token })).body;
      expect(JSON.stringify(kept)).not.toContain("s3cret-pass");
      const pushed = await api(`${server()}/images/push`, { token: member, body: { image_name: target } });
      expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
      expect(pushed.body.output).toMatch(/^The push refers to repository/);
    } finally {
      await locked.close();
    }

    const file = `${backups}/my-project-2025-11-10.tar`;
    const saved = await api(`${server()}/images/save`, {
      token: owner.token,
      body: { image_name: "my-project-backup-v1", file_path: file },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toEqual({ success: true, file_path: file });
    expect((await stat(file)).size).toBeGreaterThan(1024);
    const { stdout: listing } = await promisify(execFile)("tar", ["-tf", file]);
    expect(listing.split("\n")).toContain("manifest.json");

    // Writing host files takes an admin; only under the backups directory, however the path is spelled.
    expect(
      (await api(`${server()}/images/save`, { token: member, body: { image_name: "my-project-backup-v1", file_path: file } })).status,
    ).toBe(403);
    for (const outside of ["/etc/pier-e2e.tar", `${backups}/../../etc/pier-e2e.tar`, "/backups", "relative.tar", "/backupsx/a.tar"]) {
      const res = await api(`${server()}/images/save`, {
        token: owner.token,
        body: { image_name: "my-project-backup-v1", file_path: outside },
      });
      expect({ outside, status: res.status }).toEqual({ outside, status: 422 });
      expect(res.body.errors.file_path[0]).toMatch(/must/);
    }
    await expect(stat("/etc/pier-e2e.tar")).rejects.toThrow();
    // A symbolic link inside the directory does not lead the write out of it: the agent checks the real path.
    const elsewhere = await mkdtemp(join(tmpdir(), "pier-outside-"));
    try {
      await mkdir(backups, { recursive: true });
      await symlink(elsewhere, join(backups, "escape"));
      const res = await api(`${server()}/images/save`, {
        token: owner.token,
        body: { image_name: "my-project-backup-v1", file_path: `${backups}/escape/x.tar` },
      });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ message: expect.stringMatching(/leads outside \/backups.* through a symbolic link/) });
      await expect(stat(join(elsewhere, "x.tar"))).rejects.toThrow();
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("runs the document's weekly-cleanup.sh unchanged: image prune, then system prune without volumes", async () => {
    // Something for each prune to find: a dangling image and a stopped container.
    const scratch = `devflow-scratch-${tag}`;
    await engine.docker("run", "--name", scratch, TEST_IMAGE, "sh", "-c", "echo one > /one");
    await engine.docker("commit", scratch, `devflow-dangling-${tag}:1`);
    const dangling = await engine.docker("image", "inspect", "-f", "{{.Id}}", `devflow-dangling-${tag}:1`);
    await engine.docker("commit", scratch, `devflow-dangling-${tag}:1`);
    const volume = `devflow-keep-${tag}`;
    await engine.docker("volume", "create", volume);

    const stdout = await runScript(dir, "weekly-cleanup.sh", {
      'SERVER_ID="1"': `SERVER_ID="${host.id}"`,
      'API_URL="https://devflow.example.com/api"': `API_URL="${pierUrl()}/api"`,
      'TOKEN="your_token_here"': `TOKEN="${devflowToken}"`,
    });
    expect(stdout.startsWith("Starting weekly cleanup...\n")).toBe(true);
    expect(stdout.trimEnd().endsWith("Cleanup completed!")).toBe(true);
    const [images, system] = jsonBodies(stdout);
    expect(images).toEqual({ success: true, output: expect.stringMatching(/^Deleted Images:\n(.|\n)*Total reclaimed space: \d/) });
    expect(images.output).toContain(`deleted: ${dangling}`);
    expect(system).toEqual({ success: true, output: expect.stringMatching(/^Deleted Containers:\n(.|\n)*\nTotal reclaimed space: \d/) });
    await expect(engine.docker("inspect", scratch)).rejects.toThrow();
    await expect(engine.docker("image", "inspect", dangling)).rejects.toThrow();
    // What runs and what holds data stays: the project's container, the image it runs, the volume.
    expect(await engine.docker("inspect", "-f", "{{.State.Running}}", app.appName)).toBe("true");
    expect(await engine.docker("volume", "ls", "-q", "--filter", `name=${volume}`)).toBe(volume);

    // The same endpoint with volumes takes an admin.
    const withVolumes = await api(`${server()}/prune`, { token: member, body: { volumes: true } });
    expect(withVolumes.status).toBe(403);
    expect(withVolumes.body.message).toMatch(/admin/);
    const pruned = await api(`${server()}/prune`, { token: owner.token, body: { volumes: true } });
    expect(pruned.body.output).toMatch(new RegExp(`Deleted Volumes:\\n(.|\\n)*${volume}`));
  });

  it("runs the document's deploy-with-backup.sh unchanged: a backup image, then a deployment", async () => {
    const stdout = await runScript(dir, "deploy-with-backup.sh", {
      'PROJECT_ID="my-project"': `PROJECT_ID="${app.appName}"`,
      'API_URL="https://devflow.example.com/api"': `API_URL="${pierUrl()}/api"`,
      'TOKEN="your_token_here"': `TOKEN="${devflowToken}"`,
    });
    expect(stdout).toMatch(/^Creating backup\.\.\.\n/);
    expect(stdout.trimEnd().endsWith("Deployment initiated with backup!")).toBe(true);
    const [backup, deploy] = jsonBodies(stdout);
    expect(backup).toEqual({
      success: true,
      backup_name: expect.stringMatching(/^pre-deploy-\d{8}-\d{6}$/),
      image_id: expect.stringMatching(/^sha256:/),
    });
    expect(await engine.docker("image", "inspect", "-f", "{{.Id}}", backup.backup_name)).toBe(backup.image_id);
    expect(deploy).toEqual({ message: "Deployment triggered successfully", deployment_id: expect.any(String) });
    expect(await waitDeployment(owner, deploy.deployment_id)).toMatchObject({ status: "succeeded", trigger: "devflow" });
    // The backup is the container as it was: it starts and serves what the application served.
    const restored = `devflow-restored-${tag}`;
    await engine.docker("run", "-d", "--name", restored, backup.backup_name);
    expect(
      await waitFor("the restored container to serve", () =>
        engine.docker("exec", restored, "cat", "/www/index.html").catch(() => undefined),
      ),
    ).toBe("devflow-app");
  });
});
