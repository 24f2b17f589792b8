// Issue 13's scenario through the server manager documents' own paths and bodies (seeds 002 and
// 004), on one stack with two hosts (two agents on the one engine): three servers bulk-created
// with addresses from an ip_range (a fourth fails and is cleaned up), stopped and started in bulk
// as tasks polled the way the documents poll them, a role's default firewall group cutting one
// server off for real and its chain going with the role and with the server, a backup restored
// onto the other host, the sampling interval pushed to the agents, system status and logs,
// monitoring status and the Prometheus exposition. firewall.test.ts proves groups applied by hand,
// servers.test.ts the canonical lifecycle; the [iam] lane's test the project-scoped member.
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { promisify } from "node:util";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
} from "./client.ts";
import { removeProject } from "./deploy-helpers.ts";

const iptables = async (...args: string[]) => (await promisify(execFile)("iptables", ["-w", "10", ...args])).stdout;
const ENDED = ["succeeded", "failed", "cancelled"];
// httpd as PID 1 ignores SIGTERM, and each stop (a bulk stop, a role's recreate, a restore) would
// wait Docker's 10 s for it: a shell that exits on TERM keeps the walk quick.
const HTTPD = ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"];

describe.skipIf(!dockerAvailable())("the server manager documents, walked end to end", () => {
  const NET = `10.219.${randomInt(256)}`;
  const tag = unique("w")
    .replace(/[^a-z0-9]/gi, "")
    .slice(-8);
  const name = (n: string) => `${n}-${tag}`;
  const names = { w1: name("web1"), w2: name("web2"), w3: name("fw3"), bad: name("bad"), b1: name("onb") };
  const roles = { web: name("walkweb"), fw: name("walkfw") };
  const group = name("closed");
  let owner: Owner;
  let projectId: string | undefined;
  let vaultApp: { id: string; app_name: string } | undefined;
  let hostA: NewHost;
  let hostB: NewHost;
  const agents: Record<"a" | "b", TestAgent | undefined> = { a: undefined, b: undefined };
  const ids: Record<string, { id: string; alias: number; ip: string | null }> = {};
  const as = () => ({ token: owner.token });

  /** 002's poll: GET /api/tasks/{task_id} until it ends. */
  const task002 = (id: string) =>
    waitFor(
      `task ${id} to end (002)`,
      async () => {
        const res = await api(`/api/tasks/${id}`, as());
        return ENDED.includes(res.body?.status) ? res.body : undefined;
      },
      { timeout: 240_000 },
    );
  /** 004's poll: GET /api/tasks/<task_id>/status until it ends. */
  const task004 = (id: string) =>
    waitFor(
      `task ${id} to end (004)`,
      async () => {
        const res = await api(`/api/tasks/${id}/status`, as());
        return ENDED.includes(res.body?.data?.status) ? res.body.data : undefined;
      },
      { timeout: 240_000 },
    );
  const state = (n: string) => docker("inspect", "-f", "{{.State.Status}}", `srv-${n}`);
  /** Whether `from` gets `to`'s page (busybox nc inside `from`: a 2 s connect timeout). */
  const reaches = async (from: string, ip: string) => {
    try {
      const out = await docker("exec", `srv-${from}`, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 8080`);
      return out.includes("pier test image");
    } catch {
      return false;
    }
  };
  const chainOf = (serverId: string) => `PIER-${serverId.slice(4)}`;

  beforeAll(async () => {
    owner = await newOwner("walk");
    // Samples reach the database when the agent flushes them (every 60 s by default): the walk
    // waits on web1's samples in the health summary, so its agents flush every second.
    const agent = { metricsFlushMs: 1000 };
    ({ host: hostA, agent: agents.a } = await onlineHost(owner, { agent }));
    ({ host: hostB, agent: agents.b } = await onlineHost(owner, { agent }));
    // The documents' roles are catalog templates: two on the test image, one naming a group that
    // refuses every inbound connection (004's group body).
    const closed = await api("/api/firewall/groups", {
      ...as(),
      body: { name: group, description: "nothing in", default_inbound: "deny", rules: [] },
    });
    expect(closed.status, JSON.stringify(closed.body)).toBe(201);
    for (const [role, groups] of [
      [roles.web, []],
      [roles.fw, [group]],
    ] as const) {
      const res = await api("/api/v1/server-roles", {
        ...as(),
        body: { name: role, image: TEST_IMAGE, command: HTTPD, firewall_groups: groups },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  }, 300_000);

  afterAll(async () => {
    // The vault step's project, deleted through Pier while host A is online: its application's
    // container, image tag and the project's network go with it (the CLI's clean-up below is for
    // a step that failed).
    if (owner) await removeProject(as(), projectId, [vaultApp]);
    for (const agent of [agents.a, agents.b]) await agent?.agent.stop().catch(() => undefined);
    // Whatever a failed step left: the chains (a leftover jump would drop the next container's
    // traffic at that address), the organization's containers, volumes and the subnet's network.
    const rules = await iptables("-S").catch(() => "");
    for (const { id } of Object.values(ids)) {
      const chain = chainOf(id);
      if (!rules.includes(chain)) continue;
      for (const jump of rules.split("\n").filter((l) => l.startsWith("-A DOCKER-USER") && l.endsWith(`-j ${chain}`)))
        await iptables(...jump.replace(/^-A/, "-D").split(" ")).catch(() => undefined);
      await iptables("-F", chain).catch(() => undefined);
      await iptables("-X", chain).catch(() => undefined);
    }
    const label = `label=dev.pier.org=${owner?.organizationId}`;
    const containers = await docker("ps", "-aq", "--filter", label).catch(() => "");
    if (containers) await docker("rm", "-f", ...containers.split("\n")).catch(() => undefined);
    for (const v of (await docker("volume", "ls", "-q").catch(() => "")).split("\n").filter((n) => n.includes(tag)))
      await docker("volume", "rm", "-f", v).catch(() => undefined);
    await docker("network", "rm", `pier-srv-${NET}.0-24`).catch(() => undefined);
  });

  it("bulk-creates servers with addresses from the range in order; the one that fails is the only failed one", async () => {
    // More cores than the host has is refused at the request, naming the host's count (its agent's hello).
    const greedy = await api("/api/servers/create", { ...as(), body: { name: names.bad, role: roles.web, cpu: 512 } });
    expect(greedy.status, JSON.stringify(greedy.body)).toBe(422);
    expect(greedy.body.error).toMatchObject({
      details: { field: "cpu", reason: expect.stringMatching(/asks for 512 CPU cores, but host .* has \d+/) },
    });
    // 002's body: servers plus a network_config with an ip_range; the last names an image no registry
    // has (`.invalid` never resolves), so it fails when the task pulls it.
    const res = await api("/api/servers/bulk-create", {
      ...as(),
      body: {
        servers: [
          { name: names.w1, role: roles.web, cpu: 1, memory: 256, disk_size: 1 },
          { name: names.w2, role: roles.web, cpu: 1, memory: 256, disk_size: 1 },
          { name: names.w3, role: roles.fw, cpu: 1, memory: 256, disk_size: 1 },
          { name: names.bad, role: roles.web, image: "registry.pier.invalid/nothing:1", cpu: 1, memory: 256, disk_size: 1 },
        ],
        network_config: { ip_range: `${NET}.21-${NET}.30`, subnet: "24", gateway: `${NET}.1` },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ success: true, task_id: expect.any(String) });
    expect(res.body.servers.map((s: { ip_address: string }) => s.ip_address)).toEqual([21, 22, 23, 24].map((n) => `${NET}.${n}`));
    const task = await task002(res.body.task_id);
    expect(Object.keys(task)).toEqual(expect.arrayContaining(["task_id", "status", "progress", "message", "created_at", "updated_at"]));
    expect(task).toMatchObject({ task_id: res.body.task_id, status: "failed", progress: 100 });
    expect(task.message).toMatch(new RegExp(`1 of 4 failed \\(${names.bad}:`));

    // 002's list: the documents' shape, numeric ids, the addresses handed out.
    const list = await api("/api/servers", as());
    expect(list.body.total).toBe(4);
    for (const s of list.body.servers) ids[s.name] = { id: s.server_id, alias: s.id, ip: s.ip_address };
    expect(list.body.servers.find((s: { name: string }) => s.name === names.w1)).toMatchObject({
      id: expect.any(Number),
      ip_address: `${NET}.21`,
      role: roles.web,
      status: "running",
      cpu: 1,
      memory: 256,
      disk_size: 1,
      node: hostA.name,
    });

    // 004's cleanup: only the server that failed is failed; cleaned, it is gone with its leftovers.
    const failed = await api("/api/cleanup/failed-servers", as());
    expect(failed.body.data.map((s: { name: string }) => s.name)).toEqual([names.bad]);
    const clean = await api(`/api/cleanup/clean/${names.bad}`, { ...as(), method: "POST" });
    expect(clean.status, JSON.stringify(clean.body)).toBe(202);
    expect((await task004(clean.body.data.task_id)).status).toBe("succeeded");
    expect((await api(`/api/cleanup/status/${names.bad}`, as())).status).toBe(404);
    expect((await api("/api/cleanup/failed-servers", as())).body.data).toEqual([]);
  }, 300_000);

  it("stops and starts servers in bulk as tasks (004's bulk_action)", async () => {
    const bulk = [names.w1, names.w2];
    const stop = await api("/api/servers/bulk_action", { ...as(), body: { server_names: bulk, action: "stop" } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    expect(await task004(stop.body.data.task_id)).toMatchObject({ status: "succeeded", progress: 100 });
    expect([await state(names.w1), await state(names.w2)]).toEqual(["exited", "exited"]);
    const start = await api("/api/servers/bulk_action/async", { ...as(), body: { server_names: bulk, action: "start" } });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    expect((await task004(start.body.data.task_id)).status).toBe("succeeded");
    expect([await state(names.w1), await state(names.w2)]).toEqual(["running", "running"]);
    const brief = (await api("/api/servers/brief", as())).body.data;
    expect(brief.filter((s: { name: string }) => bulk.includes(s.name)).map((s: { status: string }) => s.status)).toEqual([
      "running",
      "running",
    ]);
  }, 300_000);

  it("a role's default firewall group cuts its server off from the start, goes with the role, and its chain goes with the server", async () => {
    const w3 = ids[names.w3]!;
    await waitFor("web2 to reach web1", () => reaches(names.w2, ids[names.w1]!.ip!), { timeout: 60_000 });
    expect(await reaches(names.w2, w3.ip!)).toBe(false);
    expect(await iptables("-S")).toContain(chainOf(w3.id));
    const fw = await api(`/api/v1/servers/${w3.id}/firewall-groups`, as());
    expect(fw.body).toMatchObject({ groups: [{ name: group }], state: { status: "applied" } });

    // 004: the role removed, the server is recreated without its group: reachable.
    const removed = await api(`/api/remove_role/${names.w3}`, { ...as(), method: "POST" });
    expect(removed.status, JSON.stringify(removed.body)).toBe(202);
    // One task at a time per server: a stop while the recreate runs is refused.
    const busy = await api(`/api/servers/${names.w3}/stop`, { ...as(), method: "POST" });
    expect(busy.status, JSON.stringify(busy.body)).toBe(409);
    expect(busy.body).toMatchObject({ success: false, error: expect.stringContaining(removed.body.data.task_id) });
    expect((await task004(removed.body.data.task_id)).status).toBe("succeeded");
    await waitFor("web2 to reach fw3 once its role is gone", () => reaches(names.w2, w3.ip!), { timeout: 60_000 });
    // Assigned again, cut off again.
    const assigned = await api(`/api/assign_role/${names.w3}`, { ...as(), body: { role: roles.fw } });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(202);
    expect((await task004(assigned.body.data.task_id)).status).toBe("succeeded");
    expect(await reaches(names.w2, w3.ip!)).toBe(false);

    // 002: deleted by its numeric id; its chain leaves the host with it.
    const del = await api(`/api/servers/${w3.alias}`, { ...as(), method: "DELETE" });
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body).toMatchObject({ success: true, task_id: expect.any(String) });
    expect((await task002(del.body.task_id)).status).toBe("succeeded");
    expect(await iptables("-S")).not.toContain(chainOf(w3.id));
  }, 300_000);

  it("backs a server up on one host and restores it onto a server on the other", async () => {
    const onB = await api("/api/servers", { ...as(), body: { name: names.b1, role: roles.web, node: hostB.name } });
    expect(onB.status, JSON.stringify(onB.body)).toBe(202);
    expect((await task004(onB.body.data.task_id)).status).toBe("succeeded");
    const b1 = (await api(`/api/server_status/${names.b1}`, as())).body.data;
    ids[names.b1] = { id: b1.server_id, alias: b1.id, ip: b1.ip_address };
    expect(b1).toMatchObject({ node: hostB.name, status: "running" });
    await docker("exec", `srv-${names.w1}`, "sh", "-c", "echo precious > /data/file.txt");
    await docker("exec", `srv-${names.b1}`, "sh", "-c", "echo other > /data/file.txt");

    // 004: back web1 up by name, then restore it over the server on host B.
    const started = await api(`/api/server/backup/${names.w1}`, { ...as(), method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const backupId = started.body.data.backup_id as string;
    expect((await task004(started.body.data.task_id)).status).toBe("succeeded");
    // 004's lists by server and by node, and 002's, in its shape.
    expect((await api(`/api/server/backups/${names.w1}`, as())).body).toMatchObject({
      success: true,
      data: [{ backup_id: backupId, status: "completed", node: hostA.name }],
    });
    expect((await api(`/api/backups/nodes/${hostA.name}`, as())).body).toMatchObject({
      success: true,
      data: { node: hostA.name, total: 1, backups: [{ backup_id: backupId }] },
    });
    expect((await api("/api/backups", as())).body).toEqual({
      backups: [
        expect.objectContaining({
          id: 1,
          server_id: ids[names.w1]!.alias,
          server_name: names.w1,
          backup_id: backupId,
          status: "completed",
          size: expect.stringMatching(/^\d+(\.\d+)?[kMGT]?B$/),
          created_at: expect.any(String),
        }),
      ],
      total: 1,
    });
    const restore = await api("/api/backups/restore", { ...as(), body: { backup_id: backupId, target_server: names.b1 } });
    expect(restore.status, JSON.stringify(restore.body)).toBe(202);
    const restored = await task004(restore.body.data.task_id);
    expect(restored.status, JSON.stringify(restored)).toBe("succeeded");
    const file = await waitFor(
      "the server on host B to run again",
      async () => (await docker("exec", `srv-${names.b1}`, "cat", "/data/file.txt").catch(() => "")) || undefined,
      { timeout: 60_000 },
    );
    expect(file).toBe("precious");

    // 002: over web1 itself only with overwrite; deleted by its id.
    const refused = await api(`/api/backups/${backupId}/restore`, {
      ...as(),
      body: { target_server_id: ids[names.w1]!.alias, overwrite: false },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "CONFLICT", message: expect.stringMatching(/overwrite/) } });
    expect((await api(`/api/backups/${backupId}`, { ...as(), method: "DELETE" })).body).toMatchObject({ success: true });
    expect((await api("/api/backups", as())).body).toEqual({ backups: [], total: 0 });
  }, 300_000);

  it("pushes the sampling interval to the agents, and reports system, health, monitoring and Prometheus metrics", async () => {
    // 004's monitoring config: the interval reaches both agents for real (their own log says so).
    const config = await api("/api/monitoring/config", { ...as(), body: { sample_interval_seconds: 2 } });
    expect(config.status, JSON.stringify(config.body)).toBe(200);
    for (const agent of [agents.a!, agents.b!])
      await waitFor("the agent to apply the interval", () =>
        agent.logs.some((r) => r.event === "metrics sampling interval set" && r.interval_ms === 2000),
      );
    const web1 = `srv-${names.w1}`;
    // With samples every 2 s, web1's container metrics arrive; the health summary lists the servers after the hosts.
    const health = await waitFor("web1's metrics in the health summary", async () => {
      const body = (await api("/api/servers/health-summary", as())).body;
      const w = body.data.servers.find((s: { name: string }) => s.name === names.w1);
      return w?.cpu_usage !== null && w?.cpu_usage !== undefined ? body.data : undefined;
    });
    expect(
      health.servers
        .filter((s: { type: string }) => s.type === "node")
        .map((s: { name: string }) => s.name)
        .sort(),
    ).toEqual([hostA.name, hostB.name].sort());
    expect(health.servers.find((s: { name: string }) => s.name === names.w1)).toMatchObject({
      type: "server",
      health: "healthy",
      ip_address: `${NET}.21`,
    });

    // 002's vault, in the document's body (the secret's fields themselves), referenced from an
    // application's environment: the deployed container gets the value, the stored env the reference.
    const stored = await api("/api/vault/secrets/secret/ssh", {
      ...as(),
      body: { private_key: "-----BEGIN OPENSSH PRIVATE KEY-----", public_key: `ssh-rsa ${tag}` },
    });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    const project = await api("/api/v1/projects", { ...as(), body: { name: `walk-${tag}` } });
    projectId = project.body.id;
    const app = await api("/api/v1/applications", {
      ...as(),
      body: {
        project_id: project.body.id,
        name: "vault ref",
        app_name: name("vaultapp"),
        host_id: hostA.id,
        image: TEST_IMAGE,
        pull_policy: "never",
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
        environment: { SSH_PUBLIC_KEY: "${vault:secret/ssh#public_key}" },
      },
    });
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    vaultApp = app.body;
    const deployment = await api(`/api/v1/applications/${app.body.id}/deployments`, { ...as(), method: "POST" });
    expect(deployment.status, JSON.stringify(deployment.body)).toBe(202);
    const deployed = await waitFor(
      "the deployment to end",
      async () => {
        const d = (await api(`/api/v1/deployments/${deployment.body.id}`, as())).body;
        return ENDED.includes(d?.status) ? d : undefined;
      },
      { timeout: 120_000 },
    );
    expect(deployed.status, JSON.stringify(deployed)).toBe("succeeded");
    const envs = await docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", name("vaultapp"));
    expect(envs.split("\n")).toContain(`SSH_PUBLIC_KEY=ssh-rsa ${tag}`);

    // 002's system status and logs: both agents, and the failed create among the errors.
    const status = (await api("/api/system/status", as())).body;
    expect(status).toMatchObject({ system: { status: "healthy" }, services: { vault: "running" }, agents: { total: 2, online: 2 } });
    const logs = (await api("/api/system/logs?level=error&limit=100", as())).body;
    expect(logs.logs.some((l: { level: string; message: string }) => l.level === "error" && l.message.includes(names.bad))).toBe(true);

    // The exposition parses, and carries web1's container besides the hosts.
    const text = await api("/api/v1/metrics/prometheus", as());
    expect(text.status).toBe(200);
    const families = parsePrometheusTextFormat(text.body as string);
    expect(families.length).toBeGreaterThan(0);
    const labels = families.flatMap((f) => f.metrics.map((m) => m.labels ?? {}));
    expect(labels.some((l) => Object.values(l).includes(web1) || Object.values(l).includes(names.w1))).toBe(true);
    expect(labels.some((l) => Object.values(l).includes(hostB.name))).toBe(true);

    // 002's monitoring status: an agent that goes away is an inactive node exporter.
    expect((await api("/api/monitoring/status", as())).body.node_exporters).toEqual({ total: 2, active: 2, inactive: 0 });
    const bulkDelete = await api("/api/servers/bulk-delete", {
      ...as(),
      body: { server_ids: [ids[names.w1]!.alias, ids[names.w2]!.alias, ids[names.b1]?.alias].filter(Boolean) },
    });
    expect(bulkDelete.status, JSON.stringify(bulkDelete.body)).toBe(200);
    expect((await task002(bulkDelete.body.task_id)).status).toBe("succeeded");
    expect((await api("/api/servers", as())).body).toMatchObject({ servers: [], total: 0 });
    await agents.b!.agent.stop();
    agents.b = undefined;
    await waitFor("an inactive node exporter", async () => {
      const m = (await api("/api/monitoring/status", as())).body.node_exporters;
      return m.inactive === 1 ? m : undefined;
    });
    expect((await api("/api/monitoring/status", as())).body.node_exporters).toEqual({ total: 2, active: 1, inactive: 1 });
  }, 300_000);
});
