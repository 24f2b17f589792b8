// Projects, applications, environment, domains and databases through the canonical API, in
// workerd against the local libSQL server: validation, roles, organization scoping, secrets.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { applications, auditEvents } from "../db/schema.ts";
import { eq } from "drizzle-orm";
import { parseDotenv, toDotenv } from "../services/environment.ts";
import { traefikLabels } from "../services/domains.ts";
import { containerSpec, getDatabaseService } from "../services/databases.ts";
import { addMember, call, expectProblem, json, newOwner, type TestAccount, unique } from "../testing.ts";

async function newProject(owner: TestAccount, name = `p-${Math.random().toString(36).slice(2, 8)}`) {
  return json(await call("/api/v1/projects", { token: owner.token, body: { name } }), 201);
}

describe("environment parsing", () => {
  it("reads dotenv text: comments, export, quotes, escapes, multi-line values, inline comments", () => {
    const text = [
      "# a comment",
      "export A=1",
      'B="two words"',
      "C='lit\\n'",
      'D="line1\\nline2 \\"q\\""',
      'E="multi',
      'line"',
      "F=plain # note",
      "",
      "G=",
    ].join("\n");
    const { vars, errors } = parseDotenv(text);
    expect(errors).toEqual([]);
    expect(vars).toEqual({ A: "1", B: "two words", C: "lit\\n", D: 'line1\nline2 "q"', E: "multi\nline", F: "plain", G: "" });
    expect(parseDotenv(toDotenv(vars)).vars).toEqual(vars);
    expect(parseDotenv("1BAD=x\nnot a line\nOK=1").errors).toEqual([expect.stringMatching(/line 1/), expect.stringMatching(/line 2/)]);
  });
});

