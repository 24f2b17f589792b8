// Seed 004's permissions over Pier's roles, and project-scoped access, in workerd against the
// local libSQL server.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { servers } from "../db/schema.ts";
import { createNotification } from "../services/notifications.ts";
import { createTask } from "../services/tasks.ts";
import { apiKeyAccess, resolvePermissions } from "../services/permissions.ts";
import { addMember, call, expectProblem, json, newOwner, type TestAccount } from "../testing.ts";

const access = async (owner: TestAccount, userId: string) =>
  json(await call(`/api/v1/users/${userId}/permissions`, { token: owner.token }), 200);
const setPermissions = (owner: TestAccount, userId: string, permissions: string[]) =>
  call(`/api/v1/users/${userId}/permissions`, { method: "PUT", token: owner.token, body: { permissions } });
const setProjects = (owner: TestAccount, userId: string, projectIds: string[] | null) =>
  call(`/api/v1/users/${userId}/projects`, { method: "PUT", token: owner.token, body: { project_ids: projectIds } });
const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

describe("permission resolution", () => {
  it("starts from the role's defaults, applies grants and revocations, and keeps admin_access with admins", () => {
    expect(resolvePermissions("member", [])).toEqual(["create_server", "manage_servers", "assign_roles", "manage_backups"]);
    expect(resolvePermissions("viewer", [])).toEqual([]);
    expect(resolvePermissions("viewer", [{ permission: "manage_firewall", effect: "grant" }])).toEqual(["manage_firewall"]);
    expect(resolvePermissions("member", [{ permission: "create_server", effect: "revoke" }])).not.toContain("create_server");
    expect(resolvePermissions("admin", [{ permission: "admin_access", effect: "revoke" }])).toContain("admin_access");
    // A key made with a lower role than its user's holds no more than that role's defaults.
    const member = {
      permissions: resolvePermissions("member", [{ permission: "manage_firewall", effect: "grant" }]),
      projectScope: ["prj_a"],
    };
    expect(apiKeyAccess(member, "member", "viewer")).toEqual({ permissions: [], projectScope: ["prj_a"] });
    expect(apiKeyAccess(member, "member", "member")).toBe(member);
  });
});

describe("permissions of members", () => {
  it("an owner grants and revokes; it takes effect on the member's next request; admins keep admin_access", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const admin = await addMember(owner, "admin");
    expect(await access(owner, member.userId)).toMatchObject({
      role: "member",
      permissions: ["create_server", "manage_servers", "assign_roles", "manage_backups"],
      granted: [],
      revoked: [],
      project_ids: null,
    });
    // Without admin_access the member cannot read the organization's IAM; granted, at once.
    await expectProblem(await call("/api/v1/iam", { token: member.token }), 403);
    const changed = await json(await setPermissions(owner, member.userId, ["manage_servers", "admin_access"]), 200);
    expect(changed).toMatchObject({
      permissions: ["manage_servers", "admin_access"],
      granted: ["admin_access"],
      revoked: ["create_server", "assign_roles", "manage_backups"],
    });
    const iam = await json(await call("/api/v1/iam", { token: member.token }), 200);
    expect(iam.members.map((m: { user_id: string }) => m.user_id)).toEqual(
      expect.arrayContaining([owner.userId, member.userId, admin.userId]),
    );
    expect(iam.permissions).toContainEqual({ name: "create_server", roles: ["owner", "admin", "member"] });
    // A member sees their own access, not others' without admin_access; nobody but admins changes it.
    const viewer = await addMember(owner, "viewer");
    expect((await json(await call(`/api/v1/users/${viewer.userId}/permissions`, { token: viewer.token }), 200)).permissions).toEqual([]);
    await expectProblem(await call(`/api/v1/users/${owner.userId}/permissions`, { token: viewer.token }), 403);
    await expectProblem(await setPermissions(member, viewer.userId, ["create_server"]), 403);
    // Admins hold admin_access; an admin cannot touch another admin's, nor anyone an owner's.
    await expectProblem(await setPermissions(owner, admin.userId, ["create_server"]), 422, /admin_access/);
    await expectProblem(await setPermissions(admin, owner.userId, ["admin_access"]), 403);
    await expectProblem(await setPermissions(owner, member.userId, ["fly"]), 422);
    await expectProblem(await setPermissions(owner, "usr_aaaaaaaaaaaaaaaaaaaa", []), 404);
    // Another organization's user looks missing.
    const stranger = await newOwner();
    await expectProblem(await call(`/api/v1/users/${member.userId}/permissions`, { token: stranger.token }), 404);
    const audit = await json(await call("/api/v1/audit-events", { token: owner.token }), 200);
    expect(JSON.stringify(audit)).toContain("user.permissions_change");
  });
});

