import { and, desc, eq, or } from "drizzle-orm";
import type { BuildType, PullPolicy } from "#protocol";
import type { Database } from "../db/client.ts";
import { applications, auditEvents, databaseServices, hosts, type HealthCheckConfig, type PortMapping } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret, sha256Hex } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { projectNetwork } from "../lib/host-names.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { normalizeEnv, openEnv, sealEnv, type EnvVars } from "./environment.ts";
import { getHost } from "./hosts.ts";
import { runOnHost } from "./host-relay.ts";
import { requireRole, roleAtLeast, seesProject, type Actor, type Principal, type Viewer } from "./principal.ts";
import { type PlacementFilter, placedIn, resolvePlacement } from "./project-lookup.ts";

export type ApplicationRow = typeof applications.$inferSelect;
type Caller = Actor & { principal: Principal };

export const WEBHOOK_TOKEN_PREFIX = "whk_";

/** Everything an application can be created or updated with; secrets are write-only. */
export interface ApplicationInput {
  /** One of the two: the project (its default environment) or the environment itself. */
  project_id?: string | null;
  environment_id?: string | null;
  host_id?: string | null;
  name: string;
  app_name?: string;
  description?: string | null;
  source_type?: "image" | "git" | null;
  image?: string | null;
  pull_policy?: PullPolicy;
  registry_username?: string | null;
  registry_password?: string | null;
  registry_server?: string | null;
  git_url?: string | null;
  git_branch?: string;
  git_path?: string | null;
  git_token?: string | null;
  git_username?: string | null;
  git_deploy_key?: string | null;
  build_type?: BuildType;
  dockerfile?: string | null;
  publish_dir?: string | null;
  static_image?: string | null;
  compose_file?: string | null;
  ports?: PortMapping[] | null;
  command?: string[] | null;
  cpus?: number | null;
  memory?: number | null;
  restart_policy?: ApplicationRow["restartPolicy"];
  health_check?: HealthCheckConfig | null;
  deploy_timeout_seconds?: number;
  environment?: string | Record<string, unknown>;
}
export type ApplicationPatch = Partial<Omit<ApplicationInput, "project_id" | "environment_id">>;

interface GitCredentials {
  token?: string;
  username?: string;
  deploy_key?: string;
}

const SECRET_FIELDS = ["environment", "git_token", "git_deploy_key", "registry_password"] as const;

/** Secrets (environment, git and registry credentials) are an admin's business. */
function requireSecretsRole(p: Principal, input: ApplicationPatch): void {
  const given = SECRET_FIELDS.filter((f) => input[f] !== undefined);
  if (given.length && !roleAtLeast(p.role, "admin")) {
    throw forbidden(
      `Your role (${p.role}) cannot set ${given.join(", ")}: secrets need admin or higher. Ask an owner or admin of your organization.`,
    );
  }
}

/** `my app!` → `my-app`: what a container and image name may hold. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return /^[a-z0-9]/.test(slug) ? slug : `app-${slug || randomString(6)}`.replace(/-$/, "");
}

async function appNameTaken(db: Database, organizationId: string, appName: string, exceptId?: string): Promise<boolean> {
  const [a] = await db
    .select({ id: applications.id })
    .from(applications)
    .where(and(eq(applications.organizationId, organizationId), eq(applications.appName, appName)))
    .limit(1);
  if (a && a.id !== exceptId) return true;
  const [d] = await db
    .select({ id: databaseServices.id })
    .from(databaseServices)
    .where(and(eq(databaseServices.organizationId, organizationId), eq(databaseServices.appName, appName)))
    .limit(1);
  return Boolean(d && d.id !== exceptId);
}

/**
 * The container name of a new application or database: the one asked for (409 when another
 * application or database of the organization has it), else one made from the name, with a
 * random suffix when that is taken (as Dokploy does).
 */
export async function chooseAppName(
  db: Database,
  organizationId: string,
  requested: string | undefined,
  name: string,
  options: { suffix?: boolean } = {},
): Promise<string> {
  if (requested && !options.suffix) {
    if (!(await appNameTaken(db, organizationId, requested))) return requested;
    throw conflict(`The app name ${requested} is already used by an application or database in your organization: choose another.`);
  }
  const base = requested ?? slugify(name);
  // Dokploy always suffixes the app name it is given (`web-app` → `web-app-x7k2p9`).
  if (!requested && !options.suffix && !(await appNameTaken(db, organizationId, base))) return base;
  for (let i = 0; i < 5; i++) {
    const candidate = `${base.slice(0, 56)}-${randomString(6)}`;
    if (!(await appNameTaken(db, organizationId, candidate))) return candidate;
  }
  throw conflict("Could not find a free app name: choose one with app_name.");
}

