// Dokploy's procedures (seed 000, and what Dokploy's own CLI and tools call), as one table:
// name → {query | mutation, input schema, handler}. worker/compat/dokploy.ts serves every entry at
// both `/api/<router>.<procedure>` (tRPC-OpenAPI, what the seed's scripts use) and
// `/api/trpc/<router>.<procedure>` (tRPC's own wire format, what @dokploy/cli uses), and
// worker/routes/compat-openapi.ts documents them. Dokploy's field names (projectId,
// environmentId, applicationId, appName, …) and status words (applicationStatus
// idle/running/done/error; deployment status running/done/error/cancelled) over Pier's services.
import type { Context } from "hono";
import { z } from "zod";
import type { DatabaseEngine, DeploymentStatus } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { authedActor } from "../middleware/request-context.ts";
import { Branch, GitUrl, ImageRef, Name, RelativePath } from "../services/fields.ts";
import * as accounts from "../services/accounts.ts";
import * as apps from "../services/applications.ts";
import * as databases from "../services/databases.ts";
import * as deployments from "../services/deployments.ts";
import * as domains from "../services/domains.ts";
import { MASK } from "../services/environment.ts";
import { roleAtLeast } from "../services/principal.ts";
import * as environments from "../services/project-environments.ts";
import * as projects from "../services/projects.ts";

export type ProcedureKind = "query" | "mutation";

export interface Procedure<I extends z.ZodType = z.ZodType> {
  kind: ProcedureKind;
  input: I;
  summary: string;
  run(c: Context<AppEnv>, input: z.infer<I>): Promise<unknown>;
}

/** Every procedure Pier serves, by `<router>.<procedure>`. */
export const PROCEDURES = new Map<string, Procedure>();

function define<I extends z.ZodType>(name: string, kind: ProcedureKind, summary: string, input: I, run: Procedure<I>["run"]): void {
  PROCEDURES.set(name, { kind, input, summary, run } as Procedure);
}
const query = <I extends z.ZodType>(name: string, summary: string, input: I, run: Procedure<I>["run"]) =>
  define(name, "query", summary, input, run);
const mutation = <I extends z.ZodType>(name: string, summary: string, input: I, run: Procedure<I>["run"]) =>
  define(name, "mutation", summary, input, run);

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
    environmentId: a.environmentId,
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
    environmentId: d.environmentId,
    serverId: d.hostId,
    createdAt: d.createdAt,
  };
}

/** Applications and databases by Dokploy's per-kind arrays. */
async function servicesView(c: Context<AppEnv>, appRows: apps.ApplicationRow[], dbRows: databases.DatabaseRow[]) {
  const dbs = await Promise.all(dbRows.map((d) => databaseView(c, d)));
  const byEngine = (engine: DatabaseEngine) => dbs.filter((_, i) => dbRows[i]!.engine === engine);
  return {
    applications: await Promise.all(appRows.map((a) => applicationView(c, a))),
    postgres: byEngine("postgres"),
    mysql: byEngine("mysql"),
    mariadb: byEngine("mariadb"),
    mongo: byEngine("mongo"),
    redis: byEngine("redis"),
    compose: [],
  };
}

const environmentRow = (e: environments.EnvironmentRow) => ({
  environmentId: e.id,
  name: e.name,
  description: e.description,
  createdAt: e.createdAt,
  env: "",
  projectId: e.projectId,
  isDefault: e.isDefault,
});

const projectRow = (p: projects.ProjectRow) => ({
  projectId: p.id,
  name: p.name,
  description: p.description,
  createdAt: p.createdAt,
  organizationId: p.organizationId,
  env: "",
});

/**
 * Current Dokploy nests services in `environments[]`; older clients read them on the project. Both
 * are here, so either kind of client finds them.
 */
async function projectView(c: Context<AppEnv>, p: projects.ProjectRow) {
  const [envRows, appRows, dbRows] = await Promise.all([
    environments.environmentsOfProject(c.var.db, c.var.principal, p.id),
    apps.applicationsOfProject(c.var.db, c.var.principal, p.id),
    databases.databasesOfProject(c.var.db, c.var.principal, p.id),
  ]);
  const envs = await Promise.all(
    envRows.map(async (e) => ({
      ...environmentRow(e),
      ...(await servicesView(
        c,
        appRows.filter((a) => a.environmentId === e.id),
        dbRows.filter((d) => d.environmentId === e.id),
      )),
    })),
  );
  return { ...projectRow(p), ...(await servicesView(c, appRows, dbRows)), environments: envs };
}

