import type { Role } from "../db/schema.ts";
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
