import { and, asc, eq, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client.ts";
import { environments, projects } from "../db/schema.ts";
import { invalid, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";

// Apart from projects.ts because applications and databases look projects up, and deleting a
// project (projects.ts) removes their containers: one module would be an import cycle. The same
// holds for environments (project-environments.ts deletes what they hold), so their lookups are here.

export type ProjectRow = typeof projects.$inferSelect;
export type EnvironmentRow = typeof environments.$inferSelect;

/** A project of the organization; another organization's project is "not found". */
export async function getProject(db: Database, organizationId: string, id: string): Promise<ProjectRow> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.organizationId, organizationId), eq(projects.id, id)))
    .limit(1);
  if (!row) throw notFound(`Project ${id}`);
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
export async function environmentsOfProject(db: Database, organizationId: string, projectId: string): Promise<EnvironmentRow[]> {
  const rows = await db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), eq(environments.projectId, projectId)))
    .orderBy(asc(environments.createdAt), asc(environments.id));
  return rows.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
}

/** An environment of the organization; another organization's is "not found". */
export async function getEnvironment(db: Database, organizationId: string, id: string): Promise<EnvironmentRow> {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), eq(environments.id, id)))
    .limit(1);
  if (!row) throw notFound(`Environment ${id}`);
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
  organizationId: string,
  where: { projectId?: string | null; environmentId?: string | null },
  pointer = "/body",
): Promise<{ projectId: string; environmentId: string }> {
  if (where.environmentId) {
    const env = await getEnvironment(db, organizationId, where.environmentId);
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
  const project = await getProject(db, organizationId, where.projectId);
  return { projectId: project.id, environmentId: (await defaultEnvironment(db, organizationId, project.id)).id };
}

/** What lists of applications and databases narrow to: a project, an environment, or both. */
export interface PlacementFilter {
  projectId?: string;
  environmentId?: string;
}

/** The rows of a table placed in projects (applications, databases) of the organization, narrowed by `filter`. */
export function placedIn(
  table: { organizationId: SQLiteColumn; projectId: SQLiteColumn; environmentId: SQLiteColumn },
  organizationId: string,
  filter: PlacementFilter,
): SQL[] {
  const conditions = [eq(table.organizationId, organizationId)];
  if (filter.projectId) conditions.push(eq(table.projectId, filter.projectId));
  if (filter.environmentId) conditions.push(eq(table.environmentId, filter.environmentId));
  return conditions;
}
