import type { Permission, Role } from "../db/schema.ts";
import { forbidden } from "../errors.ts";

/** Who is calling: a user through a session's access token, or through one of their API keys. */
export interface Principal {
  kind: "session" | "api_key";
  userId: string;
  username: string;
  organizationId: string;
  /** The effective role: for an API key, the lower of the key's role and its creator's. */
  role: Role;
  sessionId?: string;
  apiKeyId?: string;
  /**
   * The effective permissions (services/permissions.ts), read with the role when the credential is
   * resolved; absent on the system's own actors, which get their role's defaults.
   */
  permissions?: readonly Permission[];
  /** The projects a project-scoped member may see; null or absent: all of the organization's. */
  projectScope?: readonly string[] | null;
}

/**
 * Whose view a lookup answers for: a principal (its organization, narrowed to its projects when it
 * is project-scoped), or `{ organizationId }` for the system's own work (tasks, schedulers,
 * webhooks), which sees the whole organization. Lookups take this rather than an organization id
 * so that no request path can forget the scope.
 */
export type Viewer = Pick<Principal, "organizationId"> & Partial<Pick<Principal, "projectScope">>;

/** The projects `viewer` may see, or null for all of its organization's. */
export function projectScope(viewer: Viewer): ReadonlySet<string> | null {
  return viewer.projectScope ? new Set(viewer.projectScope) : null;
}

/** Whether `viewer` sees an object of `projectId`; objects in no project are seen only unscoped. */
export function seesProject(viewer: Viewer, projectId: string | null | undefined): boolean {
  const scope = projectScope(viewer);
  return scope === null || (projectId != null && scope.has(projectId));
}

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export const roleAtLeast = (role: Role, minimum: Role): boolean => RANK[role] >= RANK[minimum];

export const lowerRole = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);

export function requireRole(principal: Principal, minimum: Role, action: string): void {
  if (!roleAtLeast(principal.role, minimum)) {
    throw forbidden(
      `Your role (${principal.role}) cannot ${action}; it needs ${minimum} or higher. Ask an owner or admin of your organization.`,
    );
  }
}

/** Everything a service needs to know about the request besides its input. */
export interface Actor {
  principal?: Principal;
  ip: string | null;
  userAgent: string | null;
}
