// Deployments: asking an application's DeployQueue for one, reading them back, their output, and
// the plan the queue sends to the host (`deploy.build` then `deploy.run`).
import { and, asc, desc, eq, getTableColumns, gt, isNotNull, max } from "drizzle-orm";
import type { DeployBuildArgs, DeployRunArgs } from "#protocol";
import { PROJECT_LABEL } from "#protocol";
import type { Database } from "../db/client.ts";
import { applications, auditEvents, deploymentLogs, deployments, type DeploymentStatus } from "../db/schema.ts";
import type { EnqueueRequest, EnqueueResult } from "../durable/deploy-queue.ts";
import type { Bindings } from "../env.ts";
import { conflict, notFound } from "../errors.ts";
import { keepDeploymentImages } from "../settings.ts";
import { imageTagFor, projectNetwork } from "../lib/host-names.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { resolveVaultReferences } from "./vault.ts";
import { environmentOf, getApplication, gitCredentialsOf, registryAuthOf, type ApplicationRow } from "./applications.ts";
import { auditRow } from "./audit.ts";
import { inProjectScope } from "./project-lookup.ts";
import { registryAuthFor } from "./registries.ts";
import { traefikLabels, type DomainRow } from "./domains.ts";
import { requireRole, seesProject, type Actor, type Principal, type Viewer } from "./principal.ts";

export type DeploymentRow = typeof deployments.$inferSelect;
export type DeploymentLogRow = typeof deploymentLogs.$inferSelect;
type Caller = Actor & { principal: Principal };

export const FINISHED: ReadonlySet<DeploymentStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const isFinished = (status: DeploymentStatus): boolean => FINISHED.has(status);

export interface DeployRequest {
  ref?: string;
  commit?: string;
  title?: string;
  trigger?: EnqueueRequest["trigger"];
}

/** Queues a deployment of the application (member+); a commit already queued is coalesced. */
export async function requestDeployment(
  db: Database,
  env: Bindings,
  actor: Caller,
  applicationId: string,
  request: DeployRequest = {},
): Promise<EnqueueResult> {
  const p = actor.principal;
  requireRole(p, "member", "deploy applications");
  const app = await getApplication(db, p, applicationId);
  const result = await env.DEPLOY_QUEUE.getByName(app.id).enqueue({
    organizationId: app.organizationId,
    applicationId: app.id,
    trigger: request.trigger ?? "api",
    title: request.title ?? (request.commit ? `Deploy ${request.commit.slice(0, 12)}` : "Manual deployment"),
    ref: request.ref ?? null,
    commit: request.commit ?? null,
    createdBy: p.userId,
  });
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "deployment.create",
      targetType: "deployment",
      targetId: result.deployment.id,
      metadata: { application_id: app.id, coalesced: result.coalesced, ref: request.ref, commit: request.commit },
    }),
  );
  return result;
}

/** Redeploys the image of an earlier successful deployment (member+). */
export async function rollback(db: Database, env: Bindings, actor: Caller, deploymentId: string): Promise<EnqueueResult> {
  const p = actor.principal;
  requireRole(p, "member", "roll back applications");
  const target = await getDeployment(db, p, deploymentId);
  if (target.status !== "succeeded" || !target.imageTag) {
    throw conflict(
      `Deployment ${deploymentId} did not succeed (it is ${target.status}): only a successful deployment's image can be rolled back to.`,
    );
  }
  const keep = keepDeploymentImages(env);
  if (!(await keptImageTags(db, target.applicationId, keep)).includes(target.imageTag)) {
    throw conflict(
      `The image of deployment ${deploymentId} was pruned from the host: Pier keeps the images of the last ${keep} successful deployments of an application (PIER_KEEP_DEPLOYMENT_IMAGES). Deploy its commit again instead: POST /api/v1/applications/${target.applicationId}/deployments${target.commitSha ? ` with {"commit": "${target.commitSha}"}` : ""}.`,
    );
  }
  const result = await env.DEPLOY_QUEUE.getByName(target.applicationId).enqueue({
    organizationId: target.organizationId,
    applicationId: target.applicationId,
    trigger: "rollback",
    title: `Rollback to ${target.id}${target.commitSha ? ` (${target.commitSha.slice(0, 12)})` : ""}`,
    ref: target.ref,
    commit: target.commitSha,
    commitMessage: target.commitMessage,
    rollbackOf: target.id,
    imageTag: target.imageTag,
    createdBy: p.userId,
  });
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "deployment.rollback",
      targetType: "deployment",
      targetId: result.deployment.id,
      metadata: { application_id: target.applicationId, rollback_of: target.id },
    }),
  );
  return result;
}

