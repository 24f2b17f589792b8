import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { notify } from "../services/notifications.ts";
import { addMember, call, json, login, newOwner, type TestAccount, unique, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";
import { devflowWebhookCompat } from "./devflow-webhooks.ts";
import { PROCEDURES } from "./dokploy-procedures.ts";
import { compatRoutes } from "./index.ts";

// Every mutating route of every compatibility surface, walked with a viewer's session and a
// viewer-role API key: each must refuse exactly where its canonical twin refuses, in its own
// surface's envelope, and change nothing. A new mutating compat route fails the walk until it is
// listed here with what its canonical twin allows.

/** Requests per credential stay under the tests' limit of 60 a minute. */
const CREDENTIALS_PER_KIND = 3;

const ENGINES = ["postgres", "mysql", "mariadb", "mongo", "redis"] as const;

interface World {
  owner: TestAccount;
  host: { id: string; name: string };
  projectId: string;
  /** A second, non-default environment of the project. */
  environmentId: string;
  applicationId: string;
  appName: string;
  databases: Record<(typeof ENGINES)[number], string>;
  /** A notification of each viewer credential's own, for the per-user routes. */
  inbox: { session: string; key: string };
}

type Who = "session" | "key";

interface Walk {
  /** Why the route is not role-gated at all (credential operations). */
  skip?: string;
  request?: (w: World, who: Who) => { path: string; body?: unknown; method?: string };
  /** The refusal in the surface's envelope. */
  refused?: unknown;
  /** Routes whose canonical twin lets every role act on the caller's own data. */
  allowed?: { status: number; twin: string };
}

const dokploy = { message: expect.stringMatching(/viewer/), code: "FORBIDDEN" };
const dockerApi = { success: false, message: expect.stringMatching(/viewer/) };
const laravel = { message: expect.stringMatching(/viewer/) };
const devflowWebhook = { error: "Forbidden", message: expect.stringMatching(/viewer/), status: 403 };
const v2 = { success: false, error: expect.stringMatching(/viewer/), details: {} };
const v1 = { error: { code: "FORBIDDEN", message: expect.stringMatching(/viewer/), details: {} } };

const post = (path: string, body: unknown = {}) => ({ path, body });

const WALK: Record<string, Walk> = {
  // 001
  "POST /user": {
    request: () => post("/user", { username: unique("u"), password: "123123", full_name: "N", email: `${unique("u")}@email.com` }),
    refused: dockerApi,
  },
  "POST /login": { skip: "logs in with a password; no credential's role involved" },
  "POST /logout": { skip: "ends the session of the refresh token it is given" },
  "POST /token/renew_access": { skip: "renews the session of the refresh token it is given" },
  "POST /start2": { request: (w) => post("/start2", { host: w.host.name, id: "c0ffee" }), refused: dockerApi },
  "POST /stop2": { request: (w) => post("/stop2", { host: w.host.name, id: "c0ffee" }), refused: dockerApi },
  // 003
  "POST /api/login": { skip: "logs in with a password" },
  "POST /api/servers/:server/metrics": {
    request: (w) => post(`/api/servers/${w.host.id}/metrics`, { cpu_usage: 1, memory_usage: 1, disk_usage: 1 }),
    refused: laravel,
  },
  "POST /api/webhooks/deploy/:token": { request: (w) => post(`/api/webhooks/deploy/${w.appName}`), refused: devflowWebhook },
  // 003: the Docker Management API (role checked before the project or server is even looked up).
  "POST /api/projects/:project/docker/exec": {
    request: (w) => post(`/api/projects/${w.appName}/docker/exec`, { command: "true" }),
    refused: laravel,
  },
  "POST /api/projects/:project/docker/networks/connect": {
    request: (w) => post(`/api/projects/${w.appName}/docker/networks/connect`, { network_name: "bridge" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/volumes": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/volumes`, { name: "vv" }),
    refused: laravel,
  },
  "DELETE /api/servers/:server/docker/volumes/:volume": {
    request: (w) => ({ path: `/api/servers/${w.host.id}/docker/volumes/vv`, method: "DELETE" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/networks": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/networks`, { name: "nn" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/images/pull": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/images/pull`, { image: "busybox" }),
    refused: laravel,
  },
  "DELETE /api/servers/:server/docker/images/:image{.+}": {
    request: (w) => ({ path: `/api/servers/${w.host.id}/docker/images/busybox:latest`, method: "DELETE" }),
    refused: laravel,
  },
  "POST /api/projects/:project/docker/limits": {
    request: (w) => post(`/api/projects/${w.appName}/docker/limits`, { memory_mb: 64 }),
    refused: laravel,
  },
  "POST /api/projects/:project/docker/backup": {
    request: (w) => post(`/api/projects/${w.appName}/docker/backup`, { backup_name: "viewer-backup" }),
    refused: laravel,
  },
  "POST /api/projects/:project/docker/compose/up": {
    request: (w) => post(`/api/projects/${w.appName}/docker/compose/up`),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/images/prune": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/images/prune`, { all: false }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/images/tag": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/images/tag`, { source_image: "busybox", target_image: "viewer/copy:1" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/images/push": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/images/push`, { image_name: "viewer/copy:1" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/images/save": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/images/save`, { image_name: "busybox", file_path: "/backups/viewer.tar" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/registry/login": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/registry/login`, { registry: "ghcr.io", username: "v", password: "p" }),
    refused: laravel,
  },
  "POST /api/servers/:server/docker/prune": {
    request: (w) => post(`/api/servers/${w.host.id}/docker/prune`, { volumes: false }),
    refused: laravel,
  },
  // 004
  "POST /api/session/refresh": { skip: "renews the session of the refresh token it is given" },
  "POST /session/refresh": { skip: "renews the session of the refresh token it is given" },
  // 002 and 004: server backups (members back up, admins restore and delete).
  "POST /api/backups/create": { request: () => post("/api/backups/create", { server_id: 1 }), refused: v1 },
  "POST /api/backups/:backupId/restore": { request: () => post("/api/backups/bak_none/restore", { overwrite: true }), refused: v1 },
  "DELETE /api/backups/:backupId": { request: () => ({ path: "/api/backups/bak_none", method: "DELETE" }), refused: v1 },
  "POST /api/server/backup/:name": { request: () => post("/api/server/backup/none"), refused: v2 },
  "POST /api/backups/restore": { request: () => post("/api/backups/restore", { backup_id: "bak_none" }), refused: v2 },
  "POST /api/backups/delete": { request: () => post("/api/backups/delete", { backup_id: "bak_none" }), refused: v2 },
  "POST /api/alerts/clear": { request: (w) => post("/api/alerts/clear", { host_id: w.host.id }), refused: v2 },
  // 004's users and IAM: admins only, refused before the user is looked up.
  "POST /api/users": { request: () => post("/api/users", { username: unique("u"), password: "walked-password-1" }), refused: v2 },
  "DELETE /api/users/:username": { request: () => ({ path: "/api/users/nobody", method: "DELETE" }), refused: v2 },
  "POST /api/users/:username/password": {
    request: () => post("/api/users/nobody/password", { password: "walked-password-1" }),
    refused: v2,
  },
  "POST /api/iam/:username/permissions": { request: () => post("/api/iam/nobody/permissions", { permissions: [] }), refused: v2 },
  "POST /api/iam/:username/role": { request: () => post("/api/iam/nobody/role", { role: "member" }), refused: v2 },
  "POST /api/admin/iam/:username/permissions": {
    request: () => post("/api/admin/iam/nobody/permissions", { permissions: [] }),
    refused: v2,
  },
  "POST /api/admin/iam/:username/role": { request: () => post("/api/admin/iam/nobody/role", { role: "member" }), refused: v2 },
  "POST /api/auth/login": { skip: "logs in with a password" },
  "POST /api/auth/logout": { skip: "ends the caller's own session" },
  "POST /change-password": { skip: "changes the caller's own password, which every role may" },
  // 002/004 monitoring, vault and test tasks.
  "POST /api/monitoring/prometheus/update": { request: () => post("/api/monitoring/prometheus/update", {}), refused: v1 },
  "POST /api/vault/secrets/:path{.+}": { request: () => post("/api/vault/secrets/walked", { value: "walked" }), refused: v1 },
  "POST /api/monitoring/config": { request: () => post("/api/monitoring/config", { sample_interval_seconds: 30 }), refused: v2 },
  "POST /api/test/notification": { request: () => post("/api/test/notification"), refused: v2 },
  "POST /api/test/simple": { request: () => post("/api/test/simple"), refused: v2 },
  "POST /api/test/error": { request: () => post("/api/test/error"), refused: v2 },
  // Firewall groups: admins only (004's manage_firewall), refused before any name is looked up.
  "POST /api/firewall/groups": { request: () => post("/api/firewall/groups", { name: "walked" }), refused: v2 },
  "DELETE /api/firewall/groups/:group": { request: () => ({ path: "/api/firewall/groups/none", method: "DELETE" }), refused: v2 },
  "POST /api/firewall/groups/:group/rules": {
    request: () => post("/api/firewall/groups/none/rules", { direction: "in", protocol: "tcp", port: 80, action: "allow" }),
    refused: v2,
  },
  "DELETE /api/firewall/groups/:group/rules/:rule": {
    request: () => ({ path: "/api/firewall/groups/none/rules/fwr_none", method: "DELETE" }),
    refused: v2,
  },
  "POST /api/apply_security_group/:server": { request: () => post("/api/apply_security_group/none", { group_name: "none" }), refused: v2 },
  "POST /api/remove_firewall_group/:server": {
    request: () => post("/api/remove_firewall_group/none", { group_name: "none" }),
    refused: v2,
  },
  "POST /api/firewall/assign_bulk": {
    request: () => post("/api/firewall/assign_bulk", { server_names: ["none"], group_name: "none" }),
    refused: v2,
  },
  "POST /api/alerts/:id/acknowledge": { request: () => post("/api/alerts/alr_none/acknowledge"), refused: v2 },
  // 002/004 servers: every one refused before the server is even looked up.
  "POST /api/servers/create": { request: () => post("/api/servers/create", { name: "walked", role: "web" }), refused: v1 },
  "POST /api/servers/bulk-create": {
    request: () => post("/api/servers/bulk-create", { servers: [{ name: "walked", role: "web" }] }),
    refused: v1,
  },
  "POST /api/servers/bulk-delete": { request: () => post("/api/servers/bulk-delete", { server_ids: [1] }), refused: v1 },
  "PUT /api/servers/:ref/status": {
    request: () => ({ path: "/api/servers/1/status", method: "PUT", body: { status: "stopped" } }),
    refused: v1,
  },
  "DELETE /api/servers/:ref": { request: () => ({ path: "/api/servers/1", method: "DELETE" }), refused: v1 },
  "POST /api/servers": { request: () => post("/api/servers", { name: "walked", role: "web" }), refused: v2 },
  "POST /api/servers/async": { request: () => post("/api/servers/async", { name: "walked", role: "web" }), refused: v2 },
  "POST /api/create_servers_bulk": {
    request: () => post("/api/create_servers_bulk", { count: 2, name_prefix: "walked", role: "web" }),
    refused: v2,
  },
  "POST /api/servers/:ref/start": { request: () => post("/api/servers/walked/start"), refused: v2 },
  "POST /api/servers/:ref/stop": { request: () => post("/api/servers/walked/stop"), refused: v2 },
  "POST /api/servers/:ref/reboot": { request: () => post("/api/servers/walked/reboot"), refused: v2 },
  "POST /api/servers/:ref/delete": { request: () => post("/api/servers/walked/delete"), refused: v2 },
  "POST /api/servers/bulk_action": {
    request: () => post("/api/servers/bulk_action", { action: "stop", server_names: ["walked"] }),
    refused: v2,
  },
  "POST /api/servers/bulk_action/async": {
    request: () => post("/api/servers/bulk_action/async", { action: "start", server_names: ["walked"] }),
    refused: v2,
  },
  "PUT /api/server/config/:ref": { request: () => ({ path: "/api/server/config/walked", method: "PUT", body: { cpu: 1 } }), refused: v2 },
  "POST /api/server/disk/:ref": { request: () => post("/api/server/disk/walked", { size: 1 }), refused: v2 },
  "DELETE /api/server/disk/:ref/:device": { request: () => ({ path: "/api/server/disk/walked/disk1", method: "DELETE" }), refused: v2 },
  "POST /api/assign_role/:ref": { request: () => post("/api/assign_role/walked", { role: "web" }), refused: v2 },
  "POST /api/remove_role/:ref": { request: () => post("/api/remove_role/walked"), refused: v2 },
  "POST /api/roles/assign_bulk": { request: () => post("/api/roles/assign_bulk", { server_names: ["walked"], role: "db" }), refused: v2 },
  "POST /api/datastores/refresh": { request: () => post("/api/datastores/refresh"), refused: v2 },
  "POST /api/datastores/default": { request: (w) => post("/api/datastores/default", { datastore: w.host.name }), refused: v2 },
  "POST /api/sync_servers": { request: () => post("/api/sync_servers"), refused: v2 },
  "POST /api/cleanup/clean/:ref": { request: () => post("/api/cleanup/clean/walked"), refused: v2 },
  "POST /api/cleanup/bulk-clean": { request: () => post("/api/cleanup/bulk-clean"), refused: v2 },
  "POST /api/notifications/:id/read": {
    request: (w, who) => post(`/api/notifications/${w.inbox[who]}/read`),
    allowed: { status: 200, twin: "POST /api/v1/notifications/{id}/read: any role, own inbox" },
  },
  "DELETE /api/notifications/:id": {
    request: (w, who) => ({ path: `/api/notifications/${w.inbox[who]}`, method: "DELETE" }),
    allowed: { status: 200, twin: "DELETE /api/v1/notifications/{id}: any role, own inbox" },
  },
  "POST /api/notifications/clear-all": {
    request: () => post("/api/notifications/clear-all"),
    allowed: { status: 200, twin: "DELETE /api/v1/notifications: any role, own inbox" },
  },
};

// 000: every Dokploy mutation, from the procedure table both wire formats serve.
const DOKPLOY_MUTATIONS: Record<string, (w: World) => Record<string, unknown>> = {
  "project.create": () => ({ name: "viewer-project" }),
  "project.remove": (w) => ({ projectId: w.projectId }),
  "environment.create": (w) => ({ name: "viewer-env", projectId: w.projectId }),
  "environment.update": (w) => ({ environmentId: w.environmentId, name: "renamed" }),
  "environment.remove": (w) => ({ environmentId: w.environmentId }),
  "application.create": (w) => ({ name: "viewer-app", projectId: w.projectId }),
  "application.update": (w) => ({ applicationId: w.applicationId, name: "renamed", env: "SECRET=viewer" }),
  "application.saveEnvironment": (w) => ({ applicationId: w.applicationId, env: "SECRET=viewer" }),
  "application.saveBuildType": (w) => ({ applicationId: w.applicationId, buildType: "nixpacks" }),
  "application.saveDockerProvider": (w) => ({ applicationId: w.applicationId, dockerImage: "viewer/image:latest" }),
  "application.saveGitProvider": (w) => ({ applicationId: w.applicationId, customGitUrl: "https://github.com/viewer/repo.git" }),
  "domain.create": (w) => ({ applicationId: w.applicationId, host: "viewer.example.com" }),
};
for (const procedure of ["start", "stop", "deploy", "redeploy", "delete"])
  DOKPLOY_MUTATIONS[`application.${procedure}`] = (w) => ({ applicationId: w.applicationId });
for (const engine of ENGINES) {
  DOKPLOY_MUTATIONS[`${engine}.create`] = (w) => ({ name: "viewer-db", projectId: w.projectId });
  for (const procedure of ["deploy", "start", "stop", "remove"])
    DOKPLOY_MUTATIONS[`${engine}.${procedure}`] = (w) => ({ [`${engine}Id`]: w.databases[engine] });
}
for (const [name, body] of Object.entries(DOKPLOY_MUTATIONS)) {
  // tRPC-OpenAPI, as the seed's scripts call it.
  WALK[`POST /api/${name}`] = { request: (w) => post(`/api/${name}`, body(w)), refused: dokploy };
  // tRPC, as @dokploy/cli calls it.
  WALK[`POST /api/trpc/${name}`] = {
    request: (w) => post(`/api/trpc/${name}`, { json: body(w) }),
    refused: {
      error: {
        json: {
          message: expect.stringMatching(/viewer/),
          code: -32003,
          data: { code: "FORBIDDEN", httpStatus: 403, path: name, zodError: null },
        },
      },
    },
  };
}

/** The Dokploy dispatchers stand for every mutation in the procedure table, on each wire format. */
function servedMutations(): string[] {
  const routes = new Set<string>();
  for (const r of [...compatRoutes.routes, ...devflowWebhookCompat.routes]) {
    if (!["POST", "PUT", "PATCH", "DELETE"].includes(r.method)) continue;
    if (r.path === "/api/trpc/:name" || r.path.startsWith("/api/:name{")) {
      const prefix = r.path === "/api/trpc/:name" ? "/api/trpc/" : "/api/";
      for (const [name, procedure] of PROCEDURES) if (procedure.kind === "mutation") routes.add(`POST ${prefix}${name}`);
      continue;
    }
    routes.add(`${r.method} ${r.path}`);
  }
  return [...routes];
}

/** What the owner sees: everything the walk could have changed. */
async function snapshot(w: World) {
  const t = { token: w.owner.token };
  const projects = await json(await call("/api/project.all", t), 200);
  const app = await json(await call(`/api/application.one?applicationId=${w.applicationId}`, t), 200);
  const dbs = await Promise.all(ENGINES.map(async (e) => json(await call(`/api/${e}.one?${e}Id=${w.databases[e]}`, t), 200)));
  const users = await json(await call("/api/v1/users", t), 200);
  const metrics = await json(await call(`/api/servers/${w.host.id}/metrics`, t), 200);
  const ownerInbox = await json(await call("/api/notifications", t), 200);
  return { projects, app, dbs, users, metrics, ownerInbox };
}

describe("roles on the compatibility surfaces", () => {
  it("a viewer (session or viewer API key) is refused every mutating compat route its canonical twin refuses, in the surface's envelope, and nothing changes", async () => {
    const owner = await newOwner();
    const hostRow = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    const agent = await ScriptedAgent.connect(hostRow.agent_token);
    await waitForStatus(owner, hostRow.id, "online");
    const project = await json(await call("/api/project.create", { token: owner.token, body: { name: "walked" } }), 200);
    const app = await json(
      await call("/api/application.create", { token: owner.token, body: { name: "web", projectId: project.projectId } }),
      200,
    );
    const environment = await json(
      await call("/api/environment.create", { token: owner.token, body: { name: "staging", projectId: project.projectId } }),
      200,
    );
    const databases = {} as World["databases"];
    for (const e of ENGINES) {
      const db = await json(
        await call(`/api/${e}.create`, { token: owner.token, body: { name: `db-${e}`, projectId: project.projectId } }),
        200,
      );
      databases[e] = db[`${e}Id`];
    }
    const viewer = await addMember(owner, "viewer");
    // Several sessions and keys of the one viewer: the walk makes more requests than one
    // credential's per-minute limit allows, and every one must reach the route's own check.
    const pool: Record<Who, Array<{ token?: string; apiKey?: string }>> = { session: [{ token: viewer.token }], key: [] };
    for (let i = 0; i < CREDENTIALS_PER_KIND; i++) {
      if (i > 0) pool.session.push({ token: (await login(viewer.username, viewer.password)).access_token });
      pool.key.push({ apiKey: (await json(await call("/api/v1/api-keys", { token: viewer.token, body: { name: `ro${i}` } }), 201)).key });
    }
    await notify(env, { organizationId: owner.organizationId, kind: "deployment.succeeded", title: "one", message: "one" });
    await notify(env, { organizationId: owner.organizationId, kind: "deployment.succeeded", title: "two", message: "two" });
    const viewerInbox = (await json(await call("/api/notifications", { token: viewer.token }), 200)).notifications;
    const w: World = {
      owner,
      host: { id: hostRow.id, name: hostRow.name },
      projectId: project.projectId,
      environmentId: environment.environmentId,
      applicationId: app.applicationId,
      appName: app.appName,
      databases,
      inbox: { session: viewerInbox[0].id, key: viewerInbox[1].id },
    };
    const before = await snapshot(w);

    // Every mutating route the surfaces serve is in the walk.
    const served = servedMutations();
    expect(
      served.filter((route) => !WALK[route]),
      "mutating compat routes missing from the walk",
    ).toEqual([]);

    let turn = 0;
    // Per-user routes last, clear-all at the very end: they act on the viewer's own inbox.
    const order = [...served].sort(
      (a, b) =>
        Number(!!WALK[a]!.allowed) - Number(!!WALK[b]!.allowed) || Number(a.includes("clear-all")) - Number(b.includes("clear-all")),
    );
    for (const route of order) {
      const walk = WALK[route]!;
      if (walk.skip) continue;
      for (const who of ["session", "key"] as const) {
        const req = walk.request!(w, who);
        const res = await call(req.path, {
          method: req.method ?? "POST",
          ...(req.body !== undefined ? { body: req.body } : {}),
          ...pool[who][turn++ % CREDENTIALS_PER_KIND],
        });
        const label = `${route} as the viewer's ${who}`;
        if (walk.allowed) {
          expect(res.status, label).toBe(walk.allowed.status);
          await res.body?.cancel();
          continue;
        }
        expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
        const body = await res.json();
        expect({ status: res.status, body }, label).toEqual({ status: 403, body: walk.refused });
      }
    }

    // Nothing changed for the organization: no command reached the host, no row moved.
    expect(agent.commands).toEqual([]);
    const after = await snapshot(w);
    expect(after).toEqual(before);
    expect(before.ownerInbox.total).toBe(2);
    // Two credentials times every mutating compat route: well over a hundred requests, which took
    // over 30 s on the loaded test machine.
  }, 120_000);
});
