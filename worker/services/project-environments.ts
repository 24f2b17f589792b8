// Environments of a project (Dokploy's model): `production` is made with the project and is its
// default; every application and database service lives in exactly one environment. Not to be
// confused with environment *variables* (services/environment.ts).
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { applications, auditEvents, databaseServices, environments } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Bindings } from "../env.ts";
import { conflict } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { removeFromHost } from "./applications.ts";
import { auditRow } from "./audit.ts";
import { removeDatabaseContainers } from "./databases.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";
import { getEnvironment, getProject, type EnvironmentRow } from "./project-lookup.ts";

export { DEFAULT_ENVIRONMENT, defaultEnvironment, environmentsOfProject, getEnvironment, resolvePlacement } from "./project-lookup.ts";
export type { EnvironmentRow };
type Caller = Actor & { principal: Principal };

export interface EnvironmentInput {
  name: string;
  description?: string | null;
}

const nameTaken = (err: unknown) => isUniqueViolation(err, "environments", "name");

export async function createEnvironment(db: Database, actor: Caller, projectId: string, input: EnvironmentInput): Promise<EnvironmentRow> {
  const p = actor.principal;
  requireRole(p, "member", "create environments");
  const project = await getProject(db, p, projectId);
  const now = nowIso();
  const row: EnvironmentRow = {
    id: newId("env"),
    organizationId: p.organizationId,
    projectId: project.id,
    name: input.name,
    description: input.description ?? null,
    isDefault: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.batch([
      db.insert(environments).values(row),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "environment.create",
          targetType: "environment",
          targetId: row.id,
          metadata: { name: row.name, project_id: project.id },
        }),
      ),
    ]);
  } catch (err) {
    if (nameTaken(err)) throw conflict(`Project ${project.name} already has an environment named ${input.name}: choose another name.`);
    throw err;
  }
  return row;
}

export async function updateEnvironment(
  db: Database,
  actor: Caller,
  id: string,
  patch: Partial<EnvironmentInput>,
): Promise<EnvironmentRow> {
  const p = actor.principal;
  requireRole(p, "member", "update environments");
  const row = await getEnvironment(db, p, id);
  if (row.isDefault && patch.name !== undefined && patch.name !== row.name) {
    throw conflict(`${row.name} is the project's default environment: it keeps its name.`);
  }
  const next: EnvironmentRow = {
    ...row,
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description ?? null } : {}),
    updatedAt: nowIso(),
  };
  try {
    await db.batch([
      db
        .update(environments)
        .set({ name: next.name, description: next.description, updatedAt: next.updatedAt })
        .where(eq(environments.id, id)),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "environment.update",
          targetType: "environment",
          targetId: id,
          metadata: { fields: Object.keys(patch) },
        }),
      ),
    ]);
  } catch (err) {
    if (nameTaken(err)) throw conflict(`The project already has an environment named ${next.name}: choose another name.`);
    throw err;
  }
  return next;
}

/**
 * Deletes an environment. The default one stays (a project always has somewhere to put services).
 * While it holds applications or databases this is a 409 unless `force`: then their containers
 * are removed from their hosts (best effort, as for projects) and the rows go with it.
 */
export async function deleteEnvironment(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  options: { force?: boolean } = {},
): Promise<EnvironmentRow> {
  const p = actor.principal;
  requireRole(p, "admin", "delete environments");
  const row = await getEnvironment(db, p, id);
  if (row.isDefault) throw conflict(`${row.name} is the project's default environment and cannot be deleted: delete the project instead.`);
  const [apps, dbs] = await Promise.all([
    db.select().from(applications).where(eq(applications.environmentId, id)),
    db.select().from(databaseServices).where(eq(databaseServices.environmentId, id)),
  ]);
  if ((apps.length || dbs.length) && !options.force) {
    throw conflict(
      `Environment ${row.name} still has ${apps.length} application(s) and ${dbs.length} database(s): delete them first, or pass force=true to delete everything in it.`,
    );
  }
  const leftOn: string[] = [];
  for (const app of apps) if (!(await removeFromHost(env, app))) leftOn.push(app.appName);
  for (const d of dbs) if (!(await removeDatabaseContainers(env, d, false))) leftOn.push(d.appName);
  await db.batch([
    db.delete(applications).where(eq(applications.environmentId, id)),
    db.delete(databaseServices).where(eq(databaseServices.environmentId, id)),
    db.delete(environments).where(eq(environments.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "environment.delete",
        targetType: "environment",
        targetId: id,
        metadata: {
          name: row.name,
          project_id: row.projectId,
          force: options.force === true,
          applications: apps.length,
          databases: dbs.length,
          ...(leftOn.length ? { containers_left_on_offline_hosts: leftOn } : {}),
        },
      }),
    ),
  ]);
  return row;
}
