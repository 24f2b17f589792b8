import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { projects } from "../db/schema.ts";
import { notFound } from "../errors.ts";

// Apart from projects.ts because applications and databases look projects up, and deleting a
// project (projects.ts) removes their containers: one module would be an import cycle.

export type ProjectRow = typeof projects.$inferSelect;

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