async function environmentView(c: Context<AppEnv>, e: environments.EnvironmentRow) {
  const [project, appRows, dbRows] = await Promise.all([
    projects.getProject(c.var.db, c.var.principal, e.projectId),
    apps.applicationsOfProject(c.var.db, c.var.principal, e.projectId, e.id),
    databases.databasesOfProject(c.var.db, c.var.principal, e.projectId, e.id),
  ]);
  return { ...environmentRow(e), project: projectRow(project), ...(await servicesView(c, appRows, dbRows)) };
}

// ---- inputs ---------------------------------------------------------------------------------

const Id = z.string().min(1).max(64);
/** Dokploy cleans the app name it is given (lower case, no spaces) and suffixes it. */
const DokployAppName = z.string().trim().min(1).max(56).optional();
const Text = z.string().max(2000).nullish();
/** Where a new service goes: Dokploy's CLI names the environment, the seed's scripts the project. */
const Placement = { projectId: Id.optional(), environmentId: Id.optional() };
const placement = (body: { projectId?: string; environmentId?: string }) => ({
  project_id: body.projectId ?? null,
  environment_id: body.environmentId ?? null,
});
const dockerfilePath = (p: string | null | undefined) => (p ? p.replace(/^\.\//, "") || null : p);
const buildPath = (p: string | null | undefined) =>
  p === undefined ? undefined : p && p !== "/" && p !== "." ? p.replace(/^\.?\//, "").replace(/\/+$/, "") || null : null;
const checkRelative = (field: string, value: string | null | undefined) => {
  if (value && !RelativePath.safeParse(value).success) throw new ApiError(400, `${field} must be a relative path inside the repository.`);
};
/** A number that CLIs send as text. */
const Numeric = z.union([
  z.number(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);

// ---- user -----------------------------------------------------------------------------------

query(
  "user.get",
  "The calling member and user (what `dokploy auth` checks the key with)",
  z.object({}).passthrough().optional(),
  async (c) => {
    const p = c.var.principal;
    const account = await accounts.loadAccount(c.var.db, p.userId);
    if (!account) throw notFound("Your account");
    const u = account.user;
    return {
      id: `${p.organizationId}:${u.id}`,
      organizationId: p.organizationId,
      userId: u.id,
      role: p.role,
      createdAt: u.createdAt,
      user: { id: u.id, firstName: u.name ?? u.username, lastName: "", email: u.email, image: null, twoFactorEnabled: false },
    };
  },
);

// ---- projects -------------------------------------------------------------------------------

query("project.all", "Projects with their environments, applications and databases", z.object({}).passthrough().optional(), async (c) => {
  const rows = await projects.allProjects(c.var.db, c.var.principal);
  return Promise.all(rows.map((p) => projectView(c, p)));
});

query("project.one", "A project with its environments and services", z.object({ projectId: Id }), async (c, input) =>
  projectView(c, await projects.getProject(c.var.db, c.var.principal, input.projectId)),
);

mutation(
  "project.create",
  "Create a project and its `production` environment",
  z.object({ name: Name, description: Text, env: z.string().nullish() }),
  async (c, body) => {
    const row = await projects.createProject(c.var.db, authedActor(c), { name: body.name, description: body.description ?? null });
    // Current Dokploy answers {project, environment}; the seed's scripts read `.projectId`.
    return { ...projectRow(row), project: projectRow(row), environment: environmentRow(row.environment) };
  },
);

mutation("project.remove", "Delete a project with everything in it", z.object({ projectId: Id }), async (c, { projectId }) => {
  const row = await projects.getProject(c.var.db, c.var.principal, projectId);
  // Dokploy removes a project with everything in it.
  await projects.deleteProject(c.var.db, c.env, authedActor(c), projectId, { force: true });
  return { projectId: row.id, name: row.name, description: row.description, createdAt: row.createdAt, organizationId: row.organizationId };
});

// ---- environments ---------------------------------------------------------------------------

mutation(
  "environment.create",
  "Add an environment to a project",
  z.object({ name: Name, projectId: Id, description: Text }),
  async (c, body) =>
    environmentRow(
      await environments.createEnvironment(c.var.db, authedActor(c), body.projectId, { name: body.name, description: body.description }),
    ),
);

query("environment.byProjectId", "A project's environments with their services", z.object({ projectId: Id }), async (c, input) => {
  const project = await projects.getProject(c.var.db, c.var.principal, input.projectId);
  const rows = await environments.environmentsOfProject(c.var.db, c.var.principal, project.id);
  return Promise.all(rows.map((e) => environmentView(c, e)));
});

query("environment.one", "An environment with its project and services", z.object({ environmentId: Id }), async (c, input) =>
  environmentView(c, await environments.getEnvironment(c.var.db, c.var.principal, input.environmentId)),
);

mutation(
  "environment.update",
  "Rename or describe an environment (the default one keeps its name)",
  z.object({ environmentId: Id, name: Name.optional(), description: Text }),
  async (c, body) =>
    environmentRow(
      await environments.updateEnvironment(c.var.db, authedActor(c), body.environmentId, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
      }),
    ),
);

mutation(
  "environment.remove",
  "Delete an environment with everything in it (not the default one)",
  z.object({ environmentId: Id }),
  async (c, { environmentId }) =>
    // As Dokploy does, removing an environment removes what is in it.
    environmentRow(await environments.deleteEnvironment(c.var.db, c.env, authedActor(c), environmentId, { force: true })),
);

// ---- applications ---------------------------------------------------------------------------

mutation(
  "application.create",
  "Create an application in an environment (or a project's default one)",
  z.object({
    name: Name,
    ...Placement,
    appName: DokployAppName,
    description: Text,
    serverId: Id.nullish(),
    sourceType: z.string().optional(),
  }),
  async (c, body) => {
    // No server named: the organization's default host (Dokploy's "this server").
    const row = await apps.createApplication(
      c.var.db,
      c.env,
      authedActor(c),
      {
        ...placement(body),
        name: body.name,
        app_name: body.appName ? apps.slugify(body.appName) : undefined,
        description: body.description ?? null,
        host_id: body.serverId ?? undefined,
      },
      { suffixAppName: true },
    );
    return applicationView(c, row);
  },
);

const ByApplication = z.object({ applicationId: Id });

query("application.one", "An application with its domains and deployments", ByApplication, async (c, input) =>
  applicationView(c, await apps.getApplication(c.var.db, c.var.principal, input.applicationId), true),
);

for (const action of ["start", "stop"] as const) {
  mutation(
    `application.${action}`,
    `${action === "start" ? "Start" : "Stop"} an application's container`,
    ByApplication,
    async (c, input) => {
      const { row } = await apps.changeState(c.var.db, c.env, authedActor(c), input.applicationId, action);
      return applicationView(c, row);
    },
  );
}

for (const procedure of ["deploy", "redeploy"] as const) {
  mutation(
    `application.${procedure}`,
    procedure === "deploy" ? "Queue a deployment" : "Queue a rebuild",
    ByApplication.extend({ title: z.string().max(200).optional(), description: z.string().max(2000).optional() }),
    async (c, body) => {
      await deployments.requestDeployment(c.var.db, c.env, authedActor(c), body.applicationId, {
        trigger: "dokploy",
        title: body.title || (procedure === "redeploy" ? "Rebuild deployment" : "Manual deployment"),
      });
      return true;
    },
  );
}

mutation("application.delete", "Delete an application and its container", ByApplication, async (c, { applicationId }) => {
  const row = await apps.deleteApplication(c.var.db, c.env, authedActor(c), applicationId);
  return { applicationId: row.id, name: row.name, appName: row.appName, projectId: row.projectId, createdAt: row.createdAt };
});

mutation(
  "application.saveEnvironment",
  "Replace the environment variables (dotenv text)",
  ByApplication.extend({
    env: z
      .string()
      .max(256 * 1024)
      .nullish(),
    buildArgs: z.string().nullish(),
    buildSecrets: z.string().nullish(),
    createEnvFile: z.boolean().nullish(),
  }),
  async (c, body) => {
    await apps.setEnvironment(c.var.db, c.env, authedActor(c), body.applicationId, body.env ?? "");
    return true;
  },
);

const DOKPLOY_BUILD_TYPES = ["dockerfile", "heroku_buildpacks", "paketo_buildpacks", "nixpacks", "static", "railpack"] as const;

mutation(
  "application.saveBuildType",
  "Choose how the application is built",
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
  async (c, body) => {
    const dockerfile = dockerfilePath(body.dockerfile);
    const context = buildPath(body.dockerContextPath ?? undefined);
    const publish = buildPath(body.publishDirectory ?? undefined);
    checkRelative("dockerfile", dockerfile);
    checkRelative("dockerContextPath", context);
    checkRelative("publishDirectory", publish);
    await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
      build_type: body.buildType,
      ...(dockerfile !== undefined ? { dockerfile } : {}),
      ...(context !== undefined ? { git_path: context } : {}),
      ...(publish !== undefined ? { publish_dir: publish } : {}),
    });
    return true;
  },
);

mutation(
  "application.saveDockerProvider",
  "Run a registry image",
  ByApplication.extend({
    dockerImage: ImageRef,
    username: z.string().max(255).nullish(),
    password: z.string().max(4096).nullish(),
    registryUrl: z.string().max(255).nullish(),
  }),
  async (c, body) => {
    await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
      source_type: "image",
      image: body.dockerImage,
      // Dokploy's CLI sends empty strings for "no registry credentials".
      ...(body.username !== undefined ? { registry_username: body.username || null } : {}),
      ...(body.password ? { registry_password: body.password } : {}),
      ...(body.registryUrl !== undefined ? { registry_server: body.registryUrl || null } : {}),
    });
    return true;
  },
);

