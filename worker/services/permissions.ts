import { and, asc, eq, inArray } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Database } from "../db/client.ts";
import {
  auditEvents,
  memberPermissions,
  memberProjects,
  memberships,
  PERMISSIONS,
  projects,
  ROLES,
  users,
  type Permission,
  type Role,
} from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { conflict, forbidden, invalid, unauthorized } from "../errors.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import type { CredentialCache } from "./credential-cache.ts";
import { requireRole, roleAtLeast, type Actor, type Principal } from "./principal.ts";
import { credentialsOf, getMember } from "./users.ts";

// Seed 004's permissions on top of Pier's four roles. A role gives a default set; a member's
// `grant` rows add to it and `revoke` rows take from it (rows are relative to the role, so they
// keep their meaning when the role changes). Owners and admins always hold admin_access: it is
// what their role is, and taking it away is done by changing the role.
//
// Enforcement: routes call `requirePermission(p)` (middleware, one line) or `assertPermission`.
// Permissions are resolved once when a credential is resolved (accounts.principalFrom*), cached
// on the principal with it, and every change here `forget`s the member's credentials.

export { PERMISSIONS, type Permission };

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS,
  member: ["create_server", "manage_servers", "assign_roles", "manage_backups"],
  viewer: [],
};

export interface PermissionOverride {
  permission: Permission;
  effect: "grant" | "revoke";
}

/** A role's defaults with a member's overrides applied, in PERMISSIONS order. */
export function resolvePermissions(role: Role, overrides: readonly PermissionOverride[]): Permission[] {
  const held = new Set<Permission>(ROLE_PERMISSIONS[role]);
  for (const o of overrides) {
    if (o.effect === "grant") held.add(o.permission);
    else held.delete(o.permission);
  }
  if (roleAtLeast(role, "admin")) held.add("admin_access");
  return PERMISSIONS.filter((p) => held.has(p));
}

/** What a credential may do beyond its role: read with the role when the credential is resolved. */
export interface Access {
  permissions: Permission[];
  /** Null: every project of the organization. Owners and admins are never scoped. */
  projectScope: string[] | null;
}

/** One round trip: the member's overrides, scope flag and scoped projects. */
export async function loadAccess(db: Database, organizationId: string, userId: string, role: Role): Promise<Access> {
  const member = and(eq(memberPermissions.organizationId, organizationId), eq(memberPermissions.userId, userId));
  const [overrides, flags, scoped] = await db.batch([
    db.select({ permission: memberPermissions.permission, effect: memberPermissions.effect }).from(memberPermissions).where(member),
    db
      .select({ projectScoped: memberships.projectScoped })
      .from(memberships)
      .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId))),
    db
      .select({ projectId: memberProjects.projectId })
      .from(memberProjects)
      .where(and(eq(memberProjects.organizationId, organizationId), eq(memberProjects.userId, userId))),
  ]);
  const isScoped = flags[0]?.projectScoped === true && !roleAtLeast(role, "admin");
  return { permissions: resolvePermissions(role, overrides), projectScope: isScoped ? scoped.map((r) => r.projectId) : null };
}

/**
 * An API key's access: its user's, except that a key made with a lower role than its user's
 * holds no more than that role's defaults (a viewer key stays a viewer key whatever its user was
 * granted). The user's revocations and project scope always apply to their keys.
 */
export function apiKeyAccess(user: Access, userRole: Role, keyRole: Role): Access {
  if (roleAtLeast(keyRole, userRole)) return user;
  const allowed = new Set(resolvePermissions(keyRole, []));
  return { permissions: user.permissions.filter((p) => allowed.has(p)), projectScope: user.projectScope };
}

/** A principal's permissions; the system's own actors (no `permissions`) hold their role's defaults. */
export function effectivePermissions(principal: Pick<Principal, "role" | "permissions">): readonly Permission[] {
  return principal.permissions ?? resolvePermissions(principal.role, []);
}

export const hasPermission = (principal: Pick<Principal, "role" | "permissions">, permission: Permission): boolean =>
  effectivePermissions(principal).includes(permission);

export function assertPermission(principal: Pick<Principal, "role" | "permissions">, permission: Permission): void {
  if (!hasPermission(principal, permission)) {
    throw forbidden(
      `This needs the ${permission} permission, which you do not have (role ${principal.role}). Ask an owner or admin of your organization to grant it.`,
    );
  }
}