describe("environments", () => {
  it("a project is made with production; services go into the environment named or the default; other organizations see nothing", async () => {
    const owner = await newOwner();
    const other = await newOwner();
    const viewer = await addMember(owner, "viewer");
    const project = await newProject(owner);
    expect(project.environments).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^env_/), name: "production", is_default: true }),
    ]);
    const production = project.environments[0];

    const staging = await json(
      await call(`/api/v1/projects/${project.id}/environments`, { token: owner.token, body: { name: "staging", description: "pre-prod" } }),
      201,
    );
    expect(staging).toMatchObject({ name: "staging", project_id: project.id, is_default: false, description: "pre-prod" });
    await expectProblem(
      await call(`/api/v1/projects/${project.id}/environments`, { token: owner.token, body: { name: "staging" } }),
      409,
      /already has an environment named staging/,
    );
    await expectProblem(await call(`/api/v1/projects/${project.id}/environments`, { token: owner.token, body: {} }), 422, /name/);
    await expectProblem(
      await call(`/api/v1/projects/${project.id}/environments`, { token: viewer.token, body: { name: "qa" } }),
      403,
      /viewer/,
    );
    await expectProblem(await call(`/api/v1/projects/${project.id}/environments`, { token: other.token, body: { name: "qa" } }), 404);
    await expectProblem(await call(`/api/v1/environments/${staging.id}`, { token: other.token }), 404);

    const list = await json(await call(`/api/v1/projects/${project.id}/environments`, { token: viewer.token }), 200);
    expect(list.environments.map((e: { name: string }) => e.name)).toEqual(["production", "staging"]);

    // By project: the default environment. By environment: that one (the project is implied).
    const inProd = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "api", image: "nginx:1.27" } }),
      201,
    );
    expect(inProd).toMatchObject({ project_id: project.id, environment_id: production.id });
    const inStaging = await json(
      await call("/api/v1/applications", {
        token: owner.token,
        body: { environment_id: staging.id, name: "api-staging", image: "nginx:1.27" },
      }),
      201,
    );
    expect(inStaging).toMatchObject({ project_id: project.id, environment_id: staging.id });
    const pg = await json(
      await call("/api/v1/databases", {
        token: owner.token,
        body: { environment_id: staging.id, engine: "postgres", name: "pg", start: false },
      }),
      201,
    );
    expect(pg).toMatchObject({ project_id: project.id, environment_id: staging.id });
    await expectProblem(
      await call("/api/v1/applications", { token: owner.token, body: { name: "nowhere", image: "nginx:1.27" } }),
      422,
      /project_id/,
    );
    const elsewhere = await newProject(owner);
    await expectProblem(
      await call("/api/v1/applications", {
        token: owner.token,
        body: { project_id: elsewhere.id, environment_id: staging.id, name: "mismatch", image: "nginx:1.27" },
      }),
      422,
      /another project/,
    );
    await expectProblem(
      await call("/api/v1/applications", { token: other.token, body: { environment_id: staging.id, name: "x", image: "nginx:1.27" } }),
      404,
    );

    const detail = await json(await call(`/api/v1/environments/${staging.id}`, { token: owner.token }), 200);
    expect(detail.applications.map((a: { id: string }) => a.id)).toEqual([inStaging.id]);
    expect(detail.databases.map((d: { id: string }) => d.id)).toEqual([pg.id]);
    const filtered = await json(await call(`/api/v1/applications?environment_id=${production.id}`, { token: owner.token }), 200);
    expect(filtered.applications.map((a: { id: string }) => a.id)).toEqual([inProd.id]);
    const projectDetail = await json(await call(`/api/v1/projects/${project.id}`, { token: owner.token }), 200);
    expect(projectDetail.environments.map((e: { id: string }) => e.id)).toEqual([production.id, staging.id]);

    await expectProblem(
      await call(`/api/v1/environments/${production.id}`, { method: "PATCH", token: owner.token, body: { name: "prod" } }),
      409,
      /default environment/,
    );
    expect(
      await json(await call(`/api/v1/environments/${staging.id}`, { method: "PATCH", token: owner.token, body: { name: "stage" } }), 200),
    ).toMatchObject({ name: "stage" });
    await expectProblem(
      await call(`/api/v1/environments/${production.id}`, { method: "DELETE", token: owner.token }),
      409,
      /cannot be deleted/,
    );
    await expectProblem(
      await call(`/api/v1/environments/${staging.id}`, { method: "DELETE", token: owner.token }),
      409,
      /still has 1 application\(s\) and 1 database/,
    );
    expect((await call(`/api/v1/environments/${staging.id}?force=true`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`/api/v1/applications/${inStaging.id}`, { token: owner.token }), 404);
    await expectProblem(await call(`/api/v1/databases/${pg.id}`, { token: owner.token }), 404);
    expect((await call(`/api/v1/applications/${inProd.id}`, { token: owner.token })).status).toBe(200);
  });
});

describe("projects", () => {
  it("are created, listed, renamed, and refuse deletion while they hold applications unless forced", async () => {
    const owner = await newOwner();
    const project = await newProject(owner, "shop");
    expect(project).toMatchObject({ id: expect.stringMatching(/^prj_/), name: "shop" });
    await expectProblem(await call("/api/v1/projects", { token: owner.token, body: { name: "shop" } }), 409, /already exists/);
    const list = await json(await call("/api/v1/projects", { token: owner.token }), 200);
    expect(list.projects.map((p: { id: string }) => p.id)).toContain(project.id);
    expect(
      await json(
        await call(`/api/v1/projects/${project.id}`, { method: "PATCH", token: owner.token, body: { description: "the shop" } }),
        200,
      ),
    ).toMatchObject({ description: "the shop" });

    const app = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "Web Shop", image: "nginx:1.27" } }),
      201,
    );
    expect(app).toMatchObject({ app_name: "web-shop", source_type: "image", pull_policy: "missing", host_id: null, status: "idle" });
    const detail = await json(await call(`/api/v1/projects/${project.id}`, { token: owner.token }), 200);
    expect(detail.applications).toEqual([expect.objectContaining({ id: app.id, app_name: "web-shop" })]);

    await expectProblem(
      await call(`/api/v1/projects/${project.id}`, { method: "DELETE", token: owner.token }),
      409,
      /still has 1 application/,
    );
    expect((await call(`/api/v1/projects/${project.id}?force=true`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call(`/api/v1/applications/${app.id}`, { token: owner.token }), 404);
  });

  it("look missing to other organizations, and viewers only read", async () => {
    const owner = await newOwner();
    const other = await newOwner();
    const viewer = await addMember(owner, "viewer");
    const project = await newProject(owner);
    await expectProblem(await call(`/api/v1/projects/${project.id}`, { token: other.token }), 404);
    await expectProblem(await call(`/api/v1/projects/${project.id}`, { method: "DELETE", token: other.token }), 404);
    expect((await call(`/api/v1/projects/${project.id}`, { token: viewer.token })).status).toBe(200);
    await expectProblem(await call("/api/v1/projects", { token: viewer.token, body: { name: "nope" } }), 403, /viewer/);
    await expectProblem(
      await call("/api/v1/applications", { token: other.token, body: { project_id: project.id, name: "x", image: "busybox" } }),
      404,
    );
  });
});

