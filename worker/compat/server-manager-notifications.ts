// The notification center and task status of the server manager's API documents (seed 002, and
// its version 2, seed 004), as thin adapters over the notification and task services. Paths both
// documents share answer in 002's shapes (`{notifications, total}`), paths only version 2 has in
// its `{success, data, message}` envelope; errors follow the document each path comes from.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as notificationsService from "../services/notifications.ts";
import * as tasks from "../services/tasks.ts";
import { streamSSE } from "hono/streaming";
import { ApiError, fieldErrors } from "../errors.ts";
import { TASK_STATUSES } from "../db/schema.ts";
import { TASK_TIMEOUT_MS } from "../services/host-tasks.ts";

const ok = <T>(data: T, message: string) => ({ success: true, data, message });

/** A validated query string for a compat route (422 with field errors, in the surface's envelope). */
export function query<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, "query");
    throw new ApiError(422, errors.map((e) => `${e.pointer.replace(/^\/query\//, "")}: ${e.detail}`).join("; "), { errors });
  }
  return parsed.data;
}

/** A notification in the documents' shape (`id, message, type, created_at`), plus what Pier knows. */
const compatNotification = (n: notificationsService.NotificationRow) => ({
  id: n.id,
  message: n.message,
  type: n.severity,
  created_at: n.createdAt,
  title: n.title,
  kind: n.kind,
  read: n.readAt !== null,
  read_at: n.readAt,
  target_type: n.targetType,
  target_id: n.targetId,
});

/** 002's clients page with `limit`/`offset`, 004's with `page`/`per_page`; either works. */
const Paging = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  page: z.coerce.number().int().min(1).max(100_000).optional(),
  per_page: z.coerce.number().int().min(1).max(200).optional(),
  unread: z.enum(["true", "false", "1", "0"]).optional(),
});
const DEFAULT_PER_PAGE = 50;

// ---- notifications (seed 002 and 004) --------------------------------------------------------------

export const notificationCompat = new Hono<AppEnv>();
notificationCompat.use("/api/notifications/stream", requireAuth({ allowQueryToken: true }));
notificationCompat.use("/api/notifications", requireAuth());
notificationCompat.use("/api/notifications/*", requireAuth());

// Both documents list notifications here in different shapes: 002 `{notifications, total}`, 004
// its paginated `{success, data, pagination}`. The answer carries both, so either client reads it.
notificationCompat.get("/api/notifications", async (c) => {
  const q = query(c, Paging);
  const perPage = q.per_page ?? q.limit ?? DEFAULT_PER_PAGE;
  const offset = q.offset ?? ((q.page ?? 1) - 1) * perPage;
  const { rows, total } = await notificationsService.listNotificationsOffset(
    c.var.db,
    c.var.principal,
    { unread: q.unread === "true" || q.unread === "1" },
    perPage,
    offset,
  );
  const items = rows.map(compatNotification);
  return c.json({
    success: true,
    data: items,
    pagination: { page: Math.floor(offset / perPage) + 1, per_page: perPage, total, pages: Math.ceil(total / perPage) },
    notifications: items,
    total,
  });
});

notificationCompat.get("/api/notifications/latest", async (c) => {
  const q = query(c, z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }));
  const [{ rows, total }, unread] = await Promise.all([
    notificationsService.listNotificationsOffset(c.var.db, c.var.principal, {}, q.limit, 0),
    notificationsService.unreadCount(c.var.db, c.var.principal),
  ]);
  const items = rows.map(compatNotification);
  // 002's `{notifications, total}` and 004's `{success, data, message}` at once, as for the list.
  return c.json({ success: true, data: items, message: "Latest notifications.", notifications: items, total, unread_count: unread });
});

notificationCompat.get("/api/notifications/unread-count", async (c) => {
  const unread = await notificationsService.unreadCount(c.var.db, c.var.principal);
  return c.json(ok({ count: unread, unread_count: unread }, "Unread notifications."));
});

notificationCompat.get("/api/notifications/stream", async (c) => {
  const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
  return streamSSE(c, await notificationsService.notificationStream(c.env, c.var.db, c.var.principal, lastEventId));
});

notificationCompat.post("/api/notifications/clear-all", async (c) => {
  const deleted = await notificationsService.clearAll(c.var.db, authedActor(c));
  return c.json(ok({ deleted }, "All notifications cleared."));
});

notificationCompat.get("/api/notifications/:id", async (c) => {
  const n = await notificationsService.getNotification(c.var.db, c.var.principal, c.req.param("id"));
  return c.json(ok(compatNotification(n), "Notification."));
});

notificationCompat.post("/api/notifications/:id/read", async (c) => {
  const n = await notificationsService.markRead(c.var.db, c.var.principal, c.req.param("id"));
  return c.json(ok(compatNotification(n), "Notification marked as read."));
});

notificationCompat.delete("/api/notifications/:id", async (c) => {
  await notificationsService.deleteNotification(c.var.db, authedActor(c), c.req.param("id"));
  return c.json({ success: true, message: "Notification deleted." });
});

// ---- tasks -----------------------------------------------------------------------------------------

const taskBody = (t: tasks.TaskRow) => ({
  task_id: t.id,
  status: t.status,
  progress: t.progress,
  message: t.message ?? "",
  created_at: t.createdAt,
  updated_at: t.updatedAt,
  kind: t.kind,
  target_type: t.targetType,
  target_id: t.targetId,
  started_at: t.startedAt,
  finished_at: t.finishedAt,
});

/** Seed 002: `GET /api/tasks/{task_id}` answers the task itself. */
export const taskV1Compat = new Hono<AppEnv>();
taskV1Compat.get("/api/tasks/:taskId", requireAuth(), async (c) =>
  c.json(taskBody(await tasks.getVisibleTask(c.var.db, c.var.principal, c.req.param("taskId")))),
);

/**
 * Seed 004: `GET /api/tasks/status` and `/api/tasks/config` (mounted before seed 002's
 * `/api/tasks/{task_id}`, which would otherwise read them as task ids), and
 * `GET /api/tasks/<task_id>/status`, in its envelope.
 */
export const taskV2Compat = new Hono<AppEnv>();
/** The tasks still running or waiting that `/api/tasks/status` lists. */
const ACTIVE_TASKS_SHOWN = 100;
taskV2Compat.get("/api/tasks/status", requireAuth(), async (c) => {
  const [counts, running, queued] = await Promise.all([
    tasks.taskCounts(c.var.db, c.var.principal),
    tasks.listTasks(c.var.db, c.var.principal, { status: "running" }, { limit: ACTIVE_TASKS_SHOWN }),
    tasks.listTasks(c.var.db, c.var.principal, { status: "queued" }, { limit: ACTIVE_TASKS_SHOWN }),
  ]);
  const active = [...running.items, ...queued.items].map(taskBody);
  return c.json(ok({ counts, active: active.length, tasks: active }, "Task status."));
});
taskV2Compat.get("/api/tasks/config", requireAuth(), (c) =>
  c.json(
    ok(
      {
        statuses: TASK_STATUSES,
        timeout_seconds: TASK_TIMEOUT_MS / 1000,
        status_url: "/api/tasks/<task_id>/status",
        cancel_url: "/api/v1/tasks/<task_id>/cancel",
      },
      "Task configuration.",
    ),
  ),
);
taskV2Compat.get("/api/tasks/:taskId/status", requireAuth(), async (c) =>
  c.json(ok(taskBody(await tasks.getVisibleTask(c.var.db, c.var.principal, c.req.param("taskId"))), "Task status.")),
);
