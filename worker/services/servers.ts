// Servers (issue 13, seeds 002/004): a long-running container Pier manages as a server, with a name
// unique in the organization, an integer alias (the documents' numeric ids), a role from the
// organization's catalog, limits, a data volume and an address. This module is the read side and
// the shared vocabulary; the lifecycle (tasks that change containers) is in server-lifecycle.ts.
import { and, asc, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { KIND_LABEL, MANAGED_LABEL_KEY, ORG_LABEL, SERVER_LABEL } from "#protocol";
import type { Database } from "../db/client.ts";
import { servers, serverDisks, SERVER_STATUSES, type ServerStatus } from "../db/schema.ts";
import { ApiError, notFound } from "../errors.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import type { Principal } from "./principal.ts";

export type ServerRow = typeof servers.$inferSelect;
export type ServerDiskRow = typeof serverDisks.$inferSelect;
export { SERVER_STATUSES, type ServerStatus };

/** Server names: DNS labels that start with a letter, so a name never reads as an alias or an address. */
export const SERVER_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;
export const SERVER_NAME_RULE = "1–63 letters, digits and hyphens, starting with a letter (it becomes the container's hostname)";

/** The container a server runs as on its host (one per server; the name is stable for its life). */
export const serverContainerName = (server: Pick<ServerRow, "name">): string => `srv-${server.name}`;

/** The server's data volume, made with it and kept across recreates unless it is deleted without keep_data. */
export const serverVolumeName = (server: Pick<ServerRow, "name" | "id">): string => `srv-${server.name}-${server.id.slice(4, 12)}-data`;

/** The labels a server's container and volumes carry (with the agent's own dev.pier.managed). */
export const serverLabels = (server: Pick<ServerRow, "id" | "organizationId">): Record<string, string> => ({
  [MANAGED_LABEL_KEY]: "true",
  [SERVER_LABEL]: server.id,
  [ORG_LABEL]: server.organizationId,
  [KIND_LABEL]: "server",
});

export interface ServerFilter {
  status?: ServerStatus;
  role?: string;
  hostId?: string;
  projectId?: string;
  /**
   * Project-scoped access: the projects the caller may see. A server outside them, or without a
   * project, is invisible to a scoped member. Undefined or null: the caller is unscoped.
   */
  projectIds?: readonly string[] | null;
}

function filterConditions(organizationId: string, filter: ServerFilter): (SQL | undefined)[] {
  const scoped = filter.projectIds === undefined || filter.projectIds === null ? undefined : filter.projectIds;
  return [
    eq(servers.organizationId, organizationId),
    filter.status ? eq(servers.status, filter.status) : undefined,
    filter.role ? eq(servers.role, filter.role) : undefined,
    filter.hostId ? eq(servers.hostId, filter.hostId) : undefined,
    filter.projectId ? eq(servers.projectId, filter.projectId) : undefined,
    // No project ids at all: a scoped member with no project sees no server.
    scoped ? (scoped.length ? inArray(servers.projectId, [...scoped]) : eq(servers.id, "")) : undefined,
  ];
}

/**
 * The projects a caller may see servers of (project-scoped access, issue 13's IAM lane): null
 * means every server of the organization. The one place services ask, so the scope filter of the
 * permissions service plugs in here.
 */
export async function serverScope(_db: Database, principal: Principal): Promise<Pick<ServerFilter, "projectIds">> {
  return { projectIds: principal.projectScope ?? null };
}

/** Every server of the organization that matches, in alias order (the documents' lists). */
export async function listServers(db: Database, organizationId: string, filter: ServerFilter = {}): Promise<ServerRow[]> {
  return db
    .select()
    .from(servers)
    .where(and(...filterConditions(organizationId, filter)))
    .orderBy(asc(servers.alias));
}

/** One newest-first page of the organization's servers (the canonical list). */
export async function pageServers(db: Database, organizationId: string, filter: ServerFilter, page: PageQuery) {
  return newestFirstPage(db.select().from(servers).$dynamic(), servers, page, ...filterConditions(organizationId, filter));
}

/** How a reference names a server: `srv_…` id, a numeric alias, an IP address, else a name. */
export function refKind(ref: string): "id" | "alias" | "ip" | "name" {
  if (/^srv_[a-z0-9]+$/.test(ref)) return "id";
  if (/^\d{1,9}$/.test(ref)) return "alias";
  if (ipaddr.IPv4.isValidFourPartDecimal(ref) || ipaddr.IPv6.isValid(ref)) return "ip";
  return "name";
}

/**
 * A server of the organization by id, alias, IP address or name (what the documents use in their
 * paths). Another organization's server, or one outside the caller's projects, is "not found".
 */
export async function getServer(
  db: Database,
  organizationId: string,
  ref: string | number,
  scope: Pick<ServerFilter, "projectIds"> = {},
): Promise<ServerRow> {
  const text = String(ref).trim();
  const kind = refKind(text);
  const by =
    kind === "id"
      ? eq(servers.id, text)
      : kind === "alias"
        ? eq(servers.alias, Number(text))
        : kind === "ip"
          ? eq(servers.ipAddress, text)
          : eq(servers.name, text);
  const rows = await db
    .select()
    .from(servers)
    .where(and(by, ...filterConditions(organizationId, scope)))
    .limit(2);
  if (rows.length > 1)
    throw new ApiError(
      409,
      `More than one server has the address ${text} (on different hosts): name the server by its name or id instead.`,
    );
  const row = rows[0];
  if (!row) throw notFound(`Server ${text}`);
  return row;
}

/** Several servers at once (bulk actions); every reference must resolve, else 404 naming the first that does not. */
export async function getServers(
  db: Database,
  organizationId: string,
  refs: readonly (string | number)[],
  scope: Pick<ServerFilter, "projectIds"> = {},
): Promise<ServerRow[]> {
  const out: ServerRow[] = [];
  for (const ref of refs) out.push(await getServer(db, organizationId, ref, scope));
  return out;
}

/** A server's extra disks, in the order they were added. */
export async function serverDisksOf(db: Database, serverId: string): Promise<ServerDiskRow[]> {
  return db.select().from(serverDisks).where(eq(serverDisks.serverId, serverId)).orderBy(asc(serverDisks.createdAt));
}

/** Servers whose host is gone or whose row says they failed: what cleanup looks at first. */
export async function failedServers(db: Database, organizationId: string, scope: Pick<ServerFilter, "projectIds"> = {}) {
  return db
    .select()
    .from(servers)
    .where(and(...filterConditions(organizationId, scope), or(eq(servers.status, "error"), isNull(servers.hostId))))
    .orderBy(asc(servers.alias));
}

/** The canonical view of a server (never its environment's values). */
export function toServerView(row: ServerRow) {
  return {
    id: row.id,
    alias: row.alias,
    name: row.name,
    host_id: row.hostId,
    project_id: row.projectId,
    role: row.role,
    image: row.image,
    cpu: row.cpu,
    memory_mb: row.memoryMb,
    disk_gb: row.diskGb,
    ip_address: row.ipAddress,
    network_id: row.networkId,
    network_name: row.networkName,
    volume_name: row.volumeName,
    container_id: row.containerId,
    container_name: serverContainerName(row),
    status: row.status,
    last_error: row.lastError,
    task_id: row.taskId,
    config: row.config,
    has_env: row.envEncrypted !== null,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
export type ServerView = ReturnType<typeof toServerView>;