mutation(
  "application.saveGitProvider",
  "Build from a git repository",
  ByApplication.extend({
    customGitUrl: GitUrl,
    customGitBranch: Branch.nullish(),
    customGitBuildPath: z.string().max(1024).nullish(),
    customGitSSHKeyId: z.string().nullish(),
    watchPaths: z.array(z.string()).nullish(),
    enableSubmodules: z.boolean().nullish(),
  }),
  async (c, body) => {
    const path = buildPath(body.customGitBuildPath ?? undefined);
    if (path && !RelativePath.safeParse(path).success) throw new ApiError(400, "customGitBuildPath must be a path inside the repository.");
    await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
      source_type: "git",
      git_url: body.customGitUrl,
      ...(body.customGitBranch ? { git_branch: body.customGitBranch } : {}),
      ...(path !== undefined ? { git_path: path } : {}),
    });
    return true;
  },
);

mutation(
  "application.update",
  "Change an application's settings (the fields Pier has; Dokploy's others are ignored, as its tools send many)",
  z.object({
    applicationId: Id,
    name: Name.optional(),
    description: Text,
    env: z
      .string()
      .max(256 * 1024)
      .nullish(),
    dockerImage: ImageRef.nullish(),
    customGitUrl: GitUrl.nullish(),
    customGitBranch: Branch.nullish(),
    customGitBuildPath: z.string().max(1024).nullish(),
    buildType: z.enum(DOKPLOY_BUILD_TYPES).optional(),
    dockerfile: z.string().max(1024).nullish(),
    dockerContextPath: z.string().max(1024).nullish(),
    publishDirectory: z.string().max(1024).nullish(),
    memoryLimit: Numeric.nullish(),
    cpuLimit: Numeric.nullish(),
    command: z.string().max(4096).nullish(),
  }),
  async (c, body) => {
    const dockerfile = dockerfilePath(body.dockerfile);
    const gitPath = buildPath(body.customGitBuildPath ?? body.dockerContextPath ?? undefined);
    const publish = buildPath(body.publishDirectory ?? undefined);
    checkRelative("dockerfile", dockerfile);
    checkRelative("customGitBuildPath", gitPath);
    checkRelative("publishDirectory", publish);
    await apps.updateApplication(c.var.db, c.env, authedActor(c), body.applicationId, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.env !== undefined ? { environment: body.env ?? "" } : {}),
      ...(body.dockerImage ? { source_type: "image" as const, image: body.dockerImage } : {}),
      ...(body.customGitUrl ? { source_type: "git" as const, git_url: body.customGitUrl } : {}),
      ...(body.customGitBranch ? { git_branch: body.customGitBranch } : {}),
      ...(gitPath !== undefined ? { git_path: gitPath } : {}),
      ...(body.buildType ? { build_type: body.buildType } : {}),
      ...(dockerfile !== undefined ? { dockerfile } : {}),
      ...(publish !== undefined ? { publish_dir: publish } : {}),
      ...(body.memoryLimit !== undefined ? { memory: body.memoryLimit ?? null } : {}),
      ...(body.cpuLimit !== undefined ? { cpus: body.cpuLimit ?? null } : {}),
      ...(body.command !== undefined ? { command: body.command ? ["sh", "-c", body.command] : null } : {}),
    });
    return true;
  },
);

