import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { applications } from "../db/schema.ts";
import { ApiError, notFound } from "../errors.ts";
import { type ApplicationRow, applicationsBySlug } from "./applications.ts";

// The container an application runs as, for surfaces that name an application where the Docker
// CLI would name a container (DevFlow's `/api/projects/{project}/docker/…`).

export interface AppTarget {
  app: ApplicationRow;
  hostId: string;
  /** The container's id when the last deployment recorded one, else its name (the app name). */
  container: string;
}

/** An application of the organization by id, app name (its slug), or name; 404 otherwise. */
export async function findApplication(db: Database, organizationId: string, ref: string): Promise<ApplicationRow> {
  const [direct] = await applicationsBySlug(db, ref, organizationId);
  if (direct) return direct;
  const [byName] = await db
    .select()
    .from(applications)
    .where(and(eq(applications.organizationId, organizationId), sql`lower(${applications.name}) = ${ref.toLowerCase()}`))
    .limit(1);
  if (byName) return byName;
  throw notFound(`Project ${ref}`);
}

/** The application and where its container runs; 409 when it has never been placed on a host. */
export async function applicationTarget(db: Database, organizationId: string, ref: string): Promise<AppTarget> {
  const app = await findApplication(db, organizationId, ref);
  if (!app.hostId)
    throw new ApiError(409, `Project ${ref} has no server yet: give it a host (PATCH /api/v1/applications/${app.id}) and deploy it.`);
  return { app, hostId: app.hostId, container: app.containerId ?? app.appName };
}
