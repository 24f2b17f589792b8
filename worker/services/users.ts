import { and, count, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { apiKeys, auditEvents, memberships, sessions, users, type Role } from "../db/schema.ts";
import { conflict, forbidden, notFound } from "../errors.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { hashPassword } from "../lib/crypto.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { apiKeyRateKey, sessionRateKey, type CredentialCache } from "./credential-cache.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";

type Admin = Actor & { principal: Principal };

export async function listUsers(db: Database, organizationId: string, page: PageQuery) {
  const query = db
    .select({ id: users.id, createdAt: users.createdAt, user: users, role: memberships.role })
    .from(users)
    .innerJoin(memberships, eq(memberships.userId, users.id))
    .$dynamic();
  return newestFirstPage(query, users, page, eq(memberships.organizationId, organizationId));
}

async function memberOf(db: Database, organizationId: string, userId: string) {
  const [row] = await db
    .select({ user: users, role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)))
    .limit(1);
  // Another organization's user is indistinguishable from a missing one.
  if (!row) throw notFound(`User ${userId}`);
  return row;
}

export const getMember = memberOf;

async function ownerCount(db: Database, organizationId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.role, "owner")));
  return row?.n ?? 0;
}

/** Owners may change any role; admins may change members and viewers, up to admin. */
export async function changeRole(db: Database, credentials: CredentialCache, actor: Admin, userId: string, role: Role) {
  const p = actor.principal;
  requireRole(p, "admin", "change roles");
  const target = await memberOf(db, p.organizationId, userId);
  if (p.role !== "owner" && (target.role === "owner" || role === "owner"))
    throw forbidden("Only an owner can grant or take away the owner role.");
  if (p.role !== "owner" && target.role === "admin" && target.user.id !== p.userId)
    throw forbidden("Only an owner can change another admin's role.");
  if (target.role === "owner" && role !== "owner" && (await ownerCount(db, p.organizationId)) <= 1) {
    throw conflict("This is the organization's last owner: make someone else owner first.");
  }
  await db.batch([
    db
      .update(memberships)
      .set({ role })
      .where(and(eq(memberships.organizationId, p.organizationId), eq(memberships.userId, userId))),
    db.update(users).set({ updatedAt: nowIso() }).where(eq(users.id, userId)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "user.role_change",
        targetType: "user",
        targetId: userId,
        metadata: { from: target.role, to: role },
      }),
    ),
  ]);
  await credentials.forget(await credentialsOf(db, userId));
  return { ...target, role };
}

/** Removes a user: their sessions end and their API keys stop working at once. */
export async function removeUser(db: Database, credentials: CredentialCache, actor: Admin, userId: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "remove users");
  const target = await memberOf(db, p.organizationId, userId);
  if (target.user.id === p.userId) throw conflict("You cannot remove yourself: ask another owner or admin.");
  if (target.role === "owner" && p.role !== "owner") throw forbidden("Only an owner can remove an owner.");
  if (target.role === "admin" && p.role !== "owner") throw forbidden("Only an owner can remove an admin.");
  const now = nowIso();
  const cachedCredentials = await credentialsOf(db, userId);
  await db.batch([
    db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "user_removed" })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt))),
    db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt))),
    db.delete(memberships).where(and(eq(memberships.organizationId, p.organizationId), eq(memberships.userId, userId))),
    // Users belong to one organization, so the account goes with the membership.
    db.delete(users).where(eq(users.id, userId)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "user.delete",
        targetType: "user",
        targetId: userId,
        metadata: { username: target.user.username },
      }),
    ),
  ]);
  await credentials.forget(cachedCredentials);
}

/** The rate-limit buckets (and so the cached principals) of a user's live sessions and keys. */
export async function credentialsOf(db: Database, userId: string): Promise<string[]> {
  const now = nowIso();
  const [liveSessions, liveKeys] = await Promise.all([
    db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now))),
    db
      .select({ keyHash: apiKeys.keyHash })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt))),
  ]);
  return [...liveSessions.map((s) => sessionRateKey(s.id)), ...liveKeys.map((k) => apiKeyRateKey(k.keyHash))];
}

/** A member of the organization by username (stored lower-cased); another organization's is missing. */
export async function memberByUsername(db: Database, organizationId: string, username: string) {
  const [row] = await db
    .select({ user: users, role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, organizationId), eq(users.username, username.trim().toLowerCase())))
    .limit(1);
  if (!row) throw notFound(`User ${username}`);
  return row;
}

/**
 * An admin sets another member's password (seed 004's admin screen): every session of theirs
 * ends, their API keys keep working. Owners' passwords only an owner sets; admins', only an owner
 * (or the admin themselves, who should use the password change that asks for the current one).
 */
export async function setPassword(
  db: Database,
  credentials: CredentialCache,
  actor: Admin,
  userId: string,
  password: string,
): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "set other users' passwords");
  const target = await memberOf(db, p.organizationId, userId);
  if (p.role !== "owner" && (target.role === "owner" || (target.role === "admin" && target.user.id !== p.userId)))
    throw forbidden(`Only an owner can set the password of ${target.role === "owner" ? "an owner" : "another admin"}.`);
  const now = nowIso();
  const ended = await credentialsOf(db, userId);
  await db.batch([
    db
      .update(users)
      .set({ passwordHash: await hashPassword(password), passwordChangedAt: now, updatedAt: now })
      .where(eq(users.id, userId)),
    db
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "password_set_by_admin" })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt))),
    db
      .insert(auditEvents)
      .values(auditRow(actor, { organizationId: p.organizationId, action: "user.password_set", targetType: "user", targetId: userId })),
  ]);
  await credentials.forget(ended);
}
