import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { auditEvents } from "../db/schema.ts";
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