describe("applications", () => {
  it("validate sources, names and paths before anything reaches a host", async () => {
    const owner = await newOwner();
    const project = await newProject(owner);
    const bad = async (body: Record<string, unknown>, pointer: string) => {
      const problem = await expectProblem(
        await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "x", ...body } }),
        422,
      );
      expect(problem.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    };
    await bad({ git_url: "-oProxyCommand=touch /tmp/x" }, "/body/git_url");
    await bad({ git_url: "https://oauth2:glpat-secret@gitlab.example.com/o/r.git" }, "/body/git_url");
    await bad({ git_url: "https://example.com/r.git", git_branch: "--upload-pack=x" }, "/body/git_branch");
    await bad({ git_url: "https://example.com/r.git", dockerfile: "../../etc/passwd" }, "/body/dockerfile");
    await bad({ app_name: "Has Capitals" }, "/body/app_name");
    await bad({ image: "nginx; rm -rf /" }, "/body/image");
    await bad({ build_type: "magic" }, "/body/build_type");
    await bad({ source_type: "git" }, "/body/git_url");
    await bad({ environment: "1BAD=x" }, "/body/environment");
    await bad(
      {
        image: "a",
        ports: [
          { container_port: 80, host_port: 8080 },
          { container_port: 81, host_port: 8080 },
        ],
      },
      "/body/ports",
    );
    await expectProblem(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "x", host_id: "hst_nope" } }),
      404,
    );
    // Dokploy-style: no source yet is fine; it fails at deploy time with a clear reason.
    expect(
      await json(await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "empty" } }), 201),
    ).toMatchObject({ source_type: null });
    await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "a", app_name: "taken" } }),
      201,
    );
    await expectProblem(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "b", app_name: "taken" } }),
      409,
      /already used/,
    );
  });

  it("keep the environment and git token encrypted, masked, and revealed to admins only", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const project = await newProject(owner);
    const app = await json(
      await call("/api/v1/applications", {
        token: owner.token,
        body: {
          project_id: project.id,
          name: "api",
          git_url: "https://git.example.com/org/api.git",
          git_token: "glpat-very-secret-token",
          environment: "DATABASE_URL=postgres://u:hunter2hunter2@db/app\nMODE=prod",
        },
      }),
      201,
    );
    expect(app).toMatchObject({
      source_type: "git",
      git_branch: "main",
      build_type: "dockerfile",
      git_auth: "token",
      environment: { DATABASE_URL: "********", MODE: "********" },
    });
    expect(JSON.stringify(app)).not.toContain("hunter2");
    expect(JSON.stringify(app)).not.toContain("glpat");
    // At rest: sealed, not plain.
    const [row] = await createDatabase(env).select().from(applications).where(eq(applications.id, app.id));
    expect(row!.envEncrypted).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain("hunter2");
    expect(JSON.stringify(row)).not.toContain("glpat-very");

    // Admins see the webhook URL and secret; members do not, nor can they set secrets.
    expect(app.webhook_url).toMatch(/\/api\/v1\/webhooks\/whk_[a-z0-9]{40}$/);
    expect(app.webhook_secret).toMatch(/^[a-z0-9]{40}$/);
    const asMember = await json(await call(`/api/v1/applications/${app.id}`, { token: member.token }), 200);
    expect(asMember).toMatchObject({ webhook_url: null, webhook_secret: null, environment: { MODE: "********" } });
    await expectProblem(await call(`/api/v1/applications/${app.id}/environment?reveal=true`, { token: member.token }), 403, /admin/);
    await expectProblem(
      await call(`/api/v1/applications/${app.id}`, { method: "PATCH", token: member.token, body: { git_token: "x" } }),
      403,
      /git_token/,
    );
    await expectProblem(
      await call(`/api/v1/applications/${app.id}/environment`, { method: "PUT", token: member.token, body: { environment: { A: "1" } } }),
      403,
    );
    expect(
      await json(
        await call(`/api/v1/applications/${app.id}`, { method: "PATCH", token: member.token, body: { git_branch: "release" } }),
        200,
      ),
    ).toMatchObject({ git_branch: "release" });

    const revealed = await json(await call(`/api/v1/applications/${app.id}/environment?reveal=true`, { token: owner.token }), 200);
    expect(revealed).toMatchObject({ revealed: true, environment: { DATABASE_URL: "postgres://u:hunter2hunter2@db/app", MODE: "prod" } });
    const merged = await json(
      await call(`/api/v1/applications/${app.id}/environment`, {
        method: "PATCH",
        token: owner.token,
        body: { environment: { EXTRA: 1 } },
      }),
      200,
    );
    expect(Object.keys(merged.environment)).toEqual(["DATABASE_URL", "MODE", "EXTRA"]);
    const replaced = await json(
      await call(`/api/v1/applications/${app.id}/environment`, { method: "PUT", token: owner.token, body: { environment: "ONLY=this" } }),
      200,
    );
    expect(replaced.environment).toEqual({ ONLY: "********" });

    // Audit events name the keys, never the values.
    const audit = await createDatabase(env).select().from(auditEvents).where(eq(auditEvents.targetId, app.id));
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["application.create", "application.update", "application.environment.reveal", "application.environment.set"]),
    );
    expect(JSON.stringify(audit)).not.toContain("hunter2");
    expect(JSON.stringify(audit)).not.toContain("this");

    const rotated = await json(
      await call(`/api/v1/applications/${app.id}/webhook/rotate`, { method: "POST", token: owner.token, body: { rotate: "both" } }),
      200,
    );
    expect(rotated.webhook_secret).not.toBe(app.webhook_secret);
    expect(rotated.webhook_url).not.toBe(app.webhook_url);
  });

  it("refuse start and stop before a first deployment", async () => {
    const owner = await newOwner();
    const project = await newProject(owner);
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: "h1" } }), 201);
    const app = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "w", image: "busybox" } }),
      201,
    );
    expect(app.host_id).toBe(host.id);
    await expectProblem(
      await call(`/api/v1/applications/${app.id}/start`, { method: "POST", token: owner.token }),
      409,
      /not been deployed/,
    );
  });
});