/** The organization's default host (the first registered one unless changed), or none. */
export async function defaultHostId(db: Database, organizationId: string): Promise<string | null> {
  const rows = await db
    .select({ id: hosts.id, isDefault: hosts.isDefault })
    .from(hosts)
    .where(eq(hosts.organizationId, organizationId))
    .orderBy(desc(hosts.isDefault), hosts.createdAt)
    .limit(1);
  return rows[0]?.id ?? null;
}

/** Source fields that must agree with each other, checked on the merged result of a change. */
function checkSource(row: Pick<ApplicationRow, "sourceType" | "image" | "gitUrl" | "buildType" | "ports" | "restartPolicy">): void {
  if (row.sourceType === "image" && !row.image) throw invalid([{ pointer: "/body/image", detail: "an image source needs `image`" }]);
  if (row.sourceType === "git" && !row.gitUrl) throw invalid([{ pointer: "/body/git_url", detail: "a git source needs `git_url`" }]);
  const hostPorts = (row.ports ?? []).map((p) => p.host_port).filter((p): p is number => Boolean(p));
  if (new Set(hostPorts).size !== hostPorts.length)
    throw invalid([{ pointer: "/body/ports", detail: "a host port can be published once" }]);
}

/** Infers the source type from the fields given when it is not named. */
function sourceTypeOf(input: ApplicationPatch, current: ApplicationRow["sourceType"]): ApplicationRow["sourceType"] {
  if (input.source_type !== undefined) return input.source_type;
  if (input.image) return "image";
  if (input.git_url) return "git";
  return current;
}

async function sealJson(value: object | null, key: string): Promise<string | null> {
  return value && Object.keys(value).length ? encryptSecret(JSON.stringify(value), key) : null;
}

async function openJson<T>(sealed: string | null, key: string): Promise<T | null> {
  return sealed ? (JSON.parse(await decryptSecret(sealed, key)) as T) : null;
}

/** Applies the fields of `input` to `row` (sealing secrets); returns the changed row. */
async function applyInput(row: ApplicationRow, input: ApplicationPatch, env: Bindings): Promise<ApplicationRow> {
  const next: ApplicationRow = { ...row };
  const set = <K extends keyof ApplicationRow>(key: K, value: ApplicationRow[K] | undefined) => {
    if (value !== undefined) next[key] = value;
  };
  set("name", input.name);
  set("description", input.description);
  next.sourceType = sourceTypeOf(input, row.sourceType);
  set("image", input.image);
  set("pullPolicy", input.pull_policy);
  set("gitUrl", input.git_url);
  set("gitBranch", input.git_branch);
  set("gitPath", input.git_path);
  set("buildType", input.build_type);
  set("dockerfile", input.dockerfile);
  set("publishDir", input.publish_dir);
  set("staticImage", input.static_image);
  set("composeFile", input.compose_file);
  set("ports", input.ports);
  set("command", input.command);
  set("cpus", input.cpus);
  set("memoryBytes", input.memory);
  set("restartPolicy", input.restart_policy);
  set("healthCheck", input.health_check);
  set("deployTimeoutSeconds", input.deploy_timeout_seconds);
  if (input.git_token !== undefined || input.git_username !== undefined || input.git_deploy_key !== undefined) {
    const creds = (await openJson<GitCredentials>(row.gitCredentialsEncrypted, env.ENCRYPTION_KEY)) ?? {};
    if (input.git_token !== undefined) creds.token = input.git_token ?? undefined;
    if (input.git_username !== undefined) creds.username = input.git_username ?? undefined;
    if (input.git_deploy_key !== undefined) creds.deploy_key = input.git_deploy_key ?? undefined;
    const clean = Object.fromEntries(Object.entries(creds).filter(([, v]) => v)) as GitCredentials;
    next.gitCredentialsEncrypted = await sealJson(clean, env.ENCRYPTION_KEY);
    next.gitAuth = clean.deploy_key ? "deploy_key" : clean.token ? "token" : null;
  }
  if (input.registry_username !== undefined || input.registry_password !== undefined || input.registry_server !== undefined) {
    const current =
      (await openJson<{ username?: string; password?: string; serveraddress?: string }>(row.registryAuthEncrypted, env.ENCRYPTION_KEY)) ??
      {};
    const auth = {
      username: input.registry_username !== undefined ? (input.registry_username ?? undefined) : current.username,
      password: input.registry_password !== undefined ? (input.registry_password ?? undefined) : current.password,
      serveraddress: input.registry_server !== undefined ? (input.registry_server ?? undefined) : current.serveraddress,
    };
    next.registryAuthEncrypted = auth.username && auth.password ? await sealJson(auth, env.ENCRYPTION_KEY) : null;
  }
  if (input.environment !== undefined) next.envEncrypted = await sealEnv(normalizeEnv(input.environment), env.ENCRYPTION_KEY);
  checkSource(next);
  return next;
}

