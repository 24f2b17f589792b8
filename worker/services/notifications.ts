import type { SSEStreamingApi } from "hono/streaming";
import { and, count, desc, eq, gt, inArray, isNull, lt, lte, or, type SQL } from "drizzle-orm";
import { createDatabase, type Database } from "../db/client.ts";
import {
  apiKeys,
  auditEvents,
  memberProjects,
  memberships,
  NOTIFICATION_KINDS,
  notifications,
  notificationSettings,
  type NotificationKind,
  type Severity,
} from "../db/schema.ts";
import type { LiveNotification } from "../durable/notification-hub.ts";
import type { Bindings } from "../env.ts";
import { notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { channelsFor, enqueueDeliveries } from "./channels/index.ts";
import { relayHubAsSse, subscribeHub } from "./hub-subscription.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";
import { targetInScope } from "./project-lookup.ts";
import { errorLogFields } from "../db/errors.ts";

export type { NotificationKind };
export type NotificationRow = typeof notifications.$inferSelect;

export interface NotifyInput {
  organizationId: string;
  kind: NotificationKind;
  title: string;
  message: string;
  severity?: "info" | "success" | "warning" | "error";
  targetType?: string;
  targetId?: string;
  data?: Record<string, unknown>;
}

const DEFAULT_SEVERITY: Record<NotificationKind, Severity> = {
  "deployment.succeeded": "success",
  "deployment.failed": "error",
  "deployment.cancelled": "warning",
  "deployment.timed_out": "error",
  "host.disconnected": "warning",
  "host.lost": "error",
  "host.online": "success",
  "container.died": "error",
  "container.restart_loop": "error",
  "alert.opened": "warning",
  "alert.cleared": "success",
  "credential.expiring": "warning",
  "backup.succeeded": "success",
  "backup.failed": "error",
};

/**
 * Tells an organization about something: a notification in each member's inbox, pushed live to
 * their open streams, and handed to the organization's channels (delivered by their dispatchers,
 * off this path). Never throws: whatever caused the notification must not fail because of it.
 */
export async function notify(env: Bindings, input: NotifyInput): Promise<void> {
  try {
    await createNotification(createDatabase(env), env, input);
  } catch (err) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "notify failed",
        kind: input.kind,
        organization: input.organizationId,
        ...errorLogFields(err),
      }),
    );
  }
}

/** `notify`, for callers that want the id and to see errors; `userIds` narrows the recipients. */
export async function createNotification(db: Database, env: Bindings, input: NotifyInput & { userIds?: string[] }): Promise<string | null> {
  if (await kindDisabled(db, input.organizationId, input.kind)) return null;
  const members = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(eq(memberships.organizationId, input.organizationId));
  const recipients = members.map((m) => m.userId).filter((u) => !input.userIds || input.userIds.includes(u));
  const id = newId("ntf");
  const createdAt = nowIso();
  const severity = input.severity ?? DEFAULT_SEVERITY[input.kind] ?? "info";
  const base = {
    id,
    organizationId: input.organizationId,
    kind: input.kind,
    severity,
    title: input.title,
    message: input.message,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    data: input.data ?? null,
    readAt: null,
    createdAt,
  };
  if (recipients.length > 0) await db.insert(notifications).values(recipients.map((userId) => ({ ...base, userId })));
  const live = await seenLive(db, input.organizationId, id, recipients);

  // The live push and the channels are independent: one failing must not stop the other.
  const results = await Promise.allSettled([
    live.length > 0
      ? env.NOTIFICATION_HUB.getByName(input.organizationId).publish(live, toLive({ ...base, userId: "" }))
      : Promise.resolve(0),
    channelsFor(db, input.organizationId, input.kind).then((channels) =>
      enqueueDeliveries(db, env, channels, {
        notification_id: id,
        kind: input.kind,
        severity,
        title: input.title,
        message: input.message,
        target_type: base.targetType,
        target_id: base.targetId,
        data: base.data,
        created_at: createdAt,
        organization_id: input.organizationId,
      }),
    ),
  ]);
  for (const r of results) {
    if (r.status === "rejected")
      console.error(JSON.stringify({ level: "error", msg: "notification fan-out failed", notification: id, ...errorLogFields(r.reason) }));
  }
  return id;
}

/**
 * Who of `recipients` is pushed notification `id` live: everyone but the project-scoped members
 * whose inbox (the same filter as every read of it) does not show it.
 */