/** Cancels a deployment (member+): a queued one is dropped, a running one aborted on its host. */
export async function cancelDeployment(db: Database, env: Bindings, actor: Caller, deploymentId: string): Promise<DeploymentRow> {
  const p = actor.principal;
  requireRole(p, "member", "cancel deployments");
  const row = await getDeployment(db, p, deploymentId);
  if (isFinished(row.status)) throw conflict(`Deployment ${deploymentId} already ${row.status}.`);
  await env.DEPLOY_QUEUE.getByName(row.applicationId).cancel(row.id, `cancelled by ${p.username}`);
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "deployment.cancel",
      targetType: "deployment",
      targetId: row.id,
      metadata: { application_id: row.applicationId },
    }),
  );
  return getDeployment(db, p, deploymentId);
}

export async function getDeployment(db: Database, viewer: Viewer, id: string): Promise<DeploymentRow> {
  const [found] = await db
    .select({ row: deployments, projectId: applications.projectId })
    .from(deployments)
    .innerJoin(applications, eq(applications.id, deployments.applicationId))
    .where(and(eq(deployments.organizationId, viewer.organizationId), eq(deployments.id, id)))
    .limit(1);
  if (!found || !seesProject(viewer, found.projectId)) throw notFound(`Deployment ${id}`);
  return found.row;
}

/**
 * The organization's deployments across its applications, newest first, each with its
 * application's name (the overview's "Latest deployments"): only those in projects the viewer sees.
 */
export async function listOrganizationDeployments(
  db: Database,
  viewer: Viewer,
  filter: { status?: DeploymentStatus },
  page: PageQuery,
): Promise<{ items: (DeploymentRow & { applicationName: string })[]; nextCursor: string | null }> {
  return newestFirstPage(
    db
      .select({ ...getTableColumns(deployments), applicationName: applications.name })
      .from(deployments)
      .innerJoin(applications, eq(applications.id, deployments.applicationId))
      .$dynamic(),
    deployments,
    page,
    eq(deployments.organizationId, viewer.organizationId),
    inProjectScope(applications.projectId, viewer),
    filter.status ? eq(deployments.status, filter.status) : undefined,
  );
}

/** Newest first; the caller has looked the application up (in the viewer's scope). */
export async function listDeployments(db: Database, organizationId: string, applicationId: string, page: PageQuery) {
  return newestFirstPage(
    db.select().from(deployments).$dynamic(),
    deployments,
    page,
    eq(deployments.organizationId, organizationId),
    eq(deployments.applicationId, applicationId),
  );
}

/** Output pieces after `afterSeq`, in order. */
export async function readLogs(db: Database, deploymentId: string, afterSeq: number, limit: number): Promise<DeploymentLogRow[]> {
  return db
    .select()
    .from(deploymentLogs)
    .where(and(eq(deploymentLogs.deploymentId, deploymentId), gt(deploymentLogs.seq, afterSeq)))
    .orderBy(asc(deploymentLogs.seq))
    .limit(limit);
}

/**
 * The image tags of the application's last `count` successful deployments: the ones kept on the
 * host for rollback (a rollback reuses an earlier tag, so there may be fewer distinct tags).
 */
export async function keptImageTags(db: Database, applicationId: string, count: number): Promise<string[]> {
  const rows = await db
    .select({ tag: deployments.imageTag })
    .from(deployments)
    .where(and(eq(deployments.applicationId, applicationId), eq(deployments.status, "succeeded"), isNotNull(deployments.imageTag)))
    .orderBy(desc(deployments.finishedAt), desc(deployments.id))
    .limit(count);
  return [...new Set(rows.map((r) => r.tag!))];
}

/** The seq of the deployment's last stored piece (0: only the queued line; -1: none). */
export async function lastLogSeq(db: Database, deploymentId: string): Promise<number> {
  const [row] = await db
    .select({ seq: max(deploymentLogs.seq) })
    .from(deploymentLogs)
    .where(eq(deploymentLogs.deploymentId, deploymentId));
  return row?.seq ?? -1;
}