/** Field names changed by a request, for audit metadata (never their values). */
const changedFields = (input: object) => Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);

export async function createApplication(
  db: Database,
  env: Bindings,
  actor: Caller,
  input: ApplicationInput,
  options: { suffixAppName?: boolean } = {},
): Promise<ApplicationRow> {
  const p = actor.principal;
  requireRole(p, "member", "create applications");
  requireSecretsRole(p, input);
  const place = await resolvePlacement(db, p, { projectId: input.project_id, environmentId: input.environment_id });
  const hostId = input.host_id ? (await getHost(db, p.organizationId, input.host_id)).id : await defaultHostId(db, p.organizationId);
  const appName = await chooseAppName(db, p.organizationId, input.app_name, input.name, { suffix: options.suffixAppName });
  const token = `${WEBHOOK_TOKEN_PREFIX}${randomString(40)}`;
  const now = nowIso();
  const blank: ApplicationRow = {
    id: newId("app"),
    organizationId: p.organizationId,
    projectId: place.projectId,
    environmentId: place.environmentId,
    hostId,
    name: input.name,
    appName,
    description: null,
    sourceType: null,
    image: null,
    pullPolicy: "missing",
    registryAuthEncrypted: null,
    gitUrl: null,
    gitBranch: "main",
    gitPath: null,
    gitCredentialsEncrypted: null,
    gitAuth: null,
    buildType: "dockerfile",
    dockerfile: null,
    publishDir: null,
    staticImage: null,
    composeFile: null,
    envEncrypted: null,
    ports: null,
    command: null,
    cpus: null,
    memoryBytes: null,
    restartPolicy: "unless-stopped",
    healthCheck: null,
    deployTimeoutSeconds: 1800,
    webhookTokenHash: await sha256Hex(token),
    webhookTokenEncrypted: await encryptSecret(token, env.ENCRYPTION_KEY),
    webhookSecretEncrypted: await encryptSecret(randomString(40), env.ENCRYPTION_KEY),
    status: "idle",
    currentDeploymentId: null,
    currentImage: null,
    containerId: null,
    createdBy: p.userId,
    createdAt: now,
    updatedAt: now,
  };
  const row = await applyInput(blank, input, env);
  try {
    await db.batch([
      db.insert(applications).values(row),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "application.create",
          targetType: "application",
          targetId: row.id,
          metadata: {
            name: row.name,
            app_name: appName,
            project_id: place.projectId,
            environment_id: place.environmentId,
            fields: changedFields(input),
          },
        }),
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err, "applications", "app_name")) {
      throw conflict(`The app name ${appName} was just taken: retry, or choose another.`);
    }
    throw err;
  }
  return row;
}

export async function listApplications(db: Database, viewer: Viewer, filter: PlacementFilter, page: PageQuery) {
  return newestFirstPage(db.select().from(applications).$dynamic(), applications, page, ...placedIn(applications, viewer, filter));
}

/** Of a project, or of one environment when `environmentId` is given. */
export async function applicationsOfProject(
  db: Database,
  viewer: Viewer,
  projectId: string,
  environmentId?: string,
): Promise<ApplicationRow[]> {
  return db
    .select()
    .from(applications)
    .where(and(...placedIn(applications, viewer, { projectId, environmentId })))
    .orderBy(desc(applications.createdAt));
}

/** An application of the organization; another organization's, or one out of the viewer's projects, is "not found". */
export async function getApplication(db: Database, viewer: Viewer, id: string): Promise<ApplicationRow> {
  const [row] = await db
    .select()
    .from(applications)
    .where(and(eq(applications.organizationId, viewer.organizationId), eq(applications.id, id)))
    .limit(1);
  if (!row || !seesProject(viewer, row.projectId)) throw notFound(`Application ${id}`);
  return row;
}

/** The application a webhook token belongs to (any organization: the token is the credential). */
export async function applicationByWebhookToken(db: Database, token: string): Promise<ApplicationRow | undefined> {
  if (!token.startsWith(WEBHOOK_TOKEN_PREFIX)) return undefined;
  return applicationByWebhookTokenHash(db, await sha256Hex(token));
}