async function seenLive(db: Database, organizationId: string, id: string, recipients: string[]): Promise<string[]> {
  if (recipients.length === 0) return [];
  const scoped = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(
      and(
        eq(memberships.organizationId, organizationId),
        eq(memberships.projectScoped, true),
        inArray(memberships.role, ["member", "viewer"]),
        inArray(memberships.userId, recipients),
      ),
    );
  if (scoped.length === 0) return recipients;
  const hidden = new Set<string>();
  for (const { userId } of scoped) {
    const projectIds = await db
      .select({ projectId: memberProjects.projectId })
      .from(memberProjects)
      .where(and(eq(memberProjects.organizationId, organizationId), eq(memberProjects.userId, userId)));
    const viewer = { userId, organizationId, projectScope: projectIds.map((r) => r.projectId) };
    const [row] = await db
      .select({ id: notifications.id })
      .from(notifications)
      .where(and(eq(notifications.id, id), inbox(db, viewer)))
      .limit(1);
    if (!row) hidden.add(userId);
  }
  return recipients.filter((u) => !hidden.has(u));
}

// ---- SSE cursors ----------------------------------------------------------------------------------

/** `<epoch ms>-<id>`: the SSE `id:` of a notification, ordered like the inbox. */
export const cursorOf = (n: { createdAt: string; id: string }): string => `${Date.parse(n.createdAt)}-${n.id}`;

export function parseCursor(value: string | undefined | null): { createdAt: string; id: string } | undefined {
  const m = /^(\d{1,15})-(ntf_[0-9a-z]{1,64})$/.exec(value?.trim() ?? "");
  if (!m) return undefined;
  return { createdAt: new Date(Number(m[1])).toISOString(), id: m[2]! };
}

export function toLive(n: NotificationRow): LiveNotification {
  return {
    cursor: cursorOf(n),
    id: n.id,
    kind: n.kind,
    severity: n.severity,
    title: n.title,
    message: n.message,
    target_type: n.targetType,
    target_id: n.targetId,
    data: n.data,
    created_at: n.createdAt,
  };
}

// ---- the inbox ------------------------------------------------------------------------------------

/** A user's inbox; a project-scoped member's shows only what is about their projects. */
const inbox = (db: Database, p: Pick<Principal, "userId" | "organizationId" | "projectScope">) =>
  and(
    eq(notifications.userId, p.userId),
    eq(notifications.organizationId, p.organizationId),
    targetInScope(db, { type: notifications.targetType, id: notifications.targetId }, p),
  );

export interface InboxFilter {
  unread?: boolean;
  kind?: string;
}

function filterConditions(filter: InboxFilter): (SQL | undefined)[] {
  return [filter.unread ? isNull(notifications.readAt) : undefined, filter.kind ? eq(notifications.kind, filter.kind) : undefined];
}

export async function listNotifications(db: Database, p: Principal, filter: InboxFilter, page: PageQuery) {
  return newestFirstPage(db.select().from(notifications).$dynamic(), notifications, page, inbox(db, p), ...filterConditions(filter));
}

/** For the compatibility surfaces: offset pages and a total. */
export async function listNotificationsOffset(db: Database, p: Principal, filter: InboxFilter, limit: number, offset: number) {
  const where = and(inbox(db, p), ...filterConditions(filter));
  const [rows, [total]] = await Promise.all([
    db.select().from(notifications).where(where).orderBy(desc(notifications.createdAt), desc(notifications.id)).limit(limit).offset(offset),
    db.select({ n: count() }).from(notifications).where(where),
  ]);
  return { rows, total: total?.n ?? 0 };
}