export interface DeployPlan {
  /** Absent for a rollback: its image exists already. */
  build?: Omit<DeployBuildArgs, "timeout_ms">;
  run: Omit<DeployRunArgs, "timeout_ms" | "image" | "deployment_id">;
  /** Values to scrub from stored output (defense in depth: the agent never prints them). */
  secrets: string[];
}

/** What the host is asked to do for a deployment of `app`, secrets opened. */
export async function deployPlan(
  env: Bindings,
  app: ApplicationRow,
  deployment: DeploymentRow,
  domainRows: DomainRow[],
  /** To find the organization's saved credentials for the image's registry (`/api/v1/registries`). */
  db?: Database,
): Promise<DeployPlan> {
  const stored = await environmentOf(env, app);
  // `${vault:KEY}` references are resolved here, for this run only: the application keeps them as written.
  const { vars } = db
    ? await resolveVaultReferences(db, env, app.organizationId, stored, { targetType: "application", targetId: app.id })
    : { vars: stored };
  const network = projectNetwork(app.projectId);
  const secrets = Object.values(vars);
  const run: DeployPlan["run"] = {
    kind: "application",
    owner_id: app.id,
    name: app.appName,
    // A fixed host port cannot be held by two containers at once.
    strategy: (app.ports ?? []).some((p) => p.host_port) ? "stop-first" : "start-first",
    env: vars,
    ...(app.command?.length ? { cmd: app.command } : {}),
    ports: (app.ports ?? []).map((p) => ({
      container_port: p.container_port,
      ...(p.host_port ? { host_port: p.host_port } : {}),
      ...(p.protocol ? { protocol: p.protocol } : {}),
    })),
    labels: { [PROJECT_LABEL]: app.projectId, ...traefikLabels(app.appName, domainRows, app.ports, network) },
    restart_policy: app.restartPolicy,
    ...(app.cpus ? { cpus: app.cpus } : {}),
    ...(app.memoryBytes ? { memory: app.memoryBytes } : {}),
    network: { name: network, aliases: [app.appName] },
    ...(app.healthCheck && (app.healthCheck.command || app.healthCheck.http_path) ? { health_check: app.healthCheck } : {}),
    ...(app.healthCheck?.http_path ? { min_uptime_ms: 500 } : {}),
  };
  if (deployment.rollbackOf) return { run, secrets };

  const imageTag = imageTagFor(app, deployment.id);
  if (app.sourceType === "image") {
    // The application's own credentials first, else the organization's for that registry.
    const auth = (await registryAuthOf(env, app)) ?? (db ? await registryAuthFor(db, env, app.organizationId, app.image!) : undefined);
    if (auth?.password) secrets.push(auth.password);
    return {
      build: {
        app_id: app.id,
        deployment_id: deployment.id,
        app_name: app.appName,
        image_tag: imageTag,
        source: { type: "image", image: app.image!, pull_policy: app.pullPolicy, ...(auth ? { auth } : {}) },
      },
      run,
      secrets,
    };
  }
  const creds = await gitCredentialsOf(env, app);
  if (creds.token) secrets.push(creds.token);
  return {
    build: {
      app_id: app.id,
      deployment_id: deployment.id,
      app_name: app.appName,
      image_tag: imageTag,
      source: {
        type: "git",
        git: {
          url: app.gitUrl!,
          branch: deployment.ref ?? app.gitBranch,
          ...(deployment.commitSha ? { commit: deployment.commitSha } : {}),
          ...(creds.token ? { token: creds.token } : {}),
          ...(creds.username ? { username: creds.username } : {}),
          ...(creds.deploy_key ? { deploy_key: creds.deploy_key } : {}),
          ...(app.gitPath ? { path: app.gitPath } : {}),
        },
        build_type: app.buildType,
        ...(app.dockerfile ? { dockerfile: app.dockerfile } : {}),
        ...(app.publishDir ? { publish_dir: app.publishDir } : {}),
        ...(app.staticImage ? { static_image: app.staticImage } : {}),
        ...(app.composeFile ? { compose_file: app.composeFile } : {}),
        ...(app.buildType === "compose" ? { env: vars } : {}),
      },
    },
    run,
    secrets,
  };
}