export async function applicationByWebhookTokenHash(db: Database, tokenHash: string): Promise<ApplicationRow | undefined> {
  const [row] = await db.select().from(applications).where(eq(applications.webhookTokenHash, tokenHash)).limit(1);
  return row;
}

/**
 * The WebhookInbox of a webhook URL (named by its token's hash) caches the application and its
 * secret: whatever changes or removes them makes it read them again before the change is answered.
 */
export async function forgetWebhookCache(env: Bindings, tokenHash: string): Promise<void> {
  await env.WEBHOOK_INBOX.getByName(tokenHash).forget();
}

/** Applications with this id or app name, in one organization or (for signed webhooks) in any. */
export async function applicationsBySlug(db: Database, slug: string, organizationId?: string): Promise<ApplicationRow[]> {
  return db
    .select()
    .from(applications)
    .where(
      and(
        organizationId ? eq(applications.organizationId, organizationId) : undefined,
        or(eq(applications.appName, slug), eq(applications.id, slug)),
      ),
    )
    .limit(20);
}

export async function updateApplication(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  patch: ApplicationPatch,
): Promise<ApplicationRow> {
  const p = actor.principal;
  requireRole(p, "member", "change applications");
  requireSecretsRole(p, patch);
  const row = await getApplication(db, p, id);
  let next = await applyInput(row, patch, env);
  if (patch.host_id !== undefined) next.hostId = patch.host_id ? (await getHost(db, p.organizationId, patch.host_id)).id : null;
  if (patch.app_name !== undefined && patch.app_name !== row.appName) {
    if (row.status !== "idle")
      throw conflict(
        `The app name of a deployed application cannot change (its container is ${row.appName} on its host): create a new application instead.`,
      );
    if (await appNameTaken(db, p.organizationId, patch.app_name, id))
      throw conflict(`The app name ${patch.app_name} is already used in your organization.`);
    next = { ...next, appName: patch.app_name };
  }
  next.updatedAt = nowIso();
  const { id: _id, organizationId: _org, createdAt: _created, ...fields } = next;
  await db.batch([
    db.update(applications).set(fields).where(eq(applications.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "application.update",
        targetType: "application",
        targetId: id,
        metadata: { fields: changedFields(patch) },
      }),
    ),
  ]);
  await forgetWebhookCache(env, row.webhookTokenHash);
  return next;
}

/** Replaces (or, with `merge`, adds to) the environment. Admins only. */
export async function setEnvironment(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  input: string | Record<string, unknown>,
  options: { merge?: boolean } = {},
): Promise<{ row: ApplicationRow; vars: EnvVars }> {
  const p = actor.principal;
  requireRole(p, "admin", "set environment variables");
  const row = await getApplication(db, p, id);
  const given = normalizeEnv(input);
  const vars = options.merge ? { ...(await openEnv(row.envEncrypted, env.ENCRYPTION_KEY)), ...given } : given;
  const sealed = await sealEnv(vars, env.ENCRYPTION_KEY);
  const updatedAt = nowIso();
  await db.batch([
    db.update(applications).set({ envEncrypted: sealed, updatedAt }).where(eq(applications.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "application.environment.set",
        targetType: "application",
        targetId: id,
        metadata: { keys: Object.keys(vars), merge: options.merge === true },
      }),
    ),
  ]);
  return { row: { ...row, envEncrypted: sealed, updatedAt }, vars };
}

export async function environmentOf(env: Bindings, row: Pick<ApplicationRow, "envEncrypted">): Promise<EnvVars> {
  return openEnv(row.envEncrypted, env.ENCRYPTION_KEY);
}

/** The plain environment for an admin who asked to see it; the reveal itself is audited. */
export async function revealEnvironment(db: Database, env: Bindings, actor: Caller, id: string): Promise<EnvVars> {
  const p = actor.principal;
  requireRole(p, "admin", "reveal environment variables");
  const row = await getApplication(db, p, id);
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "application.environment.reveal",
      targetType: "application",
      targetId: id,
    }),
  );
  return environmentOf(env, row);
}

export async function gitCredentialsOf(env: Bindings, row: Pick<ApplicationRow, "gitCredentialsEncrypted">): Promise<GitCredentials> {
  return (await openJson<GitCredentials>(row.gitCredentialsEncrypted, env.ENCRYPTION_KEY)) ?? {};
}

export async function registryAuthOf(env: Bindings, row: Pick<ApplicationRow, "registryAuthEncrypted">) {
  return openJson<{ username: string; password: string; serveraddress?: string }>(row.registryAuthEncrypted, env.ENCRYPTION_KEY);
}

