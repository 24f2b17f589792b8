import { and, asc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client.ts";
import { applications, backups, databaseServices, deployments, domains, environments, projects, servers } from "../db/schema.ts";
import { invalid, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { projectScope, seesProject, type Viewer } from "./principal.ts";

// Apart from projects.ts because applications and databases look projects up, and deleting a
// project (projects.ts) removes their containers: one module would be an import cycle. The same
// holds for environments (project-environments.ts deletes what they hold), so their lookups are here.

export type ProjectRow = typeof projects.$inferSelect;
export type EnvironmentRow = typeof environments.$inferSelect;

/**
 * THE project scope of queries: the condition that keeps rows of `column` (a project id) to the
 * projects `viewer` may see, or undefined when it sees them all. Rows in no project (a NULL
 * column) never match a scope, so a project-scoped member does not see them.
 */
export function inProjectScope(column: SQLiteColumn, viewer: Viewer): SQL | undefined {
  const scope = projectScope(viewer);
  if (scope === null) return undefined;
  return scope.size ? inArray(column, [...scope]) : sql`0`;
}

/**
 * The scope for what names a backup target by (kind, id) — backups, backup policies: a
 * project-scoped viewer's are its projects' databases and servers; volumes and containers belong
 * to a host, not a project, so they are out of sight. Undefined when the viewer sees everything.
 */
export function backupTargetInScope(db: Database, target: { kind: SQLiteColumn; id: SQLiteColumn }, viewer: Viewer): SQL | undefined {
  const scope = projectScope(viewer);
  if (scope === null) return undefined;
  if (scope.size === 0) return sql`0`;
  const ids = [...scope];
  return or(
    and(
      eq(target.kind, "database"),
      inArray(target.id, db.select({ id: databaseServices.id }).from(databaseServices).where(inArray(databaseServices.projectId, ids))),
    ),
    and(eq(target.kind, "server"), inArray(target.id, db.select({ id: servers.id }).from(servers).where(inArray(servers.projectId, ids)))),
  );
}

/**
 * The same scope for rows that name what they are about by a (type, id) pair — tasks,
 * notifications: a project-scoped viewer sees those about its projects and what is placed in them
 * (applications and their deployments and domains, databases, servers, their backups), and those
 * it started itself (`userId`: a bulk task names no single target). Anything else — hosts,
 * containers, firewall groups, the organization's settings — belongs to no project and stays out
 * of sight. Undefined when the viewer sees the whole organization.
 */
export function targetInScope(
  db: Database,
  target: { type: SQLiteColumn; id: SQLiteColumn; createdBy?: SQLiteColumn },
  viewer: Viewer & { userId?: string },
): SQL | undefined {
  const scope = projectScope(viewer);
  if (scope === null) return undefined;
  const ids = [...scope];
  const appIds = db.select({ id: applications.id }).from(applications).where(inArray(applications.projectId, ids));
  const about = (type: string, idIn: Parameters<typeof inArray>[1]) => and(eq(target.type, type), inArray(target.id, idIn));
  return or(
    target.createdBy && viewer.userId ? eq(target.createdBy, viewer.userId) : undefined,
    ...(ids.length
      ? [
          about("project", ids),
          about("environment", db.select({ id: environments.id }).from(environments).where(inArray(environments.projectId, ids))),
          about("application", appIds),
          about("deployment", db.select({ id: deployments.id }).from(deployments).where(inArray(deployments.applicationId, appIds))),
          about("domain", db.select({ id: domains.id }).from(domains).where(inArray(domains.applicationId, appIds))),
          about("database", db.select({ id: databaseServices.id }).from(databaseServices).where(inArray(databaseServices.projectId, ids))),
          about("server", db.select({ id: servers.id }).from(servers).where(inArray(servers.projectId, ids))),
          about(
            "backup",
            db
              .select({ id: backups.id })
              .from(backups)
              .where(backupTargetInScope(db, { kind: backups.targetKind, id: backups.targetId }, viewer)),
          ),
        ]
      : []),
    sql`0`,
  );
}

/** A project of the organization; another organization's project, or one out of scope, is "not found". */
export async function getProject(db: Database, viewer: Viewer, id: string): Promise<ProjectRow> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.organizationId, viewer.organizationId), eq(projects.id, id)))
    .limit(1);
  if (!row || !seesProject(viewer, row.id)) throw notFound(`Project ${id}`);
  return row;
}