/**
 * Route guard: `requirePermission("manage_firewall")` after authentication. Lives here rather than
 * in middleware/ so that the other lanes' routes import one module for permissions.
 */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async function requirePermission(c, next) {
    const principal = c.var.principal;
    if (!principal) throw c.var.credentialProblem ?? unauthorized();
    assertPermission(principal, permission);
    await next();
  };
}

/**
 * For what cannot be narrowed to projects (a host's raw Docker API shows every project's
 * containers): project-scoped members are refused, with the reason.
 */
export function refuseProjectScoped(what: string): MiddlewareHandler<AppEnv> {
  return async function refuseProjectScoped(c, next) {
    if (c.var.principal?.projectScope) {
      throw forbidden(`${what} is not available to project-scoped members: it shows every project's objects. Ask an admin.`);
    }
    await next();
  };
}

// ---- administration --------------------------------------------------------------------------

type Admin = Actor & { principal: Principal };

export interface MemberAccessView {
  user_id: string;
  username: string;
  email: string;
  role: Role;
  permissions: Permission[];
  role_defaults: Permission[];
  granted: Permission[];
  revoked: Permission[];
  /** Null: every project. */
  project_ids: string[] | null;
}

async function overridesOf(db: Database, organizationId: string, userIds: string[]) {
  if (userIds.length === 0) return [];
  return db
    .select()
    .from(memberPermissions)
    .where(and(eq(memberPermissions.organizationId, organizationId), inArray(memberPermissions.userId, userIds)));
}

async function scopesOf(db: Database, organizationId: string, userIds: string[]) {
  if (userIds.length === 0) return [];
  return db
    .select({ userId: memberProjects.userId, projectId: memberProjects.projectId })
    .from(memberProjects)
    .where(and(eq(memberProjects.organizationId, organizationId), inArray(memberProjects.userId, userIds)))
    .orderBy(asc(memberProjects.createdAt), asc(memberProjects.projectId));
}

/** Every member's access, oldest member first (seed 004's IAM page, the dashboard's IAM screen). */
export async function listMemberAccess(db: Database, organizationId: string, only?: string): Promise<MemberAccessView[]> {
  const rows = await db
    .select({
      userId: memberships.userId,
      role: memberships.role,
      projectScoped: memberships.projectScoped,
      createdAt: memberships.createdAt,
      username: users.username,
      email: users.email,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, organizationId), only ? eq(memberships.userId, only) : undefined))
    .orderBy(asc(memberships.createdAt), asc(memberships.userId));
  const ids = rows.map((r) => r.userId);
  const [overrides, scopes] = await Promise.all([overridesOf(db, organizationId, ids), scopesOf(db, organizationId, ids)]);
  return rows.map((r) => {
    const own = overrides.filter((o) => o.userId === r.userId);
    const scoped = r.projectScoped && !roleAtLeast(r.role, "admin");
    return {
      user_id: r.userId,
      username: r.username,
      email: r.email,
      role: r.role,
      permissions: resolvePermissions(r.role, own),
      role_defaults: resolvePermissions(r.role, []),
      granted: PERMISSIONS.filter((p) => own.some((o) => o.permission === p && o.effect === "grant")),
      revoked: PERMISSIONS.filter((p) => own.some((o) => o.permission === p && o.effect === "revoke")),
      project_ids: scoped ? scopes.filter((s) => s.userId === r.userId).map((s) => s.projectId) : null,
    };
  });
}

export async function memberAccess(db: Database, organizationId: string, userId: string): Promise<MemberAccessView> {
  await getMember(db, organizationId, userId);
  const [view] = await listMemberAccess(db, organizationId, userId);
  if (!view) throw conflict(`User ${userId} left the organization meanwhile.`);
  return view;
}

/** Same rules as role changes: admins manage members and viewers (and themselves); owners anyone. */
async function manageable(db: Database, actor: Admin, userId: string, what: string) {
  const p = actor.principal;
  requireRole(p, "admin", what);
  const target = await getMember(db, p.organizationId, userId);
  if (p.role !== "owner" && target.role === "owner") throw forbidden(`Only an owner can ${what} of an owner.`);
  if (p.role !== "owner" && target.role === "admin" && target.user.id !== p.userId)
    throw forbidden(`Only an owner can ${what} of another admin.`);
  return target;
}

/**
 * Sets a member's permissions to exactly `wanted`, stored as overrides of their role's defaults.
 * `pointer` names the field in the caller's body for a 422.
 */
