import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { notify } from "../services/notifications.ts";
import { addMember, call, json, newOwner, type TestAccount, unique, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";
import { devflowWebhookCompat } from "./devflow-webhooks.ts";
import { compatRoutes } from "./index.ts";

// Every mutating route of every compatibility surface, walked with a viewer's session and a
// viewer-role API key: each must refuse exactly where its canonical twin refuses, in its own
// surface's envelope, and change nothing. A new mutating compat route fails the walk until it is
// listed here with what its canonical twin allows.

const ENGINES = ["postgres", "mysql", "mariadb", "mongo", "redis"] as const;

interface World {
  owner: TestAccount;
  host: { id: string; name: string };
  projectId: string;
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
  // 004
  "POST /api/session/refresh": { skip: "renews the session of the refresh token it is given" },
  "POST /session/refresh": { skip: "renews the session of the refresh token it is given" },
  "POST /api/alerts/clear": { request: (w) => post("/api/alerts/clear", { host_id: w.host.id }), refused: v2 },
  "POST /api/alerts/:id/acknowledge": { request: () => post("/api/alerts/alr_none/acknowledge"), refused: v2 },
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
  // 000
  "POST /api/project.create": { request: () => post("/api/project.create", { name: "viewer-project" }), refused: dokploy },
  "POST /api/project.remove": { request: (w) => post("/api/project.remove", { projectId: w.projectId }), refused: dokploy },
  "POST /api/application.create": {
    request: (w) => post("/api/application.create", { name: "viewer-app", projectId: w.projectId }),
    refused: dokploy,
  },
  "POST /api/domain.create": {
    request: (w) => post("/api/domain.create", { applicationId: w.applicationId, host: "viewer.example.com" }),
    refused: dokploy,
  },
};
for (const procedure of ["start", "stop", "deploy", "redeploy", "delete"])
  WALK[`POST /api/application.${procedure}`] = {
    request: (w) => post(`/api/application.${procedure}`, { applicationId: w.applicationId }),
    refused: dokploy,
  };
for (const [procedure, body] of [
  ["saveEnvironment", { env: "SECRET=viewer" }],
  ["saveBuildType", { buildType: "nixpacks" }],
  ["saveDockerProvider", { dockerImage: "viewer/image:latest" }],
  ["saveGitProvider", { customGitUrl: "https://github.com/viewer/repo.git" }],
] as const)
  WALK[`POST /api/application.${procedure}`] = {
    request: (w) => post(`/api/application.${procedure}`, { applicationId: w.applicationId, ...body }),
    refused: dokploy,
  };
for (const engine of ENGINES) {
  WALK[`POST /api/${engine}.create`] = {
    request: (w) => post(`/api/${engine}.create`, { name: "viewer-db", projectId: w.projectId }),
    refused: dokploy,
  };
  for (const procedure of ["deploy", "start", "stop", "remove"])
    WALK[`POST /api/${engine}.${procedure}`] = {
      request: (w) => post(`/api/${engine}.${procedure}`, { [`${engine}Id`]: w.databases[engine] }),
      refused: dokploy,
    };
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
    const databases = {} as World["databases"];
    for (const e of ENGINES) {
      const db = await json(
        await call(`/api/${e}.create`, { token: owner.token, body: { name: `db-${e}`, projectId: project.projectId } }),
        200,
      );
      databases[e] = db[`${e}Id`];
    }
    const viewer = await addMember(owner, "viewer");
    const viewerKey = (await json(await call("/api/v1/api-keys", { token: viewer.token, body: { name: "ro" } }), 201)).key;
    await notify(env, { organizationId: owner.organizationId, kind: "deployment.succeeded", title: "one", message: "one" });
    await notify(env, { organizationId: owner.organizationId, kind: "deployment.succeeded", title: "two", message: "two" });
    const viewerInbox = (await json(await call("/api/notifications", { token: viewer.token }), 200)).notifications;
    const w: World = {
      owner,
      host: { id: hostRow.id, name: hostRow.name },
      projectId: project.projectId,
      applicationId: app.applicationId,
      appName: app.appName,
      databases,
      inbox: { session: viewerInbox[0].id, key: viewerInbox[1].id },
    };
    const before = await snapshot(w);

    // Every mutating route the surfaces serve is in the walk.
    const served = new Set(
      [...compatRoutes.routes, ...devflowWebhookCompat.routes]
        .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method))
        .map((r) => `${r.method} ${r.path}`),
    );
    expect(
      [...served].filter((route) => !WALK[route]),
      "mutating compat routes missing from the walk",
    ).toEqual([]);

    const credentials: Record<Who, { token?: string; apiKey?: string }> = { session: { token: viewer.token }, key: { apiKey: viewerKey } };
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
          ...credentials[who],
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
  });
});