export const DEFAULT_ENVIRONMENT = "production";

/** The row a new project's default environment is inserted with (in the project's own batch). */
export function defaultEnvironmentRow(project: { id: string; organizationId: string; createdAt: string }): EnvironmentRow {
  return {
    id: newId("env"),
    organizationId: project.organizationId,
    projectId: project.id,
    name: DEFAULT_ENVIRONMENT,
    description: "Production environment",
    isDefault: true,
    createdAt: project.createdAt,
    updatedAt: project.createdAt,
  };
}

/** A project's environments, the default first, then by age. */
export async function environmentsOfProject(db: Database, viewer: Viewer, projectId: string): Promise<EnvironmentRow[]> {
  if (!seesProject(viewer, projectId)) return [];
  const rows = await db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, viewer.organizationId), eq(environments.projectId, projectId)))
    .orderBy(asc(environments.createdAt), asc(environments.id));
  return rows.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
}

/** An environment of the organization; another organization's is "not found". */
export async function getEnvironment(db: Database, viewer: Viewer, id: string): Promise<EnvironmentRow> {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, viewer.organizationId), eq(environments.id, id)))
    .limit(1);
  if (!row || !seesProject(viewer, row.projectId)) throw notFound(`Environment ${id}`);
  return row;
}

export async function defaultEnvironment(db: Database, organizationId: string, projectId: string): Promise<EnvironmentRow> {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), eq(environments.projectId, projectId), eq(environments.isDefault, true)))
    .limit(1);
  if (!row) throw notFound(`The default environment of project ${projectId}`);
  return row;
}

/**
 * Where a new application or database goes: the environment named (its project must be the one
 * named too, if any), else the project's default environment.
 */
export async function resolvePlacement(
  db: Database,
  viewer: Viewer,
  where: { projectId?: string | null; environmentId?: string | null },
  pointer = "/body",
): Promise<{ projectId: string; environmentId: string }> {
  if (where.environmentId) {
    const env = await getEnvironment(db, viewer, where.environmentId);
    if (where.projectId && where.projectId !== env.projectId) {
      throw invalid([
        { pointer: `${pointer}/environment_id`, detail: `Environment ${env.id} belongs to another project than ${where.projectId}.` },
      ]);
    }
    return { projectId: env.projectId, environmentId: env.id };
  }
  if (!where.projectId) {
    throw invalid([{ pointer: `${pointer}/project_id`, detail: "Name a project (project_id) or an environment (environment_id)." }]);
  }
  const project = await getProject(db, viewer, where.projectId);
  return { projectId: project.id, environmentId: (await defaultEnvironment(db, viewer.organizationId, project.id)).id };
}

/** What lists of applications and databases narrow to: a project, an environment, or both. */
export interface PlacementFilter {
  projectId?: string;
  environmentId?: string;
}

/**
 * The rows of a table placed in projects (applications, databases) of the organization that
 * `viewer` may see, narrowed by `filter`.
 */
export function placedIn(
  table: { organizationId: SQLiteColumn; projectId: SQLiteColumn; environmentId: SQLiteColumn },
  viewer: Viewer,
  filter: PlacementFilter,
): SQL[] {
  const conditions = [eq(table.organizationId, viewer.organizationId)];
  const scope = inProjectScope(table.projectId, viewer);
  if (scope) conditions.push(scope);
  if (filter.projectId) conditions.push(eq(table.projectId, filter.projectId));
  if (filter.environmentId) conditions.push(eq(table.environmentId, filter.environmentId));
  return conditions;
}
