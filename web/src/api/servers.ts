// Servers, their roles catalog and firewall groups (issue 13): the queries the server screens share,
// and what the signed-in user may do with them.
import { useQuery } from "@tanstack/react-query";
import { api, ok, type Schemas } from "./client.ts";
import { keys } from "./keys.ts";
import { type Role, useMe } from "./session.ts";

export type Server = Schemas["Server"];
export type ServerRole = Schemas["ServerRole"];
export type FirewallGroup = Schemas["FirewallGroup"];
export type FirewallRule = Schemas["FirewallRule"];

export const serverKeys = {
  all: ["servers"] as const,
  list: (filter: { host?: string; role?: string; status?: string }) => ["servers", "list", filter] as const,
  detail: (ref: string) => ["servers", "detail", ref] as const,
  config: (ref: string) => ["servers", ref, "config"] as const,
  logs: (ref: string) => ["servers", ref, "logs"] as const,
  firewall: (ref: string) => ["servers", ref, "firewall"] as const,
  roles: ["server-roles"] as const,
  groups: ["firewall-groups"] as const,
};

export const useServerRoles = () => useQuery({ queryKey: serverKeys.roles, queryFn: () => ok(api.GET("/api/v1/server-roles")) });

export const useFirewallGroups = () => useQuery({ queryKey: serverKeys.groups, queryFn: () => ok(api.GET("/api/v1/firewall-groups")) });

export const useProjects = () =>
  useQuery({ queryKey: keys.projects.list(), queryFn: () => ok(api.GET("/api/v1/projects", { params: { query: { limit: 200 } } })) });

/** Seed 004's permissions; what each role holds unless a member's grants say otherwise (worker/services/permissions.ts). */
export type Permission = Schemas["Permission"];
const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: ["create_server", "manage_servers", "assign_roles", "manage_firewall", "manage_backups", "admin_access"],
  admin: ["create_server", "manage_servers", "assign_roles", "manage_firewall", "manage_backups", "admin_access"],
  member: ["create_server", "manage_servers", "assign_roles", "manage_backups"],
  viewer: [],
};

/**
 * Whether the signed-in user holds a permission: their own grants and revocations as the API
 * resolves them (GET /api/v1/users/{me}/permissions), the role's defaults until that is read.
 * Only which controls are drawn hangs on it; the API decides, and its 403 is shown if the two
 * ever disagree.
 */
export function usePermission(): (p: Permission) => boolean {
  const me = useMe();
  const access = useQuery({
    queryKey: ["me", "permissions", me?.id],
    queryFn: () => ok(api.GET("/api/v1/users/{id}/permissions", { params: { path: { id: me!.id } } })),
    enabled: !!me,
    staleTime: 60_000,
  });
  const held: readonly Permission[] = access.data?.permissions ?? (me ? ROLE_PERMISSIONS[me.role] : []);
  return (p) => held.includes(p);
}

/** Servers in these states are on their way somewhere: the inventory reads again until they arrive. */
export const TRANSITIONAL = new Set<Server["status"]>(["creating", "restarting", "deleting"]);
