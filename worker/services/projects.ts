import { and, count, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { applications, auditEvents, databaseServices, environments, projects } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Bindings } from "../env.ts";
import { conflict, forbidden } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { removeFromHost } from "./applications.ts";
import { removeDatabaseContainers } from "./databases.ts";
import { requireRole, type Actor, type Principal, type Viewer } from "./principal.ts";
import { defaultEnvironmentRow, getProject, inProjectScope, type EnvironmentRow, type ProjectRow } from "./project-lookup.ts";

export { getProject, type ProjectRow };
type Caller = Actor & { principal: Principal };

export interface ProjectInput {
  name: string;
  description?: string | null;
}

function rethrowNameTaken(err: unknown, name: string): never {
  if (isUniqueViolation(err, "projects", "name")) {
    throw conflict(`A project named ${name} already exists in your organization: choose another name.`);
  }
  throw err;
}

/** Creates a project with its default `production` environment (returned as `environment`). */
export async function createProject(
  db: Database,
  actor: Caller,
  input: ProjectInput,
): Promise<ProjectRow & { environment: EnvironmentRow }> {
  const p = actor.principal;
  requireRole(p, "member", "create projects");
  // A project-scoped member would not see what they made: an admin creates it and scopes them to it.
  if (p.projectScope)
    throw forbidden("Project-scoped members cannot create projects: ask an admin to create it and add it to your projects.");
  const [taken] = await db
    .select({ id: projects.id })
    .from(projects)
    .where(and(eq(projects.organizationId, p.organizationId), eq(projects.name, input.name)))
    .limit(1);
  if (taken) throw conflict(`A project named ${input.name} already exists in your organization: choose another name.`);
  const now = nowIso();
  const row: ProjectRow = {
    id: newId("prj"),
    organizationId: p.organizationId,
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const environment = defaultEnvironmentRow(row);
  try {
    await db.batch([
      db.insert(projects).values(row),
      db.insert(environments).values(environment),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "project.create",
          targetType: "project",
          targetId: row.id,
          metadata: { name: row.name },
        }),
      ),
    ]);
  } catch (err) {
    rethrowNameTaken(err, input.name);
  }
  return { ...row, environment };
}

export async function listProjects(db: Database, viewer: Viewer, page: PageQuery) {
  return newestFirstPage(
    db.select().from(projects).$dynamic(),
    projects,
    page,
    eq(projects.organizationId, viewer.organizationId),
    inProjectScope(projects.id, viewer),
  );
}

export async function allProjects(db: Database, viewer: Viewer): Promise<ProjectRow[]> {
  return db
    .select()
    .from(projects)
    .where(and(eq(projects.organizationId, viewer.organizationId), inProjectScope(projects.id, viewer)))
    .orderBy(desc(projects.createdAt), desc(projects.id));
}

export async function updateProject(db: Database, actor: Caller, id: string, patch: Partial<ProjectInput>): Promise<ProjectRow> {
  const p = actor.principal;
  requireRole(p, "member", "update projects");
  const row = await getProject(db, p, id);
  if (patch.name !== undefined && patch.name !== row.name) {
    const [taken] = await db
      .select({ id: projects.id })
      .from(projects)
      .where(and(eq(projects.organizationId, p.organizationId), eq(projects.name, patch.name)))
      .limit(1);
    if (taken) throw conflict(`A project named ${patch.name} already exists in your organization: choose another name.`);
  }
  const next: ProjectRow = {
    ...row,
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description ?? null } : {}),
    updatedAt: nowIso(),
  };
  try {
    await db.batch([
      db.update(projects).set({ name: next.name, description: next.description, updatedAt: next.updatedAt }).where(eq(projects.id, id)),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "project.update",
          targetType: "project",
          targetId: id,
          metadata: { fields: Object.keys(patch) },
        }),
      ),
    ]);
  } catch (err) {
    rethrowNameTaken(err, next.name);
  }
  return next;
}

export async function projectCounts(db: Database, projectId: string): Promise<{ applications: number; databases: number }> {
  const [[a], [d]] = await Promise.all([
    db.select({ n: count() }).from(applications).where(eq(applications.projectId, projectId)),
    db.select({ n: count() }).from(databaseServices).where(eq(databaseServices.projectId, projectId)),
  ]);
  return { applications: a?.n ?? 0, databases: d?.n ?? 0 };
}

/**
 * Deletes a project. While it still has applications or databases this is a 409, unless `force`:
 * then their containers are removed from their hosts (best effort: an offline host keeps them,
 * and the audit event says so) and the rows go with the project.
 */
export async function deleteProject(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  options: { force?: boolean } = {},
): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "delete projects");
  const row = await getProject(db, p, id);
  const counts = await projectCounts(db, id);
  if ((counts.applications > 0 || counts.databases > 0) && !options.force) {
    throw conflict(
      `Project ${row.name} still has ${counts.applications} application(s) and ${counts.databases} database(s): delete them first, or pass force=true to delete everything in it.`,
    );
  }
  const leftOn: string[] = [];
  if (options.force) {
    for (const app of await db.select().from(applications).where(eq(applications.projectId, id))) {
      if (!(await removeFromHost(env, app))) leftOn.push(app.appName);
    }
    for (const dbs of await db.select().from(databaseServices).where(eq(databaseServices.projectId, id))) {
      if (!(await removeDatabaseContainers(env, dbs, false))) leftOn.push(dbs.appName);
    }
  }
  await db.batch([
    db.delete(projects).where(eq(projects.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "project.delete",
        targetType: "project",
        targetId: id,
        metadata: {
          name: row.name,
          force: options.force === true,
          ...counts,
          ...(leftOn.length ? { containers_left_on_offline_hosts: leftOn } : {}),
        },
      }),
    ),
  ]);
}
