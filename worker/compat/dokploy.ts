// Compatibility with Dokploy's HTTP API as scripts and CI use it (seed 000): `/api/<router>.<procedure>`
// with `x-api-key`, Dokploy's field names (projectId, applicationId, appName, …), its status words
// (applicationStatus idle/running/done/error; deployment status running/done/error/cancelled) and
// tRPC-OpenAPI's error body `{message, code}`. A thin adapter over the canonical services.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { Branch, GitUrl, ImageRef, Name, RelativePath } from "../routes/app-schemas.ts";
import * as apps from "../services/applications.ts";
import * as databases from "../services/databases.ts";
import * as deployments from "../services/deployments.ts";
import * as domains from "../services/domains.ts";
import { MASK } from "../services/environment.ts";
import * as projects from "../services/projects.ts";
import { roleAtLeast } from "../services/principal.ts";
import type { DatabaseEngine, DeploymentStatus } from "../db/schema.ts";
import { readJson } from "./validate.ts";

export const dokployCompat = new Hono<AppEnv>();

// Errors: Dokploy's envelope, written by compat/envelopes.ts for every path of this surface.

dokployCompat.use("/api/*", async function dokployAuth(c, next) {
  // Only Dokploy's procedure paths (`/api/<router>.<procedure>`) are this surface's.
  if (!/^\/api\/[a-zA-Z]+\.[a-zA-Z]+$/.test(new URL(c.req.url).pathname)) return next();
  return requireAuth()(c, next);
});

// ---- views ----------------------------------------------------------------------------------

const deploymentStatus = (s: DeploymentStatus): "running" | "done" | "error" | "cancelled" =>
  s === "succeeded" ? "done" : s === "failed" ? "error" : s === "cancelled" ? "cancelled" : "running";

const applicationStatus = (s: apps.ApplicationRow["status"]): "idle" | "running" | "done" | "error" =>
  s === "running" ? "done" : s === "deploying" ? "running" : s === "failed" ? "error" : "idle";

const sourceType = (a: apps.ApplicationRow) => (a.sourceType === "image" ? "docker" : a.sourceType === "git" ? "git" : "github");

async function applicationView(c: Context<AppEnv>, a: apps.ApplicationRow, withDetail = false) {
  const vars = await apps.environmentOf(c.env, a);
  const base = {
    applicationId: a.id,
    name: a.name,
    appName: a.appName,
    description: a.description,
    env: Object.keys(vars)
      .map((k) => `${k}=${MASK}`)
      .join("\n"),
    buildType: a.buildType,
    sourceType: sourceType(a),
    dockerImage: a.image,
    customGitUrl: a.gitUrl,
    customGitBranch: a.gitBranch,
    customGitBuildPath: a.gitPath ?? "/",
    dockerfile: a.dockerfile ?? "Dockerfile",
    dockerContextPath: a.gitPath ?? "",
    publishDirectory: a.publishDir,
    applicationStatus: applicationStatus(a.status),
    memoryLimit: a.memoryBytes,
    cpuLimit: a.cpus,
    projectId: a.projectId,
    serverId: a.hostId,
    createdAt: a.createdAt,
  };
  if (!withDetail) return base;
  const org = c.var.principal.organizationId;
  const [doms, history] = await Promise.all([
    domains.listDomains(c.var.db, org, a.id),
    deployments.listDeployments(c.var.db, org, a.id, { limit: 50 }),
  ]);
  return { ...base, domains: doms.map(domainView), deployments: history.items.map(deploymentView) };
}

const deploymentView = (d: deployments.DeploymentRow) => ({
  deploymentId: d.id,
  title: d.title,
  description: d.commitSha ? `commit ${d.commitSha}` : null,
  status: deploymentStatus(d.status),
  logPath: `/api/v1/deployments/${d.id}/logs`,
  applicationId: d.applicationId,
  serverId: d.hostId,
  createdAt: d.createdAt,
  startedAt: d.startedAt,
  finishedAt: d.finishedAt,
  errorMessage: d.error,
});

const domainView = (d: domains.DomainRow) => ({
  domainId: d.id,
  host: d.host,
  https: d.https,
  port: d.containerPort,
  path: d.path,
  certificateType: d.certificateType,
  applicationId: d.applicationId,
  domainType: "application",
  createdAt: d.createdAt,
});

const ID_FIELD: Record<DatabaseEngine, string> = {
  postgres: "postgresId",
  mysql: "mysqlId",
  mariadb: "mariadbId",
  mongo: "mongoId",
  redis: "redisId",
};