describe("domains", () => {
  it("are validated, unique in an organization, and become Traefik labels", async () => {
    const owner = await newOwner();
    const other = await newOwner();
    const project = await newProject(owner);
    const app = await json(
      await call("/api/v1/applications", {
        token: owner.token,
        body: { project_id: project.id, name: "site", image: "busybox", ports: [{ container_port: 8080 }] },
      }),
      201,
    );
    const domain = await json(
      await call(`/api/v1/applications/${app.id}/domains`, {
        token: owner.token,
        body: { host: "Shop.Example.com", https: true, certificate_type: "letsencrypt" },
      }),
      201,
    );
    expect(domain).toMatchObject({ host: "shop.example.com", https: true, certificate_type: "letsencrypt", path: "/" });
    await expectProblem(
      await call(`/api/v1/applications/${app.id}/domains`, { token: owner.token, body: { host: "shop.example.com" } }),
      409,
    );
    for (const host of ["localhost", "bad_host.example.com", "10.0.0.1", "-x.example.com"]) {
      await expectProblem(await call(`/api/v1/applications/${app.id}/domains`, { token: owner.token, body: { host } }), 422);
    }
    // Unique per organization only.
    const otherProject = await newProject(other);
    const otherApp = await json(
      await call("/api/v1/applications", { token: other.token, body: { project_id: otherProject.id, name: "site", image: "busybox" } }),
      201,
    );
    expect(
      (await call(`/api/v1/applications/${otherApp.id}/domains`, { token: other.token, body: { host: "shop.example.com" } })).status,
    ).toBe(201);
    await expectProblem(await call(`/api/v1/domains/${domain.id}`, { token: other.token }), 404);

    const labels = traefikLabels(
      "site",
      [{ id: domain.id, host: "shop.example.com", path: "/", https: true, certificateType: "letsencrypt", containerPort: null } as never],
      [{ container_port: 8080 }],
      "pier-net",
    );
    const router = `site-${domain.id.slice(4, 12)}`;
    expect(labels).toMatchObject({
      "traefik.enable": "true",
      "traefik.docker.network": "pier-net",
      [`traefik.http.routers.${router}.rule`]: "Host(`shop.example.com`)",
      [`traefik.http.routers.${router}.entrypoints`]: "web",
      [`traefik.http.routers.${router}.middlewares`]: "site-redirect-https",
      [`traefik.http.routers.${router}-secure.entrypoints`]: "websecure",
      [`traefik.http.routers.${router}-secure.tls.certresolver`]: "letsencrypt",
      [`traefik.http.services.${router}.loadbalancer.server.port`]: "8080",
    });
  });
});

