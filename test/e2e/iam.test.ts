// IAM end to end (issue 13, seed 004): an admin limits a member to one of two projects, through
// 004's /api/iam paths and the canonical API, and the member's every surface (canonical, Dokploy's,
// 004's) shows that project's applications and servers only; a permission revoked or granted
// changes what the member may do to a real container. One organization, one host with a real
// agent, two tiny busybox servers; all labelled with the organization and removed after.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addUser,
  api,
  docker,
  dockerAvailable,
  newOwner,
  onlineHost,
  type Owner,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  unique,
} from "./client.ts";

const TASK_WAIT_MS = 120_000;
const CASE_MS = 300_000;

interface Project {
  id: string;
  name: string;
}

describe.skipIf(!dockerAvailable())("project-scoped members and 004's permissions on a real host", () => {
  let owner: Owner;
  let member: string;
  let memberName: string;
  let memberId: string;
  let agent: TestAgent | undefined;
  let mine: Project;
  let theirs: Project;
  const apps: Record<"mine" | "theirs", string> = { mine: "", theirs: "" };
  const servers: Record<"mine" | "theirs", { id: string; name: string }> = {
    mine: { id: "", name: unique("iam-mine") },
    theirs: { id: "", name: unique("iam-theirs") },
  };
  const running = async (name: string) => JSON.parse(await docker("inspect", `srv-${name}`))[0].State.Running as boolean;
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

  beforeAll(async () => {
    owner = await newOwner("iam-owner");
    memberName = unique("iam-member");
    member = await addUser(owner, "member", memberName);
    memberId = (await api("/api/v1/me", { token: member })).body.id;
    const started = onlineHost(owner);
    for (const which of ["mine", "theirs"] as const) {
      const p = await api("/api/v1/projects", { token: owner.token, body: { name: unique(`iam-${which}`) } });
      expect(p.status, JSON.stringify(p.body)).toBe(201);
      if (which === "mine") mine = p.body;
      else theirs = p.body;
      const a = await api("/api/v1/applications", {
        token: owner.token,
        body: { project_id: p.body.id, name: `app-${which}`, image: TEST_IMAGE },
      });
      expect(a.status, JSON.stringify(a.body)).toBe(201);
      apps[which] = a.body.id;
    }
    const { host, agent: a } = await started;
    agent = a;
    // One small server in each project; busybox ends on the stop signal, so stops are quick.
    const tasks: string[] = [];
    for (const which of ["mine", "theirs"] as const) {
      const res = await api("/api/v1/servers", {
        token: owner.token,
        body: {
          name: servers[which].name,
          image: TEST_IMAGE,
          command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
          host_id: host.id,
          project_id: (which === "mine" ? mine : theirs).id,
          memory_mb: 32,
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      servers[which].id = res.body.servers[0].id;
      tasks.push(res.body.task_id);
    }
    for (const t of await Promise.all(tasks.map((id) => taskEnd(owner.token, id, TASK_WAIT_MS)))) expect(t.status).toBe("succeeded");
  }, CASE_MS);

  afterAll(async () => {
    await agent?.agent.stop();
    const label = `dev.pier.org=${owner?.organizationId}`;
    const found = await docker("ps", "-aq", "--filter", `label=${label}`);
    if (found) await docker("rm", "-f", ...found.split("\n"));
    for (const v of (await docker("volume", "ls", "-q", "--filter", `label=${label}`)).split("\n").filter(Boolean))
      await docker("volume", "rm", "-f", v);
  }, CASE_MS);

  it(
    "limited to one project through 004's /api/iam and the canonical API, the member sees only its applications and servers, everywhere",
    async () => {
      // Before: every project.
      expect(ids((await api("/api/v1/applications", { token: member })).body.applications)).toEqual([apps.mine, apps.theirs].sort());

      // 004's path: permissions as the document sends them, and Pier's project_ids beside them.
      const set = await api(`/api/iam/${memberName}/permissions`, {
        token: owner.token,
        body: { permissions: ["create_server", "manage_servers", "assign_roles", "manage_backups"], project_ids: [mine.id] },
      });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({ success: true, data: { project_ids: [mine.id] } });

      // Canonical.
      expect(ids((await api("/api/v1/projects", { token: member })).body.projects)).toEqual([mine.id]);
      expect((await api("/api/v1/applications", { token: member })).body.applications.map((a: { id: string }) => a.id)).toEqual([
        apps.mine,
      ]);
      expect((await api("/api/v1/servers", { token: member })).body.servers.map((s: { id: string }) => s.id)).toEqual([servers.mine.id]);
      expect((await api(`/api/v1/applications/${apps.theirs}`, { token: member })).status).toBe(404);
      expect((await api(`/api/v1/servers/${servers.theirs.id}`, { token: member })).status).toBe(404);
      // 004's (and 002's) server list and status.
      const v2 = await api("/api/servers", { token: member });
      expect(v2.body.servers.map((s: { name: string }) => s.name)).toEqual([servers.mine.name]);
      expect((await api(`/api/server_status/${servers.theirs.name}`, { token: member })).status).toBe(404);
      // Dokploy's, through an API key of the member's (the key carries the member's scope).
      const key = (await api("/api/v1/api-keys", { token: member, body: { name: "dokploy" } })).body.key as string;
      const dokploy = await api("/api/project.all", { headers: { "x-api-key": key } });
      expect(dokploy.body.map((p: { projectId: string }) => p.projectId)).toEqual([mine.id]);
      expect((await api(`/api/application.one?applicationId=${apps.theirs}`, { headers: { "x-api-key": key } })).status).toBe(404);
      // 004's own view of who is asking.
      expect((await api("/api/debug/user-info", { token: member })).body.data.project_ids).toEqual([mine.id]);

      // The canonical API gives every project back, then limits again.
      const all = await api(`/api/v1/users/${memberId}/projects`, { method: "PUT", token: owner.token, body: { project_ids: null } });
      expect(all.body.project_ids).toBeNull();
      expect((await api("/api/v1/servers", { token: member })).body.servers).toHaveLength(2);
      const again = await api(`/api/v1/users/${memberId}/projects`, {
        method: "PUT",
        token: owner.token,
        body: { project_ids: [mine.id] },
      });
      expect(again.body.project_ids).toEqual([mine.id]);
      expect((await api("/api/servers", { token: member })).body.servers).toHaveLength(1);
    },
    CASE_MS,
  );

  it(
    "revoking manage_servers stops the member stopping their server, granting it back lets them, for real; manage_firewall likewise",
    async () => {
      expect(await running(servers.mine.name)).toBe(true);
      const revoked = await api(`/api/iam/${memberName}/permissions`, { token: owner.token, body: { permissions: ["create_server"] } });
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      const refused = await api(`/api/v1/servers/${servers.mine.id}/stop`, { method: "POST", token: member });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toMatch(/manage_servers/);
      // 004's bulk path refuses the same way, and the container kept running.
      const bulk = await api("/api/servers/bulk_action", { token: member, body: { action: "stop", server_names: [servers.mine.name] } });
      expect(bulk.status).toBe(403);
      expect(await running(servers.mine.name)).toBe(true);

      // Granted again (canonical path): the member stops it, and the engine says so.
      const granted = await api(`/api/v1/users/${memberId}/permissions`, {
        method: "PUT",
        token: owner.token,
        body: { permissions: ["create_server", "manage_servers", "manage_firewall"] },
      });
      expect(granted.body.granted).toEqual(["manage_firewall"]);
      const stop = await api(`/api/v1/servers/${servers.mine.id}/stop`, { method: "POST", token: member });
      expect(stop.status, JSON.stringify(stop.body)).toBe(202);
      expect((await taskEnd(member, stop.body.task_id, TASK_WAIT_MS)).status).toBe("succeeded");
      expect(await running(servers.mine.name)).toBe(false);
      // The other project's server is still out of reach, whatever the permission.
      expect((await api(`/api/v1/servers/${servers.theirs.id}/stop`, { method: "POST", token: member })).status).toBe(404);
      expect(await running(servers.theirs.name)).toBe(true);

      // manage_firewall, granted above: the member makes a firewall group; revoked, no more.
      const group = await api("/api/v1/firewall-groups", { token: member, body: { name: unique("iam-fw"), description: "granted" } });
      expect(group.status, JSON.stringify(group.body)).toBe(201);
      await api(`/api/v1/users/${memberId}/permissions`, { method: "PUT", token: owner.token, body: { permissions: ["manage_servers"] } });
      const denied = await api("/api/v1/firewall-groups", { token: member, body: { name: unique("iam-fw"), description: "revoked" } });
      expect(denied.status).toBe(403);
      expect(denied.body.detail).toMatch(/manage_firewall/);
    },
    CASE_MS,
  );
});