export async function unreadCount(db: Database, p: Principal): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(inbox(db, p), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

export async function getNotification(db: Database, p: Principal, id: string): Promise<NotificationRow> {
  const [row] = await db
    .select()
    .from(notifications)
    .where(and(inbox(db, p), eq(notifications.id, id)))
    .limit(1);
  if (!row) throw notFound(`Notification ${id}`);
  return row;
}

/**
 * Read state is the user's own view of their inbox, like opening an email: it is not written to
 * the audit log (which would otherwise fill with page views). Deletions are.
 */
export async function markRead(db: Database, p: Principal, id: string, read = true): Promise<NotificationRow> {
  const row = await getNotification(db, p, id);
  const readAt = read ? (row.readAt ?? nowIso()) : null;
  await db
    .update(notifications)
    .set({ readAt })
    .where(and(inbox(db, p), eq(notifications.id, id)));
  return { ...row, readAt };
}

export async function markAllRead(db: Database, p: Principal): Promise<number> {
  const rows = await db
    .update(notifications)
    .set({ readAt: nowIso() })
    .where(and(inbox(db, p), isNull(notifications.readAt)))
    .returning({ id: notifications.id });
  return rows.length;
}

export async function deleteNotification(db: Database, actor: Actor & { principal: Principal }, id: string): Promise<void> {
  const p = actor.principal;
  await getNotification(db, p, id);
  await db.batch([
    db.delete(notifications).where(and(inbox(db, p), eq(notifications.id, id))),
    db
      .insert(auditEvents)
      .values(
        auditRow(actor, { organizationId: p.organizationId, action: "notification.delete", targetType: "notification", targetId: id }),
      ),
  ]);
}

/** Empties the caller's inbox (other users keep theirs). */
export async function clearAll(db: Database, actor: Actor & { principal: Principal }): Promise<number> {
  const p = actor.principal;
  const [deleted] = await db.batch([
    db.delete(notifications).where(inbox(db, p)).returning({ id: notifications.id }),
    db
      .insert(auditEvents)
      .values(
        auditRow(actor, { organizationId: p.organizationId, action: "notification.clear_all", targetType: "user", targetId: p.userId }),
      ),
  ]);
  return deleted.length;
}

/** What the caller missed after `cursor` and still has, oldest first (the SSE replay). */
export async function notificationsAfter(
  db: Database,
  p: Principal,
  cursor: { createdAt: string; id: string },
  limit = 500,
): Promise<NotificationRow[]> {
  const rows = await db
    .select()
    .from(notifications)
    .where(
      and(
        inbox(db, p),
        or(
          gt(notifications.createdAt, cursor.createdAt),
          and(eq(notifications.createdAt, cursor.createdAt), gt(notifications.id, cursor.id)),
        ),
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(limit);
  return rows.reverse();
}

// ---- per-organization switches --------------------------------------------------------------------

async function kindDisabled(db: Database, organizationId: string, kind: string): Promise<boolean> {
  const [row] = await db
    .select({ disabled: notificationSettings.disabledKinds })
    .from(notificationSettings)
    .where(eq(notificationSettings.organizationId, organizationId))
    .limit(1);
  return row?.disabled.includes(kind) ?? false;
}

export interface NotificationSettings {
  kinds: { kind: NotificationKind; enabled: boolean }[];
  updatedAt: string | null;
}

export async function getSettings(db: Database, organizationId: string): Promise<NotificationSettings> {
  const [row] = await db.select().from(notificationSettings).where(eq(notificationSettings.organizationId, organizationId)).limit(1);
  const disabled = new Set(row?.disabledKinds ?? []);
  return { kinds: NOTIFICATION_KINDS.map((kind) => ({ kind, enabled: !disabled.has(kind) })), updatedAt: row?.updatedAt ?? null };
}

/** Switches kinds on or off for the whole organization (owner/admin); kinds left out keep their state. */
export async function updateSettings(
  db: Database,
  actor: Actor & { principal: Principal },
  changes: Partial<Record<NotificationKind, boolean>>,
): Promise<NotificationSettings> {
  const p = actor.principal;
  requireRole(p, "admin", "change the organization's notification settings");
  const current = await getSettings(db, p.organizationId);
  const disabled = current.kinds.filter((k) => (changes[k.kind] === undefined ? !k.enabled : changes[k.kind] === false)).map((k) => k.kind);
  const now = nowIso();
  await db.batch([
    db
      .insert(notificationSettings)
      .values({ organizationId: p.organizationId, disabledKinds: disabled, updatedAt: now })
      .onConflictDoUpdate({ target: notificationSettings.organizationId, set: { disabledKinds: disabled, updatedAt: now } }),
    db
      .insert(auditEvents)
      .values(auditRow(actor, { organizationId: p.organizationId, action: "notification_settings.update", metadata: { changes } })),
  ]);
  return getSettings(db, p.organizationId);
}

// ---- the live stream ------------------------------------------------------------------------------

/** Subscribes to the organization's NotificationHub for the caller's notifications (before the SSE response starts). */
export function subscribeNotifications(env: Bindings, p: Principal): Promise<WebSocket> {
  return subscribeHub(env.NOTIFICATION_HUB.getByName(p.organizationId), { "x-pier-user": p.userId }, "notification hub");
}

/**
 * Follows the caller's notifications on a subscription until the client goes away: a `: ready`
 * comment, then what is stored after `lastEventId`, then live ones, skipping any the replay
 * already sent. The subscription predates the replay, so nothing created in between is missed.
 */
export async function followNotifications(
  ws: WebSocket,
  db: Database,
  p: Principal,
  lastEventId: string | undefined,
  sse: SSEStreamingApi,
  write: (n: LiveNotification) => Promise<void>,
): Promise<void> {
  const sent = new Set<string>();
  await relayHubAsSse<LiveNotification>(sse, ws, {
    // Tell EventSource how soon to come back if the stream drops.
    retryMs: 3000,
    replay: async () => {
      const cursor = parseCursor(lastEventId);
      if (!cursor) return;
      for (const row of await notificationsAfter(db, p, cursor)) {
        sent.add(row.id);
        await write(toLive(row));
      }
    },
    onMessage: async (n) => {
      if (!sent.has(n.id)) await write(n);
    },
  });
}

export const isNotificationKind = (kind: string): kind is NotificationKind => (NOTIFICATION_KINDS as readonly string[]).includes(kind);

// ---- housekeeping (the cron trigger) --------------------------------------------------------------

/** Notifications are kept 90 days. */
export const NOTIFICATION_RETENTION_MS = 90 * 24 * 3600_000;

export async function pruneNotifications(db: Database, now = Date.now()): Promise<void> {
  await db.delete(notifications).where(lt(notifications.createdAt, new Date(now - NOTIFICATION_RETENTION_MS).toISOString()));
}

/** API keys are announced to their owner this long before they expire. */
export const CREDENTIAL_NOTICE_MS = 7 * 24 * 3600_000;

/**
 * Tells each API key's owner, once, that the key expires within a week. "Once" is checked
 * against the notifications already created for the key (by any recipient).
 */
export async function notifyExpiringCredentials(db: Database, env: Bindings, now = Date.now()): Promise<number> {
  const soon = await db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      userId: apiKeys.userId,
      organizationId: apiKeys.organizationId,
      expiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .where(
      and(
        isNull(apiKeys.revokedAt),
        gt(apiKeys.expiresAt, new Date(now).toISOString()),
        lte(apiKeys.expiresAt, new Date(now + CREDENTIAL_NOTICE_MS).toISOString()),
      ),
    );
  let sent = 0;
  for (const key of soon) {
    const [already] = await db
      .select({ id: notifications.id })
      .from(notifications)
      .where(
        and(
          eq(notifications.organizationId, key.organizationId),
          eq(notifications.kind, "credential.expiring"),
          eq(notifications.targetId, key.id),
        ),
      )
      .limit(1);
    if (already) continue;
    const days = Math.max(1, Math.round((Date.parse(key.expiresAt!) - now) / 86_400_000));
    await createNotification(db, env, {
      organizationId: key.organizationId,
      kind: "credential.expiring",
      title: `API key "${key.name}" expires in ${days} day${days === 1 ? "" : "s"}`,
      message: `The API key ${key.prefix}… ("${key.name}") expires at ${key.expiresAt}. Create a new key (POST /api/v1/api-keys) and switch your scripts to it before then.`,
      targetType: "api_key",
      targetId: key.id,
      data: { api_key_id: key.id, expires_at: key.expiresAt },
      userIds: [key.userId],
    });
    sent++;
  }
  return sent;
}

/** One SSE frame: `id:` for Last-Event-ID, and the seed's `{"type": "notification", title, message}` data. */
function notificationFrame(n: LiveNotification) {
  return {
    id: n.cursor,
    data: JSON.stringify({
      type: "notification",
      id: n.id,
      kind: n.kind,
      severity: n.severity,
      title: n.title,
      message: n.message,
      target_type: n.target_type,
      target_id: n.target_id,
      data: n.data,
      created_at: n.created_at,
    }),
  };
}

/**
 * The caller's notifications as an SSE writer: subscribed before it is returned (so nothing
 * created while the response starts is missed), then what came after `lastEventId`, then live.
 */
export async function notificationStream(
  env: Bindings,
  db: Database,
  p: Principal,
  lastEventId: string | undefined,
): Promise<(sse: SSEStreamingApi) => Promise<void>> {
  const ws = await subscribeNotifications(env, p);
  return (sse) => followNotifications(ws, db, p, lastEventId, sse, (n) => sse.writeSSE(notificationFrame(n)));
}