describe("databases", () => {
  it("generate credentials, follow each image's conventions, and show the connection string to admins only", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const project = await newProject(owner);
    const pg = await json(
      await call("/api/v1/databases", {
        token: member.token,
        body: { project_id: project.id, engine: "postgres", name: "Main DB", start: false },
      }),
      201,
    );
    expect(pg).toMatchObject({
      engine: "postgres",
      app_name: "main-db",
      image: "postgres:16",
      database_name: "main_db",
      database_user: "pier",
      internal_port: 5432,
      volume: "main-db-data",
      status: "idle",
    });
    await expectProblem(await call(`/api/v1/databases/${pg.id}/connection`, { token: member.token }), 403);
    const conn = await json(await call(`/api/v1/databases/${pg.id}/connection`, { token: owner.token }), 200);
    expect(conn.password).toMatch(/^[a-z0-9]{32}$/);
    expect(conn.connection_string).toBe(`postgresql://pier:${conn.password}@main-db:5432/main_db`);

    const my = await json(
      await call("/api/v1/databases", {
        token: owner.token,
        body: { project_id: project.id, engine: "mysql", name: "legacy", database_password: "given-password", start: false },
      }),
      201,
    );
    const myConn = await json(await call(`/api/v1/databases/${my.id}/connection`, { token: owner.token }), 200);
    expect(myConn).toMatchObject({
      password: "given-password",
      root_password: expect.stringMatching(/^[a-z0-9]{32}$/),
      connection_string: "mysql://pier:given-password@legacy:3306/legacy",
    });
    const redis = await json(
      await call("/api/v1/databases", {
        token: owner.token,
        body: { project_id: project.id, engine: "redis", name: "cache", start: false },
      }),
      201,
    );
    expect(redis).toMatchObject({ database_name: null, database_user: null, internal_port: 6379 });
    // The container each engine gets: its image's environment conventions, volume and command.
    const db = createDatabase(env);
    const mySpec = await containerSpec(env, await getDatabaseService(db, { organizationId: owner.organizationId }, my.id));
    expect(mySpec).toMatchObject({
      kind: "database",
      image: "mysql:8.4",
      strategy: "stop-first",
      volumes: [{ source: "legacy-data", target: "/var/lib/mysql" }],
      network: { aliases: ["legacy"] },
    });
    expect(mySpec.env).toEqual({
      MYSQL_DATABASE: "legacy",
      MYSQL_USER: "pier",
      MYSQL_PASSWORD: "given-password",
      MYSQL_ROOT_PASSWORD: myConn.root_password,
    });
    const redisSpec = await containerSpec(env, await getDatabaseService(db, { organizationId: owner.organizationId }, redis.id));
    expect(redisSpec).toMatchObject({
      cmd: ["sh", "-c", 'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes'],
      volumes: [{ target: "/data" }],
    });
    expect(Object.keys(redisSpec.env)).toEqual(["REDIS_PASSWORD"]);
    const mongo = await json(
      await call("/api/v1/databases", {
        token: owner.token,
        body: { project_id: project.id, engine: "mongo", name: "docs", start: false },
      }),
      201,
    );
    const mongoSpec = await containerSpec(env, await getDatabaseService(db, { organizationId: owner.organizationId }, mongo.id));
    expect(Object.keys(mongoSpec.env)).toEqual(["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD", "MONGO_INITDB_DATABASE"]);
    expect((await json(await call(`/api/v1/databases/${mongo.id}/connection`, { token: owner.token }), 200)).connection_string).toMatch(
      /^mongodb:\/\/root:[a-z0-9]{32}@docs:27017\/docs\?authSource=admin$/,
    );
    // App names are shared between applications and databases.
    await expectProblem(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "x", app_name: "cache" } }),
      409,
    );
    // No host: starting says so instead of failing obscurely.
    await expectProblem(await call(`/api/v1/databases/${redis.id}/start`, { method: "POST", token: owner.token }), 409, /no host/);
  });
});