// ---- databases ------------------------------------------------------------------------------

const DB_CREATE = z.object({
  name: Name,
  ...Placement,
  appName: DokployAppName,
  description: Text,
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
  const ById = z.object({ [idField]: Id }) as z.ZodObject<Record<string, typeof Id>>;
  const idOf = (input: Record<string, string>) => input[idField]!;
  const find = async (c: Context<AppEnv>, id: string) => {
    const row = await databases.getDatabaseService(c.var.db, c.var.principal, id);
    if (row.engine !== engine) throw notFound(`${engine} ${id}`);
    return row;
  };

  mutation(`${engine}.create`, `Create a ${engine} service (started by ${engine}.deploy)`, DB_CREATE, async (c, body) => {
    // As in Dokploy, create makes the service and `<engine>.deploy` starts it.
    const row = await databases.createDatabaseService(
      c.var.db,
      c.env,
      authedActor(c),
      {
        ...placement(body),
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
    return databaseView(c, row);
  });
  query(`${engine}.one`, `A ${engine} service`, ById, async (c, input) => databaseView(c, await find(c, idOf(input))));
  for (const [procedure, action] of [
    ["deploy", "restart"],
    ["start", "start"],
    ["stop", "stop"],
  ] as const) {
    mutation(`${engine}.${procedure}`, `${procedure} a ${engine} service`, ById, async (c, input) => {
      const id = idOf(input);
      await find(c, id);
      const row = await databases.changeDatabaseState(c.var.db, c.env, authedActor(c), id, action);
      return procedure === "deploy" ? true : databaseView(c, row);
    });
  }
  mutation(`${engine}.remove`, `Delete a ${engine} service and its container`, ById, async (c, input) => {
    const id = idOf(input);
    const view = await databaseView(c, await find(c, id));
    await databases.deleteDatabaseService(c.var.db, c.env, authedActor(c), id);
    return view;
  });
}

// ---- domains --------------------------------------------------------------------------------

mutation(
  "domain.create",
  "Route a host name to an application",
  z.object({
    applicationId: Id,
    host: z.string().min(1).max(253),
    https: z.boolean().optional(),
    certificateType: z.enum(["letsencrypt", "none", "custom"]).optional(),
    port: z.number().int().min(1).max(65535).nullish(),
    path: z.string().max(1024).nullish(),
    domainType: z.enum(["application"]).optional(),
  }),
  async (c, body) => {
    if (body.certificateType === "custom") throw new ApiError(400, "certificateType custom is not supported: use letsencrypt or none.");
    const certificateType = body.certificateType as "letsencrypt" | "none" | undefined;
    const row = await domains.createDomain(c.var.db, authedActor(c), body.applicationId, {
      host: body.host,
      // Asking for a Let's Encrypt certificate without saying `https` means HTTPS.
      https: body.https ?? certificateType === "letsencrypt",
      ...(certificateType
        ? { certificate_type: body.https === false && certificateType === "letsencrypt" ? "none" : certificateType }
        : {}),
      ...(body.port ? { container_port: body.port } : {}),
      ...(body.path ? { path: body.path } : {}),
    });
    return domainView(row);
  },
);

query("domain.byApplicationId", "An application's domains", ByApplication, async (c, input) => {
  const org = c.var.principal.organizationId;
  const app = await apps.getApplication(c.var.db, c.var.principal, input.applicationId);
  return (await domains.listDomains(c.var.db, org, app.id)).map(domainView);
});

// ---- deployments ----------------------------------------------------------------------------

query("deployment.all", "An application's deployments, newest first", ByApplication, async (c, input) => {
  const org = c.var.principal.organizationId;
  const app = await apps.getApplication(c.var.db, c.var.principal, input.applicationId);
  const page = await deployments.listDeployments(c.var.db, org, app.id, { limit: 200 });
  return page.items.map(deploymentView);
});