async function databaseView(c: Context<AppEnv>, d: databases.DatabaseRow) {
  const admin = roleAtLeast(c.var.principal.role, "admin");
  const info = admin ? await databases.connectionInfo(c.env, d) : null;
  return {
    [ID_FIELD[d.engine]]: d.id,
    name: d.name,
    appName: d.appName,
    description: d.description,
    ...(d.databaseName !== null ? { databaseName: d.databaseName } : {}),
    ...(d.databaseUser !== null ? { databaseUser: d.databaseUser } : {}),
    // Dokploy returns the password; Pier shows it to admins only.
    ...(info ? { databasePassword: info.password, ...(info.root_password ? { databaseRootPassword: info.root_password } : {}) } : {}),
    dockerImage: d.image,
    externalPort: d.externalPort,
    applicationStatus: d.status === "running" ? "done" : d.status === "error" ? "error" : "idle",
    projectId: d.projectId,
    serverId: d.hostId,
    createdAt: d.createdAt,
  };
}

async function projectView(c: Context<AppEnv>, p: projects.ProjectRow) {
  const org = c.var.principal.organizationId;
  const [appRows, dbRows] = await Promise.all([
    apps.applicationsOfProject(c.var.db, org, p.id),
    databases.databasesOfProject(c.var.db, org, p.id),
  ]);
  const dbs = await Promise.all(dbRows.map((d) => databaseView(c, d)));
  const byEngine = (engine: DatabaseEngine) => dbs.filter((_, i) => dbRows[i]!.engine === engine);
  return {
    projectId: p.id,
    name: p.name,
    description: p.description,
    createdAt: p.createdAt,
    organizationId: p.organizationId,
    env: "",
    applications: await Promise.all(appRows.map((a) => applicationView(c, a))),
    postgres: byEngine("postgres"),
    mysql: byEngine("mysql"),
    mariadb: byEngine("mariadb"),
    mongo: byEngine("mongo"),
    redis: byEngine("redis"),
    compose: [],
  };
}

// ---- inputs ---------------------------------------------------------------------------------

