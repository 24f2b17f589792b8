import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client.ts";
import { environments, projects } from "../db/schema.ts";
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
