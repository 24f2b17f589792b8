import { and, eq, inArray, or, type SQLWrapper } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { apiKeys, applications, auditEvents, databaseServices, deployments, domains, environments, users } from "../db/schema.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import type { Actor } from "./principal.ts";

export interface AuditEntry {
  organizationId: string;
  action: string;
  targetType?: string;
  targetId?: string;
  /** Non-secret details only: never passwords, tokens or keys. */
  metadata?: Record<string, unknown>;
  /** Overrides the actor taken from the principal (e.g. a login, before there is one). */
  actorId?: string;
  actorType?: "user" | "api_key" | "agent" | "system" | "anonymous";
}

export function auditRow(actor: Actor, entry: AuditEntry) {
  const principal = actor.principal;
  return {
    id: newId("aud"),
    organizationId: entry.organizationId,
    actorType: entry.actorType ?? (principal ? (principal.kind === "api_key" ? "api_key" : "user") : "anonymous"),
    actorId: entry.actorId ?? (principal ? (principal.apiKeyId ?? principal.userId) : null),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    ip: actor.ip,
    userAgent: actor.userAgent,
    metadata: entry.metadata ?? null,
    createdAt: nowIso(),
  } as const;
}

export async function recordAudit(db: Database, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.insert(auditEvents).values(auditRow(actor, entry));
}

export async function listAuditEvents(db: Database, organizationId: string, page: PageQuery) {
  return newestFirstPage(db.select().from(auditEvents).$dynamic(), auditEvents, page, eq(auditEvents.organizationId, organizationId));
}

/**
 * What happened to a project and everything in it (its environments, applications, their
 * domains and deployments, its databases), newest first. The targets are matched by subqueries,
 * so a project with many deployments costs no long parameter list. Things since deleted drop out
 * of the feed with their rows, except the project itself.
 */
export async function projectActivity(db: Database, organizationId: string, projectId: string, page: PageQuery) {
  const appIds = db.select({ id: applications.id }).from(applications).where(eq(applications.projectId, projectId));
  const target = (type: string, ids: SQLWrapper) => and(eq(auditEvents.targetType, type), inArray(auditEvents.targetId, ids));
  return newestFirstPage(
    db.select().from(auditEvents).$dynamic(),
    auditEvents,
    page,
    eq(auditEvents.organizationId, organizationId),
    or(
      and(eq(auditEvents.targetType, "project"), eq(auditEvents.targetId, projectId)),
      target("environment", db.select({ id: environments.id }).from(environments).where(eq(environments.projectId, projectId))),
      target("application", appIds),
      target("database", db.select({ id: databaseServices.id }).from(databaseServices).where(eq(databaseServices.projectId, projectId))),
      target("domain", db.select({ id: domains.id }).from(domains).where(inArray(domains.applicationId, appIds))),
      target("deployment", db.select({ id: deployments.id }).from(deployments).where(inArray(deployments.applicationId, appIds))),
    ),
  );
}

/** Usernames and API key names of the events' actors, by actor id (keys of this organization only). */
export async function actorNames(
  db: Database,
  organizationId: string,
  events: readonly { actorType: string; actorId: string | null }[],
): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(events.filter((e) => e.actorType === type && e.actorId).map((e) => e.actorId as string))];
  const userIds = ids("user");
  const keyIds = ids("api_key");
  const [userRows, keyRows] = await Promise.all([
    userIds.length ? db.select({ id: users.id, name: users.username }).from(users).where(inArray(users.id, userIds)) : [],
    keyIds.length
      ? db
          .select({ id: apiKeys.id, name: apiKeys.name })
          .from(apiKeys)
          .where(and(inArray(apiKeys.id, keyIds), eq(apiKeys.organizationId, organizationId)))
      : [],
  ]);
  return new Map([...userRows, ...keyRows].map((r) => [r.id, r.name]));
}
