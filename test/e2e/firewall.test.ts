// Firewall groups (seed 004, issue 13) end to end: two servers on one network of a real host, and
// whether one reaches the other's httpd checked from inside its container before and after each
// change, made through the canonical API and 004's paths. The chains are checked with iptables.
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { promisify } from "node:util";
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

const iptables = async (...args: string[]) => (await promisify(execFile)("iptables", ["-w", "10", ...args])).stdout;

describe.skipIf(!dockerAvailable())("firewall groups on a real host", () => {
  const NET = `10.217.${randomInt(256)}`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  const servers: Record<"a" | "b", { id: string; name: string; ip: string }> = {
    a: { id: "", name: `fw-a-${randomInt(1e6)}`, ip: `${NET}.10` },
    b: { id: "", name: `fw-b-${randomInt(1e6)}`, ip: `${NET}.11` },
  };
  const container = (key: "a" | "b") => `srv-${servers[key].name}`;
  const chainOf = (key: "a" | "b") => `PIER-${servers[key].id.slice(4)}`;

  /** Whether B gets A's page (busybox nc inside B: a 2 s connect timeout). */
  const bReachesA = async () => {
    try {
      const out = await docker("exec", container("b"), "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${servers.a.ip} 8080`);
      return out.includes("pier test image");
    } catch {
      return false;
    }
  };
  const as = (token: string) => ({ token });

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
    for (const key of ["a", "b"] as const) {
      const s = servers[key];
      const res = await api("/api/v1/servers", {
        token: owner.token,
        body: {
          name: s.name,
          image: TEST_IMAGE,
          host_id: host.id,
          command: key === "a" ? ["httpd", "-f", "-p", "8080", "-h", "/www"] : ["sleep", "3600"],
          network: { subnet: `${NET}.0/24`, ip_address: s.ip },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const task = await taskEnd(owner.token, res.body.task_id, 180_000);
      expect(task.status, task.message).toBe("succeeded");
      s.id = (await api(`/api/v1/servers/${s.name}`, as(owner.token))).body.id;
    }
    await waitFor("B to reach A's httpd", bReachesA, { timeout: 60_000 });
  });

  afterAll(async () => {
    // Through the API first (the chains must go with the groups), then whatever is left, whatever
    // happened above: a leftover jump would drop traffic for the next container at that address.
    let leftover: string[] = [];
    try {
      for (const key of ["a", "b"] as const) {
        if (!servers[key].id) continue;
        const off = await api(`/api/v1/servers/${servers[key].id}/firewall-groups`, { method: "DELETE", token: owner.token });
        expect(off.status, JSON.stringify(off.body)).toBe(200);
        const res = await api(`/api/v1/servers/${servers[key].id}`, { method: "DELETE", token: owner.token });
        if (res.status === 202) await taskEnd(owner.token, res.body.task_id, 180_000);
      }
    } finally {
      await agent?.agent.stop();
      const chains = (["a", "b"] as const).filter((key) => servers[key].id).map(chainOf);
      const rules = await iptables("-S");
      leftover = chains.filter((chain) => rules.includes(chain));
      for (const chain of leftover) {
        for (const jump of rules.split("\n").filter((l) => l.startsWith("-A DOCKER-USER") && l.endsWith(`-j ${chain}`)))
          await iptables(...jump.replace(/^-A/, "-D").split(" "));
        await iptables("-F", chain);
        await iptables("-X", chain);
      }
      await docker("rm", "-f", container("a"), container("b")).catch(() => undefined);
      await docker("network", "rm", `pier-srv-${NET}.0-24`).catch(() => undefined);
    }
    expect(leftover).toEqual([]);
  });

  it("a deny-by-default group cuts B off, an allow rule for B's address lets it back, removing the group opens it again", async () => {
    expect(await bReachesA()).toBe(true);
    const created = await api("/api/v1/firewall-groups", {
      token: owner.token,
      body: { name: "lockdown", description: "nothing in unless allowed", default_inbound: "deny" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: "lockdown", default_inbound: "deny", default_outbound: "allow", rules: [], servers: [] });

    const applied = await api(`/api/v1/servers/${servers.a.name}/firewall-groups`, { token: owner.token, body: { groups: ["lockdown"] } });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body).toMatchObject({
      server_id: servers.a.id,
      groups: [{ name: "lockdown" }],
      default_inbound: "deny",
      chain: chainOf("a"),
      state: { status: "applied", addresses: [servers.a.ip] },
    });
    expect(await iptables("-S", "DOCKER-USER")).toContain(`-d ${servers.a.ip}/32 -j ${chainOf("a")}`);
    expect(await bReachesA()).toBe(false);

    // 004's rule path, in a security-group client's words.
    const rule = await api("/api/firewall/groups/lockdown/rules", {
      token: owner.token,
      body: { direction: "inbound", protocol: "tcp", port: "8080", source: servers.b.ip, action: "ACCEPT", description: "B may" },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body).toMatchObject({
      success: true,
      data: { rule: { direction: "in", protocol: "tcp", port: "8080", cidr: `${servers.b.ip}/32`, action: "allow", position: 1 } },
      pushed: [{ server_id: servers.a.id, status: "applied" }],
    });
    expect(await bReachesA()).toBe(true);

    const removed = await api(`/api/remove_firewall_group/${servers.a.name}`, { token: owner.token, body: { group_name: "lockdown" } });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toMatchObject({ success: true, data: { groups: [], state: { status: "removed" } } });
    expect(await iptables("-S")).not.toContain(chainOf("a"));
    expect(await bReachesA()).toBe(true);
  });

  it("rules follow A when it restarts, and a deny rule inserted first wins over the allow", async () => {
    const res = await api(`/api/apply_security_group/${servers.a.name}`, { token: owner.token, body: { group_name: "lockdown" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await bReachesA()).toBe(true);
    const group = (await api("/api/v1/firewall-groups/lockdown", as(owner.token))).body;
    const deny = await api(`/api/v1/firewall-groups/${group.id}/rules`, {
      token: owner.token,
      body: { direction: "in", protocol: "all", cidr: `${NET}.0/24`, action: "deny", position: 1 },
    });
    expect(deny.status, JSON.stringify(deny.body)).toBe(201);
    expect(deny.body.group.rules.map((r: { action: string }) => r.action)).toEqual(["deny", "allow"]);
    expect(await bReachesA()).toBe(false);

    await docker("restart", "-t", "1", container("a"));
    // The agent rebuilt the chain's jumps for A's address after the restart (events), so B stays out
    // while A's httpd answers from inside A.
    await waitFor("A's httpd to be back", async () =>
      (await docker("exec", container("a"), "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 8080")).includes(
        "pier test image",
      ),
    );
    await waitFor("the jumps for A's address", async () =>
      (await iptables("-S", "DOCKER-USER")).includes(`-d ${servers.a.ip}/32 -j ${chainOf("a")}`),
    );
    expect(await bReachesA()).toBe(false);

    const gone = await api(`/api/firewall/groups/lockdown/rules/${deny.body.rule.id}`, { method: "DELETE", token: owner.token });
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    expect(await bReachesA()).toBe(true);
  });

  it("004's group paths, bulk assignment, and who may do what", async () => {
    const saved = await api("/api/firewall/groups", {
      token: owner.token,
      body: { name: "web", description: "web", rules: [{ direction: "ingress", protocol: "tcp", port_range: "80-443", action: "allow" }] },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body).toMatchObject({ success: true, message: "Firewall group created.", data: { name: "web", rule_count: 1 } });
    const again = await api("/api/firewall/groups", { token: owner.token, body: { name: "web", description: "web servers" } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ message: "Firewall group updated.", data: { description: "web servers", rule_count: 1 } });

    const bulk = await api("/api/firewall/assign_bulk", {
      token: owner.token,
      body: { server_names: [servers.a.name, servers.b.name, "no-such-server"], group_name: "web" },
    });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    expect(bulk.body.data).toMatchObject({ succeeded: 2, failed: 1 });
    expect(bulk.body.data.results[2]).toMatchObject({ server: "no-such-server", ok: false, status: 404 });
    const list = await api("/api/firewall/groups", as(member));
    expect(list.status).toBe(200);
    const web = list.body.data.find((g: { name: string }) => g.name === "web");
    expect(web.servers.map((s: { name: string }) => s.name).sort()).toEqual([servers.a.name, servers.b.name].sort());

    // Members and viewers read; only admins (manage_firewall) change.
    expect((await api("/api/v1/firewall-groups", as(viewer))).status).toBe(200);
    const refused = await api("/api/v1/firewall-groups", { token: member, body: { name: "mine" } });
    expect(refused.status).toBe(403);
    const refused004 = await api(`/api/apply_security_group/${servers.b.name}`, { token: viewer, body: { group_name: "web" } });
    expect(refused004.status).toBe(403);
    expect(refused004.body).toMatchObject({ success: false });

    // Bad input is a 422 naming the field; unknown names are 404s; a taken name is a 409.
    const badPort = await api("/api/v1/firewall-groups/web/rules", {
      token: owner.token,
      body: { direction: "in", protocol: "icmp", port: 22 },
    });
    expect(badPort.status).toBe(422);
    expect(badPort.body.errors[0]).toMatchObject({ pointer: "/body/port" });
    const badCidr = await api("/api/firewall/groups/web/rules", {
      token: owner.token,
      body: { direction: "in", source: "fe80::1", action: "deny" },
    });
    expect(badCidr.status).toBe(422);
    expect(badCidr.body).toMatchObject({ success: false });
    expect((await api("/api/firewall/groups/nope", as(owner.token))).status).toBe(404);
    expect((await api(`/api/apply_security_group/${servers.a.name}`, { token: owner.token, body: { group_name: "nope" } })).status).toBe(
      404,
    );
    expect((await api("/api/v1/firewall-groups", { token: owner.token, body: { name: "web" } })).status).toBe(409);

    // Deleting the group takes its rules off both servers at once.
    const deleted = await api("/api/firewall/groups/web", { method: "DELETE", token: owner.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.pushed.map((p: { status: string }) => p.status)).toEqual(expect.arrayContaining(["applied", "removed"]));
    expect(await iptables("-S")).not.toContain(chainOf("b"));

    const auditActions = (await api("/api/v1/audit-events?limit=100", as(owner.token))).body.audit_events.map(
      (e: { action: string }) => e.action,
    );
    expect(auditActions).toEqual(
      expect.arrayContaining(["firewall_group.create", "firewall_rule.create", "server.firewall_assign", "firewall_group.delete"]),
    );
  });

  it("another organization's groups and servers do not exist for it", async () => {
    const other = await newOwner("fw-other");
    expect((await api("/api/v1/firewall-groups/lockdown", as(other.token))).status).toBe(404);
    expect((await api("/api/firewall/groups/lockdown", as(other.token))).status).toBe(404);
    expect((await api(`/api/v1/servers/${servers.a.id}/firewall-groups`, as(other.token))).status).toBe(404);
    const theirs = await api("/api/v1/firewall-groups", { token: other.token, body: { name: "lockdown" } });
    expect(theirs.status).toBe(201);
    expect(
      (await api(`/api/apply_security_group/${servers.a.name}`, { token: other.token, body: { group_name: "lockdown" } })).status,
    ).toBe(404);
  });
});
