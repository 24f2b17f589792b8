// DevFlow Pro's Docker Management API (seed 003) end to end: its documented bodies and formats,
// through the Worker, the relay and a real agent, checked against the `docker` CLI. Engine-wide
// operations (prunes, and the document's weekly-cleanup.sh) run against a private engine of this
// file's own, so they cannot delete what other suites are using.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry } from "../fixtures/registry.ts";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  TEST_IMAGE,
  unique,
  waitForStatus,
  type Owner,
  type TestAgent,
} from "./client.ts";
import { waitDeployment } from "./deploy-helpers.ts";

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

async function addUser(owner: Owner, role: "viewer" | "member"): Promise<string> {
  const name = unique(role);
  await api("/api/v1/users", {
    token: owner.token,
    body: { username: name, email: `${name}@example.test`, password: `${role}-password`, role },
  });
  return (await api("/api/v1/auth/login", { body: { login: name, password: `${role}-password` } })).body.access_token;
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
  let host: Awaited<ReturnType<typeof newHost>>;
  let agent: TestAgent;
  let app: Awaited<ReturnType<typeof deployedApp>>;
  const server = () => `/api/servers/${host.id}/docker`;
  const project = () => `/api/projects/${app.appName}/docker`;

  beforeAll(async () => {
    owner = await newOwner("devflow");
    [member, viewer] = [await addUser(owner, "member"), await addUser(owner, "viewer")];
    host = await newHost(owner);
    agent = attachAgent(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    app = await deployedApp(owner, host.id, "shop");
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await docker("rm", "-f", app?.appName ?? "none").catch(() => undefined);
    for (const n of [`devflow-net-${tag}`, `pier-${app?.projectId}`]) await docker("network", "rm", n).catch(() => undefined);
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

  it("shows a Compose application's services, and nothing for a project that is not one", async () => {
    const status = await api(`${project()}/compose/status`, { token: viewer });
    expect(status.body).toEqual({ success: true, services: [] });
  });

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