const Id = z.string().min(1).max(64);
/** Dokploy cleans the app name it is given (lower case, no spaces) and suffixes it. */
const DokployAppName = z.string().trim().min(1).max(56).optional();
const query = (c: Context<AppEnv>, name: string) => {
  const value = c.req.query(name);
  if (!value)
    throw new ApiError(400, `${name} is required in the query string.`, { errors: [{ pointer: `/query/${name}`, detail: "required" }] });
  return value;
};
const dockerfilePath = (p: string | null | undefined) => (p ? p.replace(/^\.\//, "") || null : p);
const buildPath = (p: string | null | undefined) =>
  p === undefined ? undefined : p && p !== "/" && p !== "." ? p.replace(/^\.?\//, "").replace(/\/+$/, "") || null : null;

// ---- projects -------------------------------------------------------------------------------

dokployCompat.get("/api/project.all", async (c) => {
  const rows = await projects.allProjects(c.var.db, c.var.principal.organizationId);
  return c.json(await Promise.all(rows.map((p) => projectView(c, p))));
});

dokployCompat.get("/api/project.one", async (c) => {
  const row = await projects.getProject(c.var.db, c.var.principal.organizationId, query(c, "projectId"));
  return c.json(await projectView(c, row));
});

dokployCompat.post("/api/project.create", async (c) => {
  const body = await readJson(c, z.object({ name: Name, description: z.string().max(2000).nullish() }));
  const row = await projects.createProject(c.var.db, authedActor(c), { name: body.name, description: body.description ?? null });
  return c.json({
    projectId: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.createdAt,
    organizationId: row.organizationId,
    env: "",
  });
});

dokployCompat.post("/api/project.remove", async (c) => {
  const { projectId } = await readJson(c, z.object({ projectId: Id }));
  const row = await projects.getProject(c.var.db, c.var.principal.organizationId, projectId);
  // Dokploy removes a project with everything in it.
  await projects.deleteProject(c.var.db, c.env, authedActor(c), projectId, { force: true });
  return c.json({
    projectId: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.createdAt,
    organizationId: row.organizationId,
  });
});

// ---- applications ---------------------------------------------------------------------------

dokployCompat.post("/api/application.create", async (c) => {
  const body = await readJson(
    c,
    z.object({ name: Name, projectId: Id, appName: DokployAppName, description: z.string().max(2000).nullish(), serverId: Id.nullish() }),
  );
  // No server named: the organization's default host (Dokploy's "this server").
  const row = await apps.createApplication(
    c.var.db,
    c.env,
    authedActor(c),
    {
      project_id: body.projectId,
      name: body.name,
      app_name: body.appName ? apps.slugify(body.appName) : undefined,
      description: body.description ?? null,
      host_id: body.serverId ?? undefined,
    },
    { suffixAppName: true },
  );
  return c.json(await applicationView(c, row));
});

dokployCompat.get("/api/application.one", async (c) => {
  const row = await apps.getApplication(c.var.db, c.var.principal.organizationId, query(c, "applicationId"));
  return c.json(await applicationView(c, row, true));
});

const ByApplication = z.object({ applicationId: Id });

for (const action of ["start", "stop"] as const) {
  dokployCompat.post(`/api/application.${action}`, async (c) => {
    const { applicationId } = await readJson(c, ByApplication);
    const { row } = await apps.changeState(c.var.db, c.env, authedActor(c), applicationId, action);
    return c.json(await applicationView(c, row));
  });
}

for (const procedure of ["deploy", "redeploy"] as const) {
  dokployCompat.post(`/api/application.${procedure}`, async (c) => {
    const body = await readJson(
      c,
      ByApplication.extend({ title: z.string().max(200).optional(), description: z.string().max(2000).optional() }),
    );
    await deployments.requestDeployment(c.var.db, c.env, authedActor(c), body.applicationId, {
      trigger: "dokploy",
      title: body.title || (procedure === "redeploy" ? "Rebuild deployment" : "Manual deployment"),
    });
    return c.json(true);
  });
}

dokployCompat.post("/api/application.delete", async (c) => {
  const { applicationId } = await readJson(c, ByApplication);
  const row = await apps.deleteApplication(c.var.db, c.env, authedActor(c), applicationId);
  return c.json({ applicationId: row.id, name: row.name, appName: row.appName, projectId: row.projectId, createdAt: row.createdAt });
});

dokployCompat.post("/api/application.saveEnvironment", async (c) => {
  const body = await readJson(
    c,
    ByApplication.extend({
      env: z
        .string()
        .max(256 * 1024)
        .nullish(),
      buildArgs: z.string().nullish(),
    }),
  );
  await apps.setEnvironment(c.var.db, c.env, authedActor(c), body.applicationId, body.env ?? "");
  return c.json(true);
});

const DOKPLOY_BUILD_TYPES = ["dockerfile", "heroku_buildpacks", "paketo_buildpacks", "nixpacks", "static", "railpack"] as const;

dokployCompat.post("/api/application.saveBuildType", async (c) => {
  const body = await readJson(
    c,
    ByApplication.extend({
      buildType: z.enum(DOKPLOY_BUILD_TYPES),
      dockerfile: z.string().max(1024).nullish(),
      dockerContextPath: z.string().max(1024).nullish(),
      dockerBuildStage: z.string().max(255).nullish(),
      publishDirectory: z.string().max(1024).nullish(),
      herokuVersion: z.string().nullish(),
      railpackVersion: z.string().nullish(),
      isStaticSpa: z.boolean().nullish(),
    }),
  );
  const dockerfile = dockerfilePath(body.dockerfile);
  const context = buildPath(body.dockerContextPath ?? undefined);
  const publish = buildPath(body.publishDirectory ?? undefined);
  for (const [field, value] of [
    ["dockerfile", dockerfile],
    ["dockerContextPath", context],
    ["publishDirectory", publish],
  ] as const) {
    if (value && !RelativePath.safeParse(value).success) throw new ApiError(400, `${field} must be a relative path inside the repository.`);
  }
  await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
    build_type: body.buildType,
    ...(dockerfile !== undefined ? { dockerfile } : {}),
    ...(context !== undefined ? { git_path: context } : {}),
    ...(publish !== undefined ? { publish_dir: publish } : {}),
  });
  return c.json(true);
});

dokployCompat.post("/api/application.saveDockerProvider", async (c) => {
  const body = await readJson(
    c,
    ByApplication.extend({
      dockerImage: ImageRef,
      username: z.string().max(255).nullish(),
      password: z.string().max(4096).nullish(),
      registryUrl: z.string().max(255).nullish(),
    }),
  );
  await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
    source_type: "image",
    image: body.dockerImage,
    ...(body.username !== undefined ? { registry_username: body.username } : {}),
    ...(body.password ? { registry_password: body.password } : {}),
    ...(body.registryUrl !== undefined ? { registry_server: body.registryUrl || null } : {}),
  });
  return c.json(true);
});

dokployCompat.post("/api/application.saveGitProvider", async (c) => {
  const body = await readJson(
    c,
    ByApplication.extend({
      customGitUrl: GitUrl,
      customGitBranch: Branch.nullish(),
      customGitBuildPath: z.string().max(1024).nullish(),
      customGitSSHKeyId: z.string().nullish(),
      watchPaths: z.array(z.string()).nullish(),
      enableSubmodules: z.boolean().nullish(),
    }),
  );
  const path = buildPath(body.customGitBuildPath ?? undefined);
  if (path && !RelativePath.safeParse(path).success) throw new ApiError(400, "customGitBuildPath must be a path inside the repository.");
  await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
    source_type: "git",
    git_url: body.customGitUrl,
    ...(body.customGitBranch ? { git_branch: body.customGitBranch } : {}),
    ...(path !== undefined ? { git_path: path } : {}),
  });
  return c.json(true);
});