describe("Dokploy surface", () => {
  it("needs x-api-key and answers tRPC-style errors", async () => {
    const res = await call("/api/project.all");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "UNAUTHORIZED", message: expect.any(String) });
    const owner = await newOwner();
    const key = (await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "ci" } }), 201)).key;
    const bad = await call("/api/application.saveBuildType", { apiKey: key, body: { applicationId: "app_x", buildType: "magic" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "BAD_REQUEST", issues: expect.any(Array) });
    const missing = await call("/api/application.one?applicationId=app_nope", { apiKey: key });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("project activity", () => {
  it("lists what happened to the project and what it holds, newest first, to every role, without the audit log's details", async () => {
    const owner = await newOwner();
    const other = await newOwner();
    const viewer = await addMember(owner, "viewer");
    const project = await newProject(owner);
    const elsewhere = await newProject(owner);
    const created = await json(
      await call("/api/v1/applications", { token: owner.token, body: { project_id: project.id, name: "api", image: "nginx:1.27" } }),
      201,
    );
    await json(
      await call(`/api/v1/applications/${created.id}/environment`, {
        token: owner.token,
        method: "PUT",
        body: { environment: { SECRET: "not-in-the-feed" } },
      }),
      200,
    );
    await json(
      await call(`/api/v1/applications/${created.id}/domains`, { token: owner.token, body: { host: `${unique("act")}.example.com` } }),
      201,
    );
    await json(
      await call("/api/v1/applications", {
        token: owner.token,
        body: { project_id: elsewhere.id, name: "unrelated", image: "nginx:1.27" },
      }),
      201,
    );

    const feed = await json(await call(`/api/v1/projects/${project.id}/activity`, { token: viewer.token }), 200);
    const actions = feed.activity.map((e: { action: string }) => e.action);
    expect([...actions].sort()).toEqual(["application.create", "application.environment.set", "domain.create", "project.create"]);
    const times = feed.activity.map((e: { created_at: string }) => e.created_at);
    expect(times).toEqual([...times].sort().reverse());
    expect(feed.activity[0]).toEqual({
      id: expect.stringMatching(/^aud_/),
      action: expect.any(String),
      target_type: expect.any(String),
      target_id: expect.any(String),
      actor_type: "user",
      actor_id: owner.userId,
      actor_name: owner.username,
      created_at: expect.any(String),
    });
    expect(JSON.stringify(feed)).not.toContain("not-in-the-feed");
    expect(JSON.stringify(feed)).not.toContain("SECRET");

    const firstPage = await json(await call(`/api/v1/projects/${project.id}/activity?limit=1`, { token: owner.token }), 200);
    expect(firstPage.activity).toHaveLength(1);
    const next = await json(
      await call(`/api/v1/projects/${project.id}/activity?limit=1&cursor=${encodeURIComponent(firstPage.next_cursor)}`, {
        token: owner.token,
      }),
      200,
    );
    expect(next.activity[0].id).toBe(feed.activity[1].id);

    await expectProblem(await call(`/api/v1/projects/${project.id}/activity`, { token: other.token }), 404);
    await expectProblem(await call(`/api/v1/projects/${project.id}/activity?limit=0`, { token: owner.token }), 422);
  });
});
