// Creating, reading, changing and deleting channels (admin only, audited).
import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { auditEvents, type ChannelType, notificationChannels } from "../../db/schema.ts";
import type { Bindings } from "../../env.ts";
import { notFound } from "../../errors.ts";
import { encryptSecret } from "../../lib/crypto.ts";
import { newId } from "../../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../../lib/pagination.ts";
import { nowIso } from "../../lib/time.ts";
import { auditRow } from "../audit.ts";
import { type Actor, type Principal, requireRole } from "../principal.ts";
import { type ChannelRow, maskConfig, openConfig, parseConfig, SECRET_FIELDS } from "./config.ts";
import { checkUrls } from "./private-hosts.ts";

export type Admin = Actor & { principal: Principal };

export interface ChannelView {
  row: ChannelRow;
  config: Record<string, unknown>;
}

export async function maskedView(env: Bindings, row: ChannelRow): Promise<ChannelView> {
  return { row, config: maskConfig((await openConfig(env, row)) as Record<string, unknown>) };
}

export interface NewChannel {
  type: ChannelType;
  name: string;
  config: unknown;
  events?: string[] | null;
  enabled?: boolean;
}

export async function createChannel(db: Database, env: Bindings, actor: Admin, input: NewChannel): Promise<ChannelView> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const config = parseConfig(input.type, input.config);
  checkUrls(env, config);
  const now = nowIso();
  const row: ChannelRow = {
    id: newId("chn"),
    organizationId: p.organizationId,
    type: input.type,
    name: input.name,
    configSealed: await encryptSecret(JSON.stringify(config), env.ENCRYPTION_KEY),
    events: input.events ?? null,
    enabled: input.enabled ?? true,
    createdBy: p.userId,
    createdAt: now,
    updatedAt: now,
  };
  await db.batch([
    db.insert(notificationChannels).values(row),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.create",
        targetType: "notification_channel",
        targetId: row.id,
        metadata: { type: row.type, name: row.name },
      }),
    ),
  ]);
  return { row, config: maskConfig(config as Record<string, unknown>) };
}

export async function getChannel(db: Database, organizationId: string, id: string): Promise<ChannelRow> {
  const [row] = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.organizationId, organizationId), eq(notificationChannels.id, id)))
    .limit(1);
  if (!row) throw notFound(`Notification channel ${id}`);
  return row;
}

export async function listChannels(db: Database, organizationId: string, page: PageQuery) {
  const query = db.select().from(notificationChannels).$dynamic();
  return newestFirstPage(query, notificationChannels, page, eq(notificationChannels.organizationId, organizationId));
}

export interface ChannelPatch {
  name?: string;
  /** Merged into the stored config: fields left out (or sent back masked) keep their values. */
  config?: Record<string, unknown>;
  events?: string[] | null;
  enabled?: boolean;
}

export async function updateChannel(db: Database, env: Bindings, actor: Admin, id: string, patch: ChannelPatch): Promise<ChannelView> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const row = await getChannel(db, p.organizationId, id);
  let sealed = row.configSealed;
  let config = await openConfig(env, row);
  if (patch.config) {
    const current = config as Record<string, unknown>;
    const masked = maskConfig(current);
    const merged = { ...current };
    for (const [k, v] of Object.entries(patch.config)) {
      // A masked value sent back unchanged (a form that round-trips what it read) keeps the secret.
      if (v === masked[k] && SECRET_FIELDS.has(k)) continue;
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    config = parseConfig(row.type, merged);
    checkUrls(env, config);
    sealed = await encryptSecret(JSON.stringify(config), env.ENCRYPTION_KEY);
  }
  const next: ChannelRow = {
    ...row,
    name: patch.name ?? row.name,
    configSealed: sealed,
    events: patch.events === undefined ? row.events : patch.events,
    enabled: patch.enabled ?? row.enabled,
    updatedAt: nowIso(),
  };
  const changed = Object.keys(patch).filter((k) => patch[k as keyof ChannelPatch] !== undefined);
  await db.batch([
    db
      .update(notificationChannels)
      .set({ name: next.name, configSealed: next.configSealed, events: next.events, enabled: next.enabled, updatedAt: next.updatedAt })
      .where(eq(notificationChannels.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.update",
        targetType: "notification_channel",
        targetId: id,
        metadata: { fields: changed },
      }),
    ),
  ]);
  return { row: next, config: maskConfig(config as Record<string, unknown>) };
}

export async function deleteChannel(db: Database, actor: Admin, id: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const row = await getChannel(db, p.organizationId, id);
  await db.batch([
    db.delete(notificationChannels).where(eq(notificationChannels.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.delete",
        targetType: "notification_channel",
        targetId: id,
        metadata: { type: row.type, name: row.name },
      }),
    ),
  ]);
}