// ---- databases ------------------------------------------------------------------------------

const DB_CREATE = z.object({
  name: Name,
  projectId: Id,
  appName: DokployAppName,
  description: z.string().max(2000).nullish(),
  serverId: Id.nullish(),
  dockerImage: ImageRef.optional(),
  databaseName: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}$/)
    .optional(),
  databaseUser: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/)
    .optional(),
  databasePassword: z.string().min(1).max(256).optional(),
  databaseRootPassword: z.string().min(1).max(256).optional(),
});

for (const engine of ["postgres", "mysql", "mariadb", "mongo", "redis"] as const) {
  const idField = ID_FIELD[engine];
  dokployCompat.post(`/api/${engine}.create`, async (c) => {
    const body = await readJson(c, DB_CREATE);
    // As in Dokploy, create makes the service and `<engine>.deploy` starts it.
    const row = await databases.createDatabaseService(
      c.var.db,
      c.env,
      authedActor(c),
      {
        project_id: body.projectId,
        engine,
        name: body.name,
        app_name: body.appName ? apps.slugify(body.appName) : undefined,
        description: body.description ?? null,
        host_id: body.serverId ?? undefined,
        image: body.dockerImage,
        database_name: body.databaseName,
        database_user: body.databaseUser,
        database_password: body.databasePassword,
        root_password: body.databaseRootPassword,
        start: false,
      },
      { suffixAppName: true },
    );
    return c.json(await databaseView(c, row));
  });

  const find = async (c: Context<AppEnv>, id: string) => {
    const row = await databases.getDatabaseService(c.var.db, c.var.principal.organizationId, id);
    if (row.engine !== engine) throw notFound(`${engine} ${id}`);
    return row;
  };
  dokployCompat.get(`/api/${engine}.one`, async (c) => c.json(await databaseView(c, await find(c, query(c, idField)))));
  for (const [procedure, action] of [
    ["deploy", "restart"],
    ["start", "start"],
    ["stop", "stop"],
  ] as const) {
    dokployCompat.post(`/api/${engine}.${procedure}`, async (c) => {
      const body = await readJson(c, z.object({ [idField]: Id }));
      const id = (body as Record<string, string>)[idField]!;
      await find(c, id);
      const row = await databases.changeDatabaseState(c.var.db, c.env, authedActor(c), id, action);
      return c.json(procedure === "deploy" ? true : await databaseView(c, row));
    });
  }
  dokployCompat.post(`/api/${engine}.remove`, async (c) => {
    const body = await readJson(c, z.object({ [idField]: Id }));
    const id = (body as Record<string, string>)[idField]!;
    const row = await find(c, id);
    const view = await databaseView(c, row);
    await databases.deleteDatabaseService(c.var.db, c.env, authedActor(c), id);
    return c.json(view);
  });
}

// ---- domains --------------------------------------------------------------------------------

dokployCompat.post("/api/domain.create", async (c) => {
  const body = await readJson(
    c,
    z.object({
      applicationId: Id,
      host: z.string().min(1).max(253),
      https: z.boolean().optional(),
      certificateType: z.enum(["letsencrypt", "none", "custom"]).optional(),
      port: z.number().int().min(1).max(65535).nullish(),
      path: z.string().max(1024).nullish(),
    }),
  );
  if (body.certificateType === "custom") throw new ApiError(400, "certificateType custom is not supported: use letsencrypt or none.");
  const certificateType = body.certificateType as "letsencrypt" | "none" | undefined;
  const row = await domains.createDomain(c.var.db, authedActor(c), body.applicationId, {
    host: body.host,
    // Asking for a Let's Encrypt certificate without saying `https` means HTTPS.
    https: body.https ?? certificateType === "letsencrypt",
    ...(certificateType ? { certificate_type: body.https === false && certificateType === "letsencrypt" ? "none" : certificateType } : {}),
    ...(body.port ? { container_port: body.port } : {}),
    ...(body.path ? { path: body.path } : {}),
  });
  return c.json(domainView(row));
});

// ---- deployments ----------------------------------------------------------------------------

dokployCompat.get("/api/deployment.all", async (c) => {
  const org = c.var.principal.organizationId;
  const app = await apps.getApplication(c.var.db, org, query(c, "applicationId"));
  const page = await deployments.listDeployments(c.var.db, org, app.id, { limit: 200 });
  return c.json(page.items.map(deploymentView));
});