export async function webhookCredentials(
  env: Bindings,
  row: Pick<ApplicationRow, "webhookTokenEncrypted" | "webhookSecretEncrypted">,
): Promise<{ token: string; secret: string }> {
  return {
    token: await decryptSecret(row.webhookTokenEncrypted, env.ENCRYPTION_KEY),
    secret: await decryptSecret(row.webhookSecretEncrypted, env.ENCRYPTION_KEY),
  };
}

/** A new webhook secret (and with `token`, a new URL); the old ones stop working now. Admins only. */
export async function rotateWebhook(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  what: "secret" | "token" | "both",
): Promise<ApplicationRow> {
  const p = actor.principal;
  requireRole(p, "admin", "rotate webhook secrets");
  const row = await getApplication(db, p, id);
  const next = { ...row, updatedAt: nowIso() };
  if (what !== "token") next.webhookSecretEncrypted = await encryptSecret(randomString(40), env.ENCRYPTION_KEY);
  if (what !== "secret") {
    const token = `${WEBHOOK_TOKEN_PREFIX}${randomString(40)}`;
    next.webhookTokenHash = await sha256Hex(token);
    next.webhookTokenEncrypted = await encryptSecret(token, env.ENCRYPTION_KEY);
  }
  await db.batch([
    db
      .update(applications)
      .set({
        webhookSecretEncrypted: next.webhookSecretEncrypted,
        webhookTokenHash: next.webhookTokenHash,
        webhookTokenEncrypted: next.webhookTokenEncrypted,
        updatedAt: next.updatedAt,
      })
      .where(eq(applications.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "application.webhook.rotate",
        targetType: "application",
        targetId: id,
        metadata: { rotated: what },
      }),
    ),
  ]);
  await forgetWebhookCache(env, row.webhookTokenHash);
  return next;
}

/** Start, stop or restart the application's container on its host (member+). */
export async function changeState(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  action: "start" | "stop" | "restart",
): Promise<{ row: ApplicationRow; changed: boolean }> {
  const p = actor.principal;
  requireRole(p, "member", `${action} applications`);
  const row = await getApplication(db, p, id);
  if (!row.hostId) throw conflict("This application has no host: set host_id, then deploy it.");
  if (!row.currentDeploymentId)
    throw conflict(`Application ${row.name} has not been deployed yet: deploy it first (POST /api/v1/applications/${id}/deployments).`);
  let changed: boolean;
  try {
    const result = await runOnHost(env, row.hostId, `container.${action}`, { id: row.appName });
    changed = result.changed;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      throw conflict(`The container ${row.appName} is not on the host any more: deploy the application again.`);
    throw err;
  }
  const status = action === "stop" ? "stopped" : "running";
  const updatedAt = nowIso();
  await db.batch([
    db.update(applications).set({ status, updatedAt }).where(eq(applications.id, id)),
    db
      .insert(auditEvents)
      .values(
        auditRow(actor, { organizationId: p.organizationId, action: `application.${action}`, targetType: "application", targetId: id }),
      ),
  ]);
  return { row: { ...row, status, updatedAt }, changed };
}

/** Removes the application's containers, images and clone from its host; false when the host could not be reached. */
export async function removeFromHost(
  env: Bindings,
  row: Pick<ApplicationRow, "id" | "hostId" | "projectId" | "appName">,
): Promise<boolean> {
  if (!row.hostId) return true;
  try {
    // The project's network goes too once nothing uses it (Docker has ~30 address pools by default),
    // and so do the application's images (every deployment's, kept for rollback) and the agent's clone.
    await runOnHost(env, row.hostId, "deploy.remove", {
      kind: "application",
      owner_id: row.id,
      network: projectNetwork(row.projectId),
      images: true,
      app_name: row.appName,
      clone: true,
    });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status >= 500) return false;
    throw err;
  }
}

/** Deletes the application: its queue is cancelled, its containers removed, its rows deleted. Admins only. */
export async function deleteApplication(db: Database, env: Bindings, actor: Caller, id: string): Promise<ApplicationRow> {
  const p = actor.principal;
  requireRole(p, "admin", "delete applications");
  const row = await getApplication(db, p, id);
  await env.DEPLOY_QUEUE.getByName(row.id).cancelAll("the application was deleted");
  const removed = await removeFromHost(env, row);
  await db.batch([
    db.delete(applications).where(eq(applications.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "application.delete",
        targetType: "application",
        targetId: id,
        metadata: { name: row.name, app_name: row.appName, ...(removed ? {} : { containers_left_on_offline_host: row.hostId }) },
      }),
    ),
  ]);
  await forgetWebhookCache(env, row.webhookTokenHash);
  return row;
}
