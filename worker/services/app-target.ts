import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { applications } from "../db/schema.ts";
import { ApiError, notFound } from "../errors.ts";
import { type ApplicationRow, applicationsBySlug } from "./applications.ts";
import { seesProject, type Viewer } from "./principal.ts";
import { inProjectScope } from "./project-lookup.ts";

// The container an application runs as, for surfaces that name an application where the Docker
// CLI would name a container (DevFlow's `/api/projects/{project}/docker/…`).

export interface AppTarget {
  app: ApplicationRow;
  hostId: string;
  /** The container's id when the last deployment recorded one, else its name (the app name). */
  container: string;
}

/**
 * An application `viewer` sees by id, app name (its slug), or name; 404 otherwise (one out of a
 * project-scoped member's projects included).
 */
export async function findApplication(db: Database, viewer: Viewer, ref: string): Promise<ApplicationRow> {
  const organizationId = viewer.organizationId;
  const [direct] = await applicationsBySlug(db, ref, organizationId);
  if (direct && seesProject(viewer, direct.projectId)) return direct;
  const [byName] = await db
    .select()
    .from(applications)
    .where(
      and(
        eq(applications.organizationId, organizationId),
        sql`lower(${applications.name}) = ${ref.toLowerCase()}`,
        inProjectScope(applications.projectId, viewer),
      ),
    )
    .limit(1);
  if (byName) return byName;
  throw notFound(`Project ${ref}`);
}

/** The application and where its container runs; 409 when it has never been placed on a host. */
export async function applicationTarget(db: Database, viewer: Viewer, ref: string): Promise<AppTarget> {
  const app = await findApplication(db, viewer, ref);
  if (!app.hostId)
    throw new ApiError(409, `Project ${ref} has no server yet: give it a host (PATCH /api/v1/applications/${app.id}) and deploy it.`);
  return { app, hostId: app.hostId, container: app.containerId ?? app.appName };
}
