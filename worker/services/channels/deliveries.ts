// The delivery log is the queue: one row per (notification, channel), retried with backoff by the
// channel's ChannelDispatcher, pruned after 30 days.
import { and, asc, eq, isNull, lte, min, or } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { auditEvents, type DeliveryPayload, notificationChannels, notificationDeliveries } from "../../db/schema.ts";
import type { Bindings } from "../../env.ts";
import { newId } from "../../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../../lib/pagination.ts";
import { nowIso } from "../../lib/time.ts";
import { auditRow } from "../audit.ts";
import { assertPermission } from "../permissions.ts";
import type { ChannelRow, DeliveryRow } from "./config.ts";
import { type Admin, getChannel } from "./crud.ts";
import type { AttemptOutcome } from "./send.ts";
import { notifyRetryPolicy, type RetryPolicy } from "../../settings.ts";

/**
 * Logs one pending delivery per channel and wakes each channel's dispatcher, which sends it from
 * its alarm, off the request path. A slow or failing channel only ever delays itself.
 */
export async function enqueueDeliveries(
  db: Database,
  env: Bindings,
  channels: ChannelRow[],
  payload: DeliveryPayload,
): Promise<DeliveryRow[]> {
  if (channels.length === 0) return [];
  const now = nowIso();
  const rows: DeliveryRow[] = channels.map((ch) => ({
    id: newId("dlv"),
    organizationId: ch.organizationId,
    channelId: ch.id,
    notificationId: payload.notification_id,
    kind: payload.kind,
    payload,
    status: "pending",
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: now,
    deliveredAt: null,
    createdAt: now,
    updatedAt: now,
  }));
  await db.insert(notificationDeliveries).values(rows);
  await Promise.all(channels.map((ch) => env.CHANNEL_DISPATCHER.getByName(ch.id).wake()));
  return rows;
}

/** Channels of the organization that deliver `kind`. */
export async function channelsFor(db: Database, organizationId: string, kind: string): Promise<ChannelRow[]> {
  const rows = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.organizationId, organizationId), eq(notificationChannels.enabled, true)));
  return rows.filter((ch) => ch.events === null || ch.events.includes(kind));
}

export async function sendTest(db: Database, env: Bindings, actor: Admin, id: string): Promise<DeliveryRow> {
  const p = actor.principal;
  // Testing sends to a channel without changing it: admin_access (always an owner's and an
  // admin's), as 004's POST /api/test/notification asks; changing channels stays with admins.
  assertPermission(p, "admin_access");
  const channel = await getChannel(db, p.organizationId, id);
  const [delivery] = await enqueueDeliveries(db, env, [channel], {
    notification_id: null,
    kind: "test",
    severity: "info",
    title: "Pier test notification",
    message: `This is a test of the ${channel.type} channel "${channel.name}". If you can read it, Pier can reach you here.`,
    target_type: "notification_channel",
    target_id: channel.id,
    data: null,
    created_at: nowIso(),
    organization_id: p.organizationId,
    test: true,
  });
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "notification_channel.test",
      targetType: "notification_channel",
      targetId: id,
      metadata: { delivery_id: delivery!.id },
    }),
  );
  return delivery!;
}

export async function listDeliveries(db: Database, organizationId: string, channelId: string, page: PageQuery) {
  await getChannel(db, organizationId, channelId);
  const query = db.select().from(notificationDeliveries).$dynamic();
  return newestFirstPage(query, notificationDeliveries, page, eq(notificationDeliveries.channelId, channelId));
}

export { notifyRetryPolicy as retryPolicy, type RetryPolicy };

/** Exponential backoff with ±20 % jitter, so retries of many deliveries do not arrive in step. */
export function backoffMs(policy: RetryPolicy, attempts: number, random = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Pending deliveries of a channel that are due, oldest first. */
export async function dueDeliveries(db: Database, channelId: string, now: string, limit = 25): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.channelId, channelId),
        eq(notificationDeliveries.status, "pending"),
        or(isNull(notificationDeliveries.nextAttemptAt), lte(notificationDeliveries.nextAttemptAt, now)),
      ),
    )
    .orderBy(asc(notificationDeliveries.createdAt), asc(notificationDeliveries.id))
    .limit(limit);
}

/** When the channel's next pending delivery is due, if any. */
export async function nextDueAt(db: Database, channelId: string): Promise<string | null> {
  const [row] = await db
    .select({ at: min(notificationDeliveries.nextAttemptAt) })
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.channelId, channelId), eq(notificationDeliveries.status, "pending")));
  return row?.at ?? null;
}

export async function recordAttempt(db: Database, delivery: DeliveryRow, outcome: AttemptOutcome, policy: RetryPolicy): Promise<void> {
  const now = Date.now();
  const attempts = delivery.attempts + 1;
  const base = { attempts, lastStatusCode: outcome.status, updatedAt: new Date(now).toISOString() };
  if (outcome.ok) {
    await db
      .update(notificationDeliveries)
      .set({ ...base, status: "succeeded", lastError: null, nextAttemptAt: null, deliveredAt: base.updatedAt })
      .where(eq(notificationDeliveries.id, delivery.id));
    return;
  }
  const giveUp = !outcome.retryable || attempts >= policy.maxAttempts;
  const wait = Math.max(backoffMs(policy, attempts), Math.min(outcome.retryAfterMs ?? 0, policy.maxMs));
  await db
    .update(notificationDeliveries)
    .set({
      ...base,
      status: giveUp ? "failed" : "pending",
      lastError: outcome.error,
      nextAttemptAt: giveUp ? null : new Date(now + wait).toISOString(),
    })
    .where(eq(notificationDeliveries.id, delivery.id));
}

export async function channelById(db: Database, id: string): Promise<ChannelRow | undefined> {
  const [row] = await db.select().from(notificationChannels).where(eq(notificationChannels.id, id)).limit(1);
  return row;
}

/** The delivery log is kept 30 days. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600_000;

export async function pruneDeliveries(db: Database, now = Date.now()): Promise<void> {
  await db
    .delete(notificationDeliveries)
    .where(
      and(
        lte(notificationDeliveries.createdAt, new Date(now - DELIVERY_RETENTION_MS).toISOString()),
        or(eq(notificationDeliveries.status, "succeeded"), eq(notificationDeliveries.status, "failed")),
      ),
    );
}