describe("project-scoped members", () => {
  it("see only their projects and what is in them, on the canonical API and Dokploy's; the rest looks missing", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const mine = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "mine" } }), 201);
    const theirs = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "theirs" } }), 201);
    const myApp = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: mine.id, name: "a", image: "nginx:1.27" } }),
      201,
    );
    const theirApp = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: theirs.id, name: "b", image: "nginx:1.27" } }),
      201,
    );
    expect(ids((await json(await call("/api/v1/projects", { token: member.token }), 200)).projects)).toEqual(ids([mine, theirs]));

    await expectProblem(await setProjects(owner, member.userId, [mine.id, "prj_aaaaaaaaaaaaaaaaaaaa"]), 422, /project_ids\/1/);
    expect(await json(await setProjects(owner, member.userId, [mine.id]), 200)).toMatchObject({ project_ids: [mine.id] });

    expect(ids((await json(await call("/api/v1/projects", { token: member.token }), 200)).projects)).toEqual([mine.id]);
    await json(await call(`/api/v1/projects/${mine.id}`, { token: member.token }), 200);
    await expectProblem(await call(`/api/v1/projects/${theirs.id}`, { token: member.token }), 404);
    await expectProblem(await call(`/api/v1/environments/${theirs.environments[0].id}`, { token: member.token }), 404);
    expect(ids((await json(await call("/api/v1/applications", { token: member.token }), 200)).applications)).toEqual([myApp.id]);
    await expectProblem(await call(`/api/v1/applications/${theirApp.id}`, { token: member.token }), 404);
    await expectProblem(
      await call(`/api/v1/applications/${theirApp.id}`, { method: "PATCH", token: member.token, body: { name: "mine-now" } }),
      404,
    );
    await expectProblem(
      await call("/api/v1/applications", { token: member.token, body: { project_id: theirs.id, name: "c", image: "x:1" } }),
      404,
    );
    // What hangs off another project's application, and its databases, look missing too.
    for (const sub of ["deployments", "domains", "environment"])
      await expectProblem(await call(`/api/v1/applications/${theirApp.id}/${sub}`, { token: member.token }), 404);
    // The organization's deployment list (the overview's) names each one's application, and keeps
    // to the member's projects; another organization sees none of them.
    const deployed = async (appId: string) =>
      (await json(await call(`/api/v1/applications/${appId}/deployments`, { method: "POST", token: owner.token }), 202)).id as string;
    const myDeployment = await deployed(myApp.id);
    const theirDeployment = await deployed(theirApp.id);
    const listed = async (token: string, query = "") =>
      (await json(await call(`/api/v1/deployments${query}`, { token }), 200)).deployments as { id: string; application_id: string }[];
    expect(await listed(owner.token)).toEqual([
      expect.objectContaining({ id: theirDeployment, application_id: theirApp.id, application_name: "b" }),
      expect.objectContaining({ id: myDeployment, application_id: myApp.id, application_name: "a" }),
    ]);
    expect((await listed(member.token)).map((d) => d.id)).toEqual([myDeployment]);
    expect(await listed((await newOwner()).token)).toEqual([]);
    const firstPage = await json(await call("/api/v1/deployments?limit=1", { token: owner.token }), 200);
    expect(firstPage.deployments.map((d: { id: string }) => d.id)).toEqual([theirDeployment]);
    const secondPage = await listed(owner.token, `?limit=1&cursor=${firstPage.next_cursor}`);
    expect(secondPage.map((d) => d.id)).toEqual([myDeployment]);
    await expectProblem(await call("/api/v1/deployments?status=done", { token: owner.token }), 422, /status/);
    const db = (projectId: string, name: string) =>
      call("/api/v1/databases", { token: owner.token, body: { project_id: projectId, engine: "postgres", name, start: false } });
    const myDb = await json(await db(mine.id, "pg-mine"), 201);
    const theirDb = await json(await db(theirs.id, "pg-theirs"), 201);
    expect(ids((await json(await call("/api/v1/databases", { token: member.token }), 200)).databases)).toEqual([myDb.id]);
    await expectProblem(await call(`/api/v1/databases/${theirDb.id}`, { token: member.token }), 404);
    await expectProblem(await call("/api/v1/projects", { token: member.token, body: { name: "new" } }), 403, /scoped/);
    await expectProblem(await call("/api/v1/hosts/hst_aaaaaaaaaaaaaaaaaaaa/containers", { token: member.token }), 403, /scoped/);
    await expectProblem(await call("/api/v1/events", { token: member.token }), 403, /scoped/);

    // Dokploy's surface answers from the same services, through an API key of the member's.
    const key = (await json(await call("/api/v1/api-keys", { token: member.token, body: { name: "dokploy" } }), 201)).key as string;
    const all = await json(await call("/api/project.all", { apiKey: key }), 200);
    expect(all.map((p: { projectId: string }) => p.projectId)).toEqual([mine.id]);
    expect((await call(`/api/application.one?applicationId=${theirApp.id}`, { apiKey: key })).status).toBe(404);
    expect((await call(`/api/project.one?projectId=${theirs.id}`, { apiKey: key })).status).toBe(404);

    // Given back every project, at once.
    expect(await json(await setProjects(owner, member.userId, null), 200)).toMatchObject({ project_ids: null });
    expect(ids((await json(await call("/api/v1/projects", { token: member.token }), 200)).projects)).toEqual(ids([mine, theirs]));
    // Owners and admins are never scoped.
    await expectProblem(await setProjects(owner, owner.userId, [mine.id]), 422, /every project/);
  });

  it("a deleted last project leaves a scoped member seeing nothing, not everything", async () => {
    const owner = await newOwner();
    const viewer = await addMember(owner, "viewer");
    const only = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "only" } }), 201);
    await json(await call("/api/v1/projects", { token: owner.token, body: { name: "other" } }), 201);
    await json(await setProjects(owner, viewer.userId, [only.id]), 200);
    expect((await call(`/api/v1/projects/${only.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect(await json(await call(`/api/v1/users/${viewer.userId}/projects`, { token: owner.token }), 200)).toEqual({
      user_id: viewer.userId,
      project_ids: [],
    });
    // The cached principal still names the deleted project, which matches nothing.
    expect((await json(await call("/api/v1/projects", { token: viewer.token }), 200)).projects).toEqual([]);
  });

  it("see only their projects' servers, on the canonical API, seed 004's paths and a server's firewall", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const mine = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "mine" } }), 201);
    const theirs = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "theirs" } }), 201);
    // Rows only: what is checked is who may see them, not their containers.
    const now = new Date().toISOString();
    const row = (alias: number, projectId: string | null) => ({
      id: `srv_scope${alias}${owner.organizationId
        .slice(-8)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "")}`,
      organizationId: owner.organizationId,
      alias,
      name: `scope-${alias}`,
      projectId,
      image: "pier-test/busybox:latest",
      volumeName: `scope-${alias}-data`,
      status: "stopped" as const,
      config: {},
      createdAt: now,
      updatedAt: now,
    });
    const [inMine, inTheirs, inNone] = [row(1, mine.id), row(2, theirs.id), row(3, null)];
    await createDatabase(env).insert(servers).values([inMine, inTheirs, inNone]);
    await json(await setProjects(owner, member.userId, [mine.id]), 200);

    const listed = await json(await call("/api/v1/servers", { token: member.token }), 200);
    expect(listed.servers.map((s: { id: string }) => s.id)).toEqual([inMine.id]);
    await json(await call(`/api/v1/servers/${inMine.id}`, { token: member.token }), 200);
    for (const other of [inTheirs, inNone]) {
      await expectProblem(await call(`/api/v1/servers/${other.id}`, { token: member.token }), 404);
      await expectProblem(await call(`/api/v1/servers/${other.id}/firewall-groups`, { token: member.token }), 404);
      expect((await call(`/api/server/backups/${other.name}`, { token: member.token })).status).toBe(404);
    }
    const v2 = await json(await call("/api/servers", { token: member.token }), 200);
    expect(JSON.stringify(v2)).not.toMatch(/scope-2|scope-3/);
    expect(JSON.stringify(v2)).toMatch(/scope-1/);
    // The owner sees all three.
    expect((await json(await call("/api/v1/servers", { token: owner.token }), 200)).servers).toHaveLength(3);
  });

  it("see only their projects' tasks, notifications, backups and policies; host-wide surfaces are refused", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const mine = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "mine" } }), 201);
    const theirs = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "theirs" } }), 201);
    const app = (projectId: string, name: string) =>
      call("/api/v1/applications", { token: owner.token, body: { project_id: projectId, name, image: "nginx:1.27" } });
    const myApp = await json(await app(mine.id, "a"), 201);
    const theirApp = await json(await app(theirs.id, "b"), 201);
    await json(await setProjects(owner, member.userId, [mine.id]), 200);

    const db = createDatabase(env);
    const org = owner.organizationId;
    const myTask = await createTask(db, { organizationId: org, kind: "deployment", targetType: "application", targetId: myApp.id });
    const theirTask = await createTask(db, { organizationId: org, kind: "deployment", targetType: "application", targetId: theirApp.id });
    const hostTask = await createTask(db, { organizationId: org, kind: "image.pull", targetType: "host", targetId: "hst_x" });
    // What the member started is theirs to follow, though it names no single target (a bulk task).
    const ownTask = await createTask(db, { organizationId: org, kind: "server.create", createdBy: member.userId });
    const listed = await json(await call("/api/v1/tasks", { token: member.token }), 200);
    expect(ids(listed.tasks)).toEqual(ids([myTask, ownTask]));
    await json(await call(`/api/v1/tasks/${myTask.id}`, { token: member.token }), 200);
    for (const other of [theirTask, hostTask]) {
      await expectProblem(await call(`/api/v1/tasks/${other.id}`, { token: member.token }), 404);
      await expectProblem(await call(`/api/v1/tasks/${other.id}/cancel`, { method: "POST", token: member.token }), 404);
      expect((await call(`/api/tasks/${other.id}`, { token: member.token })).status).toBe(404);
      expect((await call(`/api/tasks/${other.id}/status`, { token: member.token })).status).toBe(404);
    }
    expect(JSON.stringify(await json(await call("/api/tasks/status", { token: member.token }), 200))).not.toContain(theirTask.id);
    expect(ids((await json(await call("/api/v1/tasks", { token: owner.token }), 200)).tasks)).toEqual(
      ids([myTask, theirTask, hostTask, ownTask]),
    );

    // Notifications reach every member's inbox; a scoped member's shows their projects' only.
    const note = (targetId: string, title: string) =>
      createNotification(db, env, {
        organizationId: org,
        kind: "deployment.failed",
        title,
        message: title,
        targetType: "application",
        targetId,
      });
    const myNote = await note(myApp.id, "mine failed");
    const theirNote = await note(theirApp.id, "theirs failed");
    const inbox = await json(await call("/api/v1/notifications", { token: member.token }), 200);
    expect(inbox.notifications.map((n: { id: string }) => n.id)).toEqual([myNote]);
    expect((await json(await call("/api/v1/notifications/unread-count", { token: member.token }), 200)).unread_count).toBe(1);
    await expectProblem(await call(`/api/v1/notifications/${theirNote}`, { token: member.token }), 404);
    expect(JSON.stringify(await json(await call("/api/notifications", { token: member.token }), 200))).not.toContain("theirs failed");
    expect((await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications).toHaveLength(2);

    // Backups and policies of what is not in their projects (here: a host's volume) are out of sight.
    expect((await json(await call("/api/v1/backups", { token: member.token }), 200)).backups).toEqual([]);
    expect(await json(await call("/api/v1/backup-policies", { token: member.token }), 200)).toMatchObject({ policies: [] });
    expect(await json(await call("/api/backups", { token: member.token }), 200)).toMatchObject({ backups: [], total: 0 });

    // Surfaces that show every project's objects at once are refused with the reason.
    await expectProblem(await call("/api/v1/metrics/prometheus", { token: member.token }), 403, /scoped/);
    expect((await call("/ps2/some-host", { token: member.token })).status).toBe(403);
    expect((await call("/api/servers/some-host/docker/volumes", { token: member.token })).status).toBe(403);
    // A host's own figures span every project: the owner reads them, the scoped member finds nothing.
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: "h1" } }), 201);
    for (const path of [`/api/monitoring/metrics/${host.id}`, `/api/servers/${host.id}/metrics`]) {
      expect((await call(path, { token: owner.token })).status, path).toBe(200);
      expect((await call(path, { token: member.token })).status, path).toBe(404);
    }
    await expectProblem(await call("/api/v1/system/logs", { token: member.token }), 403);
    // DevFlow's project paths name applications: another project's looks missing.
    expect((await call(`/api/projects/${theirApp.name}/docker/stats`, { token: member.token })).status).toBe(404);
    expect((await call(`/api/projects/${theirApp.id}/docker/stats`, { token: member.token })).status).toBe(404);
  });
});

describe("004's permissions on the server manager", () => {
  it("a grant lets a member manage firewall groups, a revocation stops them creating servers, at once", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const group = (token: string, name: string) =>
      call("/api/v1/firewall-groups", { token, body: { name, description: "test", default_inbound: "deny" } });
    await expectProblem(await group(member.token, "web-in"), 403, /manage_firewall/);
    await json(await setPermissions(owner, member.userId, ["create_server", "manage_servers", "manage_firewall"]), 200);
    await json(await group(member.token, "web-in"), 201);
    // 004's path answers from the same check.
    await json(await setPermissions(owner, member.userId, ["manage_servers"]), 200);
    await expectProblem(await group(member.token, "db-in"), 403, /manage_firewall/);
    await expectProblem(
      await call("/api/v1/servers", { token: member.token, body: { name: "s1", host_id: "hst_aaaaaaaaaaaaaaaaaaaa", image: "x:1" } }),
      403,
      /create_server/,
    );
    // A viewer granted manage_firewall may too: grants add to the role.
    const viewer = await addMember(owner, "viewer");
    await expectProblem(await group(viewer.token, "v-in"), 403);
    await json(await setPermissions(owner, viewer.userId, ["manage_firewall"]), 200);
    await json(await group(viewer.token, "v-in"), 201);
    // Org-wide settings need admin_access: a member granted it reads the system logs.
    await expectProblem(await call("/api/v1/system/logs", { token: member.token }), 403, /admin_access/);
    await json(await setPermissions(owner, member.userId, ["admin_access"]), 200);
    await json(await call("/api/v1/system/logs", { token: member.token }), 200);
  });
});

describe("project-scoped members granted admin_access", () => {
  it("cannot read the organization's IAM or other members' access, on the canonical API or 004's paths", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const other = await addMember(owner, "viewer");
    const mine = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "mine" } }), 201);
    const theirs = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "theirs" } }), 201);
    await json(await setProjects(owner, other.userId, [theirs.id]), 200);
    await json(await setPermissions(owner, member.userId, ["manage_servers", "admin_access"]), 200);
    const overview = ["/api/v1/iam", `/api/v1/users/${other.userId}/permissions`, `/api/v1/users/${other.userId}/projects`];
    const compat = ["/api/iam/data", "/api/users", "/api/admin", "/api/admin/", "/api/admin/users", "/api/admin/iam"];
    // Unscoped, admin_access reads all of it.
    for (const path of [...overview, ...compat]) expect((await call(path, { token: member.token })).status, path).toBe(200);

    await json(await setProjects(owner, member.userId, [mine.id]), 200);
    for (const path of overview) await expectProblem(await call(path, { token: member.token }), 403, /limited to chosen projects/);
    for (const path of compat) {
      const refused = await json(await call(path, { token: member.token }), 403);
      expect(refused, path).toMatchObject({ success: false });
      expect(JSON.stringify(refused), path).not.toContain(theirs.id);
    }
    // Their own access stays theirs to read; the owner still reads everyone's.
    expect(await access(member, member.userId)).toMatchObject({ project_ids: [mine.id], permissions: ["manage_servers", "admin_access"] });
    expect((await json(await call("/api/v1/iam", { token: owner.token }), 200)).members).toHaveLength(3);
  });

  it("cannot point a backup policy or a backup at a server or database outside their projects", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const mine = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "mine" } }), 201);
    const theirs = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "theirs" } }), 201);
    const now = new Date().toISOString();
    const suffix = owner.organizationId
      .slice(-8)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "");
    const row = (alias: number, projectId: string) => ({
      id: `srv_bkp${alias}${suffix}`,
      organizationId: owner.organizationId,
      alias,
      name: `bkp-${alias}`,
      projectId,
      image: "pier-test/busybox:latest",
      volumeName: `bkp-${alias}-data`,
      status: "stopped" as const,
      config: {},
      createdAt: now,
      updatedAt: now,
    });
    const [inMine, inTheirs] = [row(1, mine.id), row(2, theirs.id)];
    await createDatabase(env).insert(servers).values([inMine, inTheirs]);
    const theirDb = await json(
      await call("/api/v1/databases", {
        token: owner.token,
        body: { project_id: theirs.id, engine: "postgres", name: "pg-theirs", start: false },
      }),
      201,
    );
    await json(await setPermissions(owner, member.userId, ["manage_backups", "admin_access"]), 200);
    await json(await setProjects(owner, member.userId, [mine.id]), 200);

    const policy = (target: Record<string, string>) =>
      call("/api/v1/backup-policies", { token: member.token, body: { target, schedule: "0 3 * * *" } });
    // Another project's server reads exactly as one that does not exist.
    const outside = await json(await policy({ kind: "server", server_id: inTheirs.id }), 422);
    const missing = await json(await policy({ kind: "server", server_id: `srv_nothere${suffix}` }), 422);
    expect(outside.errors).toEqual([
      { pointer: "/body/target/server_id", detail: `Server ${inTheirs.id} was not found in your organization.` },
    ]);
    expect(missing.errors[0].pointer).toBe("/body/target/server_id");
    for (const ref of [inTheirs.name, String(inTheirs.alias)])
      await expectProblem(await policy({ kind: "server", server_id: ref }), 422, /was not found/);
    await expectProblem(await policy({ kind: "database", database_id: theirDb.id }), 422, /was not found/);
    // A host's volume belongs to no project (and a policy runs without its creator's scope).
    await expectProblem(await policy({ kind: "volume", host_id: "hst_aaaaaaaaaaaaaaaaaaaa", name: "data" }), 403, /project-scoped/);
    // Their own project's server is theirs to schedule.
    const made = await json(await policy({ kind: "server", server_id: inMine.name }), 201);
    expect(made.target).toEqual({ kind: "server", server_id: inMine.id });
    expect((await json(await call("/api/v1/backup-policies", { token: owner.token }), 200)).policies).toHaveLength(1);
    // The on-demand backup is checked the same way: another project's server looks missing.
    await expectProblem(
      await call("/api/v1/backups", { token: member.token, body: { target: { kind: "server", server_id: inTheirs.id } } }),
      404,
    );
    expect((await call(`/api/server/backup/${inTheirs.name}`, { method: "POST", token: member.token, body: {} })).status).toBe(404);
  });
});