export async function setPermissions(
  db: Database,
  credentials: CredentialCache,
  actor: Admin,
  userId: string,
  wanted: readonly Permission[],
  pointer = "/body/permissions",
): Promise<MemberAccessView> {
  const p = actor.principal;
  const target = await manageable(db, actor, userId, "change the permissions");
  const want = new Set(wanted);
  if (roleAtLeast(target.role, "admin") && !want.has("admin_access")) {
    throw invalid([
      {
        pointer,
        detail: `${target.user.username} is ${target.role === "owner" ? "an owner" : "an admin"}, which holds admin_access: change their role to member to take it away.`,
      },
    ]);
  }
  const defaults = new Set(ROLE_PERMISSIONS[target.role]);
  const now = nowIso();
  const rows: (typeof memberPermissions.$inferInsert & PermissionOverride)[] = [];
  for (const permission of PERMISSIONS) {
    if (want.has(permission) === defaults.has(permission)) continue;
    rows.push({ organizationId: p.organizationId, userId, permission, effect: want.has(permission) ? "grant" : "revoke", createdAt: now });
  }
  const before = (await memberAccess(db, p.organizationId, userId)).permissions;
  await db.batch([
    db.delete(memberPermissions).where(and(eq(memberPermissions.organizationId, p.organizationId), eq(memberPermissions.userId, userId))),
    ...(rows.length ? [db.insert(memberPermissions).values(rows)] : []),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "user.permissions_change",
        targetType: "user",
        targetId: userId,
        metadata: { from: before, to: resolvePermissions(target.role, rows) },
      }),
    ),
  ]);
  await credentials.forget(await credentialsOf(db, userId));
  return memberAccess(db, p.organizationId, userId);
}

/** Limits a member to `projectIds` (possibly none), or with null lets them see every project. */
export async function setProjectScope(
  db: Database,
  credentials: CredentialCache,
  actor: Admin,
  userId: string,
  projectIds: readonly string[] | null,
  pointer = "/body/project_ids",
): Promise<MemberAccessView> {
  const p = actor.principal;
  const target = await manageable(db, actor, userId, "change the projects");
  if (projectIds !== null && roleAtLeast(target.role, "admin")) {
    throw invalid([
      { pointer, detail: `${target.user.username} is ${target.role}: owners and admins see every project. Make them a member first.` },
    ]);
  }
  const ids = [...new Set(projectIds ?? [])];
  if (ids.length) {
    const found = await db
      .select({ id: projects.id })
      .from(projects)
      .where(and(eq(projects.organizationId, p.organizationId), inArray(projects.id, ids)));
    const known = new Set(found.map((r) => r.id));
    const missing = ids.map((id, i) => ({ id, i })).filter(({ id }) => !known.has(id));
    if (missing.length) {
      throw invalid(
        missing.map(({ id, i }) => ({ pointer: `${pointer}/${i}`, detail: `Project ${id} was not found in your organization.` })),
      );
    }
  }
  const now = nowIso();
  const member = and(eq(memberProjects.organizationId, p.organizationId), eq(memberProjects.userId, userId));
  await db.batch([
    db
      .update(memberships)
      .set({ projectScoped: projectIds !== null })
      .where(and(eq(memberships.organizationId, p.organizationId), eq(memberships.userId, userId))),
    db.delete(memberProjects).where(member),
    ...(ids.length
      ? [
          db
            .insert(memberProjects)
            .values(ids.map((projectId) => ({ organizationId: p.organizationId, userId, projectId, createdAt: now }))),
        ]
      : []),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "user.projects_change",
        targetType: "user",
        targetId: userId,
        metadata: { project_ids: projectIds === null ? null : ids },
      }),
    ),
  ]);
  await credentials.forget(await credentialsOf(db, userId));
  return memberAccess(db, p.organizationId, userId);
}

/**
 * Reading other members' access (the IAM overview, a member's permissions or projects): owners and
 * admins, or a member granted admin_access who is not limited to projects. Refused to a
 * project-scoped member rather than narrowed: every member and the projects each is limited to
 * belong to the organization, not to a project, and a list cut to the caller's projects would
 * misreport what the others may do.
 */
export function assertReadsMembersAccess(principal: Principal, what: string): void {
  assertPermission(principal, "admin_access");
  if (principal.projectScope) {
    throw forbidden(
      `You are limited to chosen projects, so you cannot ${what}: it shows every member's access across all of the organization's projects. Ask an owner or admin.`,
    );
  }
}

/** The permission catalog (which roles hold each by default) and every member's access. */
export async function iamOverview(db: Database, principal: Principal) {
  assertReadsMembersAccess(principal, "view the organization's permissions");
  const { organizationId } = principal;
  return {
    permissions: PERMISSIONS.map((name) => ({ name, roles: ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(name)) })),
    members: await listMemberAccess(db, organizationId),
  };
}
