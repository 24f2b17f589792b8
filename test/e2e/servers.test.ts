// Servers (seeds 002/004, issue 13) end to end: the documents' curl examples against `npm start`
// with a real agent and the real Docker engine, checked with the `docker` CLI. Servers run the
// busybox test image from roles this suite adds (the built-in roles name public images, which
// cannot be pulled here). Everything is labelled with this organization's id and removed after.
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  waitFor,
  withRoles,
} from "./client.ts";

interface Inspect {
  Id: string;
  State: { Running: boolean; Status: string };
  HostConfig: { NanoCpus: number; Memory: number };
  Config: { Labels: Record<string, string>; Hostname: string };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
  Mounts: Array<{ Name?: string; Destination: string }>;
}

const inspect = async (name: string): Promise<Inspect> => JSON.parse(await docker("inspect", name))[0];
const exists = async (kind: "container" | "volume" | "network", name: string) =>
  docker(kind, "inspect", name).then(
    () => true,
    () => false,
  );

/**
 * A task's guard, and each case's: a case runs a few tasks of a few containers each, which take
 * seconds on a quiet machine and have taken minutes on one loaded by other suites.
 */
const TASK_WAIT_MS = 300_000;
const CASE_MS = 900_000;

describe.skipIf(!dockerAvailable())("servers (seeds 002/004) on a real host", () => {
  // A subnet of this run's own, outside Docker's default pools.
  const NET = `10.215.${randomInt(256)}`;
  const network = `pier-srv-${NET}.0-24`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  const names = ["web-server-01", "web-server-02", "was-server-01"] as const;
  const container = (name: string) => `srv-${name}`;

  /** A task started by a seed path, followed at 002's task path until it ends. */
  const finished = async (taskId: string) => {
    const t = await taskEnd(owner.token, taskId, TASK_WAIT_MS);
    expect(t.status, t.message).toBe("succeeded");
    return t;
  };

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
    // Two roles on the test image: a web server serving its data volume at /srv, and another that
    // mounts the volume at /data, to show an assignment keeps the data whatever the path.
    for (const [name, dataPath] of [
      ["e2e-web", "/srv"],
      ["e2e-alt", "/data"],
    ] as const) {
      const res = await api("/api/v1/server-roles", {
        token: owner.token,
        body: {
          name,
          image: TEST_IMAGE,
          // httpd as PID 1 would ignore the stop signal (Docker then waits 10 s and kills it): the shell ends on it.
          command: ["sh", "-c", `trap 'exit 0' TERM; httpd -f -p 80 -h ${dataPath} & wait`],
          ports: [{ container_port: 80 }],
          data_path: dataPath,
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });

  afterAll(async () => {
    await agent?.agent.stop();
    const label = `dev.pier.org=${owner?.organizationId}`;
    const ids = await docker("ps", "-aq", "--filter", `label=${label}`);
    if (ids) await docker("rm", "-f", ...ids.split("\n"));
    for (const v of (await docker("volume", "ls", "-q", "--filter", `label=${label}`)).split("\n").filter(Boolean))
      await docker("volume", "rm", "-f", v);
    if (await exists("network", network)) await docker("network", "rm", network);
  }, CASE_MS);

  it(
    "bulk-creates three servers with addresses from the range, limits and labels on the engine; lists them in 002's and 004's shapes",
    async () => {
      // Seed 002, "대량 서버 생성", with this run's subnet.
      const res = await api("/api/servers/bulk-create", {
        token: member,
        body: {
          servers: [
            { name: names[0], role: "e2e-web", cpu: 0.5, memory: 64, disk_size: 1 },
            { name: names[1], role: "e2e-web", cpu: 0.5, memory: 64, disk_size: 1 },
            { name: names[2], role: "e2e-web", cpu: 1, memory: 96, disk_size: 2 },
          ],
          network_config: { ip_range: `${NET}.21-${NET}.30`, subnet: "24", gateway: `${NET}.1` },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ success: true, task_id: expect.stringMatching(/^tsk_/) });
      // 002's task path, in its shape.
      const t = await api(`/api/tasks/${res.body.task_id}`, { token: member });
      expect(t.body).toMatchObject({ task_id: res.body.task_id, status: expect.any(String), progress: expect.any(Number) });
      const done = await finished(res.body.task_id);
      expect(done.result.items.map((i: { name: string }) => i.name)).toEqual(names);

      for (const [i, name] of names.entries()) {
        const c = await inspect(container(name));
        expect(c.State.Running).toBe(true);
        expect(c.NetworkSettings.Networks[network]?.IPAddress).toBe(`${NET}.${21 + i}`);
        expect(c.HostConfig.NanoCpus).toBe(i === 2 ? 1e9 : 5e8);
        expect(c.HostConfig.Memory).toBe((i === 2 ? 96 : 64) * 1024 * 1024);
        expect(c.Config.Hostname).toBe(name);
        expect(c.Config.Labels).toMatchObject({
          "dev.pier.kind": "server",
          "dev.pier.org": owner.organizationId,
          "dev.pier.managed": "true",
        });
        expect(c.Mounts.find((m) => m.Destination === "/srv")?.Name).toMatch(new RegExp(`^srv-${name}-.*-data$`));
      }

      // The shared list: 004's envelope with 002's `{servers, total}`.
      const list = await api("/api/servers", { token: viewer });
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ success: true, total: 3 });
      expect(list.body.servers).toEqual(list.body.data);
      expect(
        list.body.servers.map((s: { name: string; ip_address: string; status: string; id: number }) => [
          s.name,
          s.ip_address,
          s.status,
          s.id,
        ]),
      ).toEqual(names.map((n, i) => [n, `${NET}.${21 + i}`, "running", expect.any(Number)]));
      expect(list.body.servers[0]).toMatchObject({ role: "e2e-web", cpu: 0.5, memory: 64, disk_size: 1 });

      const brief = await api("/api/servers/brief", { token: viewer });
      expect(brief.body.data.map((s: { name: string }) => s.name)).toEqual(names);
      const all = await api("/api/all_server_status", { token: viewer });
      expect(all.body.data).toMatchObject({ total: 3, running: 3, stopped: 0 });
      // The canonical API finds a server by name, alias or address.
      const byIp = await api(`/api/v1/servers/${NET}.22`, { token: viewer });
      expect(byIp.body).toMatchObject({ name: names[1], ip_address: `${NET}.22`, network_name: network });
      const byAlias = await api(`/api/v1/servers/${byIp.body.alias}`, { token: viewer });
      expect(byAlias.body.id).toBe(byIp.body.id);
    },
    CASE_MS,
  );

  it(
    "stops and starts servers in bulk as tasks (004), and stops one with 002's status update",
    async () => {
      const stop = await api("/api/servers/bulk_action", { token: member, body: { action: "stop", server_names: names } });
      expect(stop.status, JSON.stringify(stop.body)).toBe(202);
      expect(stop.body).toMatchObject({ success: true, data: { task_id: expect.any(String), action: "stop" } });
      // 004's task path, in its envelope.
      const v2 = await api(`/api/tasks/${stop.body.data.task_id}/status`, { token: member });
      expect(v2.body).toMatchObject({ success: true, data: { task_id: stop.body.data.task_id } });
      await finished(stop.body.data.task_id);
      for (const name of names) expect((await inspect(container(name))).State.Running).toBe(false);
      expect((await api(`/api/server_status/${names[0]}`, { token: viewer })).body.data.status).toBe("stopped");

      const start = await api("/api/servers/bulk_action/async", { token: member, body: { action: "start", server_names: names } });
      await finished(start.body.data.task_id);
      for (const name of names) expect((await inspect(container(name))).State.Running).toBe(true);

      const one = (await api("/api/servers", { token: member })).body.servers[2];
      const put = await api(`/api/servers/${one.id}/status`, { token: member, method: "PUT", body: { status: "stopped" } });
      expect(put.body).toMatchObject({ success: true, task_id: expect.any(String) });
      await finished(put.body.task_id);
      expect((await inspect(container(names[2]))).State.Running).toBe(false);
      const again = await api(`/api/servers/${names[2]}/start`, { token: member, body: {} });
      await finished(again.body.data.task_id);
      expect((await inspect(container(names[2]))).State.Running).toBe(true);
    },
    CASE_MS,
  );

  it(
    "assigning a role recreates the server from the template, keeping its data volume and address; limits change live",
    async () => {
      const name = names[0];
      const before = await inspect(container(name));
      await docker("exec", container(name), "sh", "-c", "echo kept-across-roles > /srv/hello.txt");
      const res = await api(`/api/assign_role/${name}`, { token: member, body: { role: "e2e-alt" } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await finished(res.body.data.task_id);
      const after = await inspect(container(name));
      expect(after.Id).not.toBe(before.Id);
      expect(after.NetworkSettings.Networks[network]?.IPAddress).toBe(`${NET}.21`);
      expect(await docker("exec", container(name), "cat", "/data/hello.txt")).toBe("kept-across-roles");
      expect((await api(`/api/server/config/${name}`, { token: viewer })).body.data).toMatchObject({ role: "e2e-alt", status: "running" });

      const config = await api(`/api/server/config/${name}`, { token: member, method: "PUT", body: { cpu: 1, memory: 128 } });
      expect(config.status, JSON.stringify(config.body)).toBe(200);
      expect(config.body.data).toMatchObject({ cpu: 1, memory: 128, live: ["cpu", "memory_mb"], task_id: null });
      const live = await inspect(container(name));
      expect(live.Id).toBe(after.Id);
      expect(live.HostConfig).toMatchObject({ NanoCpus: 1e9, Memory: 128 * 1024 * 1024 });

      // A disk: another volume, mounted by a recreate; removed the same way.
      const disk = await api(`/api/server/disk/${name}`, { token: member, body: { size: 1, mount_path: "/mnt/extra" } });
      expect(disk.status, JSON.stringify(disk.body)).toBe(202);
      await finished(disk.body.data.task_id);
      expect((await inspect(container(name))).Mounts.map((m) => m.Destination).sort()).toEqual(["/data", "/mnt/extra"]);
      const removed = await api(`/api/server/disk/${name}/${disk.body.data.device}`, { token: member, method: "DELETE" });
      await finished(removed.body.data.task_id);
      expect((await inspect(container(name))).Mounts.map((m) => m.Destination)).toEqual(["/data"]);
      expect(await exists("volume", disk.body.data.volume)).toBe(false);
      expect(await docker("exec", container(name), "cat", "/data/hello.txt")).toBe("kept-across-roles");
    },
    CASE_MS,
  );

  it(
    "sync finds a container removed behind Pier's back and a labelled orphan; cleanup removes the failed server",
    async () => {
      const name = names[1];
      await docker("rm", "-f", container(name));
      await docker(
        "create",
        "--label",
        "dev.pier.server=srv_notours",
        "--label",
        `dev.pier.org=${owner.organizationId}`,
        TEST_IMAGE,
        "true",
      );
      const sync = await api("/api/sync_servers", { token: member, body: {} });
      expect(sync.status, JSON.stringify(sync.body)).toBe(200);
      expect(sync.body.data.missing).toEqual([name]);
      expect(sync.body.data.changes).toEqual([expect.objectContaining({ name, from: "running", to: "error" })]);
      expect(sync.body.data.orphans).toEqual([expect.objectContaining({ server_id: "srv_notours", host_id: host.id })]);

      const failed = await api("/api/cleanup/failed-servers", { token: viewer });
      expect(failed.body.data.map((f: { name: string }) => f.name)).toEqual([name]);
      expect((await api(`/api/cleanup/status/${names[2]}`, { token: viewer })).body.data.failed).toBe(false);
      const refused = await api(`/api/cleanup/clean/${names[2]}`, { token: member, body: {} });
      expect(refused.status).toBe(409);
      const volume = (await api(`/api/v1/servers/${name}`, { token: viewer })).body.volume_name;
      const clean = await api(`/api/cleanup/clean/${name}`, { token: member, body: {} });
      expect(clean.status, JSON.stringify(clean.body)).toBe(202);
      await finished(clean.body.data.task_id);
      expect((await api(`/api/v1/servers/${name}`, { token: viewer })).status).toBe(404);
      expect(await exists("volume", volume)).toBe(false);
    },
    CASE_MS,
  );

  it(
    "answers the documents' errors: duplicate name 409, bad ip_range 422, unknown role 404, viewer 403, another organization's server 404",
    async () => {
      const dup = await api("/api/servers/create", {
        token: member,
        body: { name: names[0], role: "e2e-web", cpu: 1, memory: 64, disk_size: 1 },
      });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ error: { code: "CONFLICT", message: expect.stringContaining(names[0]), details: {} } });

      const range = await api("/api/servers/bulk-create", {
        token: member,
        body: {
          servers: [{ name: "range-01", role: "e2e-web" }],
          network_config: { ip_range: `${NET}.30-${NET}.21`, subnet: "24", gateway: `${NET}.1` },
        },
      });
      expect(range.status).toBe(422);
      expect(range.body.error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "ip_range" } });

      const role = await api("/api/servers", { token: member, body: { name: "nope-01", role: "nosuchrole" } });
      expect(role.status).toBe(404);
      expect(role.body).toMatchObject({ success: false, error: expect.stringContaining("nosuchrole") });

      const asViewer = await api("/api/servers/create", { token: viewer, body: { name: "viewer-01", role: "e2e-web" } });
      expect(asViewer.status).toBe(403);
      expect(asViewer.body.error.code).toBe("FORBIDDEN");

      const stranger = await newOwner("stranger");
      expect((await api(`/api/server_status/${names[0]}`, { token: stranger.token })).status).toBe(404);
      expect((await api(`/api/servers/${names[0]}/stop`, { token: stranger.token, body: {} })).status).toBe(404);
      const id = (await api(`/api/v1/servers/${names[0]}`, { token: viewer })).body.id;
      expect((await api(`/api/v1/servers/${id}`, { token: stranger.token })).status).toBe(404);
      // Nothing was made for any of them.
      expect((await api("/api/servers", { token: viewer })).body.total).toBe(2);
    },
    CASE_MS,
  );

  it(
    "shows roles, datastores and the task runner; deletes servers with 002's paths, the data volume and the subnet's network with them",
    async () => {
      const available = await api("/api/roles/available", { token: viewer });
      expect(Object.keys(available.body.roles).sort()).toEqual(["db", "e2e-alt", "e2e-web", "was", "web"]);
      expect(available.body.roles.db).toMatchObject({
        image: "postgres:16",
        data_path: "/var/lib/postgresql/data",
        env_keys: ["POSTGRES_PASSWORD"],
      });
      expect((await api("/api/roles/validate/e2e-web", { token: viewer })).body.data).toMatchObject({ valid: true, exists: true });
      expect((await api("/api/roles/validate/nope", { token: viewer })).body.data).toMatchObject({ valid: false, exists: false });

      const stores = await api("/api/datastores", { token: viewer });
      const store = stores.body.data.find((d: { host_id: string }) => d.host_id === host.id);
      expect(store).toMatchObject({ available: true, storage_driver: expect.any(String), quota_supported: expect.any(Boolean) });
      expect(store.server_volumes.map((v: { server: string }) => v.server).sort()).toEqual([names[0], names[2]].sort());
      expect((await api("/api/celery/status", { token: viewer })).body.data).toMatchObject({
        engine: "pier-task-runner",
        counts: expect.any(Object),
      });

      const [first, last] = (await api("/api/servers", { token: member })).body.servers;
      const volumes = await Promise.all(
        [first, last].map(async (s) => (await api(`/api/v1/servers/${s.server_id}`, { token: member })).body.volume_name),
      );
      const del = await api(`/api/servers/${first.id}`, { token: member, method: "DELETE" });
      expect(del.body).toMatchObject({ success: true, task_id: expect.any(String) });
      await finished(del.body.task_id);
      expect(await exists("container", container(first.name))).toBe(false);
      expect(await exists("volume", volumes[0])).toBe(false);

      const bulk = await api("/api/servers/bulk-delete", { token: member, body: { server_ids: [last.id] } });
      await finished(bulk.body.task_id);
      expect(await exists("container", container(last.name))).toBe(false);
      expect(await exists("volume", volumes[1])).toBe(false);
      await waitFor("the subnet's network to go with its last server", async () => !(await exists("network", network)) || undefined);
      expect((await api("/api/servers", { token: member })).body.total).toBe(0);
    },
    CASE_MS,
  );
});
