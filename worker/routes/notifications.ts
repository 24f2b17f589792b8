import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { NOTIFICATION_KINDS, SEVERITIES } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as notificationsService from "../services/notifications.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const NotificationKind = z.enum(NOTIFICATION_KINDS);

export const NotificationView = z
  .object({
    id: z.string(),
    kind: z.string().openapi({ description: "deployment.failed, host.lost, container.died, alert.opened, …" }),
    severity: z.enum(SEVERITIES),
    title: z.string(),
    message: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
    read: z.boolean(),
    read_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Notification");

export const toNotificationView = (n: notificationsService.NotificationRow): z.infer<typeof NotificationView> => {
  const { cursor: _cursor, ...live } = notificationsService.toLive(n);
  return { ...live, read: n.readAt !== null, read_at: n.readAt };
};

/**
 * The SSE stream of the caller's notifications. EventSource reconnects with `Last-Event-ID`
 * (header, or `?last_event_id=` for clients that cannot set it) and is sent what it missed.
 */
async function streamNotifications(c: Context<AppEnv>, lastEventId: string | undefined) {
  return streamSSE(c, await notificationsService.notificationStream(c.env, c.var.db, c.var.principal, lastEventId));
}

export const notificationRoutes = createRouter();
// SSE accepts `?access_token=` too: a browser EventSource cannot send headers.
notificationRoutes.use("/stream", requireAuth({ allowQueryToken: true }));
notificationRoutes.use("*", requireAuth());

const NotificationId = IdParam("id", "ntf_0123456789abcdefghij");

const ListQuery = PageQuery.extend({
  unread: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .openapi({ description: "Only unread notifications." }),
  kind: NotificationKind.optional(),
});

notificationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["notifications"],
    summary: "Your notifications in this organization, newest first",
    request: { query: ListQuery },
    responses: {
      200: jsonResponse(
        PageMeta.extend({ notifications: z.array(NotificationView), unread_count: z.number().int() }),
        "A page of notifications.",
      ),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const [page, unread] = await Promise.all([
      notificationsService.listNotifications(c.var.db, c.var.principal, { unread: q.unread, kind: q.kind }, q),
      notificationsService.unreadCount(c.var.db, c.var.principal),
    ]);
    return c.json({ notifications: page.items.map(toNotificationView), next_cursor: page.nextCursor, unread_count: unread }, 200);
  },
);

notificationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/unread-count",
    tags: ["notifications"],
    summary: "How many of your notifications are unread",
    responses: { 200: jsonResponse(z.object({ unread_count: z.number().int() }), "The count.") },
  }),
  async (c) => c.json({ unread_count: await notificationsService.unreadCount(c.var.db, c.var.principal) }, 200),
);

notificationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/stream",
    tags: ["notifications"],
    summary: "Your notifications as they happen (SSE); reconnect with Last-Event-ID to get what you missed",
    request: {
      query: z.object({ access_token: z.string().optional(), last_event_id: z.string().max(100).optional() }),
      headers: z.object({ "last-event-id": z.string().max(100).optional() }),
    },
    responses: {
      200: {
        description: 'SSE: `id: <cursor>` and `data: {"type": "notification", "title": …, "message": …}` per notification.',
        content: { "text/event-stream": { schema: z.string() } },
      },
    },
  }),
  async (c) => (await streamNotifications(c, c.req.valid("header")["last-event-id"] ?? c.req.valid("query").last_event_id)) as never,
);

const Settings = z
  .object({
    kinds: z.array(z.object({ kind: NotificationKind, enabled: z.boolean() })),
    updated_at: z.string().nullable(),
  })
  .openapi("NotificationSettings");

const toSettingsView = (s: notificationsService.NotificationSettings): z.infer<typeof Settings> => ({
  kinds: s.kinds,
  updated_at: s.updatedAt,
});

notificationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/settings",
    tags: ["notifications"],
    summary: "Which kinds of notification your organization receives",
    responses: { 200: jsonResponse(Settings, "Every kind, on or off.") },
  }),
  async (c) => c.json(toSettingsView(await notificationsService.getSettings(c.var.db, c.var.principal.organizationId)), 200),
);

notificationRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/settings",
    tags: ["notifications"],
    summary: "Switch kinds of notification on or off for the whole organization (owner/admin)",
    request: {
      body: jsonBody(
        z
          .object({ kinds: z.partialRecord(NotificationKind, z.boolean()).openapi({ example: { "host.online": false } }) })
          .strict()
          .openapi("NotificationSettingsUpdate"),
      ),
    },
    responses: { 200: jsonResponse(Settings, "The settings after the change.") },
    errors: ["validation"],
  }),
  async (c) => c.json(toSettingsView(await notificationsService.updateSettings(c.var.db, authedActor(c), c.req.valid("json").kinds)), 200),
);

notificationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/read-all",
    tags: ["notifications"],
    summary: "Mark all your notifications read",
    responses: { 200: jsonResponse(z.object({ updated: z.number().int() }), "How many changed.") },
  }),
  async (c) => c.json({ updated: await notificationsService.markAllRead(c.var.db, c.var.principal) }, 200),
);

notificationRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/",
    tags: ["notifications"],
    summary: "Clear all your notifications (other users keep theirs)",
    responses: { 200: jsonResponse(z.object({ deleted: z.number().int() }), "How many were deleted.") },
  }),
  async (c) => c.json({ deleted: await notificationsService.clearAll(c.var.db, authedActor(c)) }, 200),
);

notificationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["notifications"],
    summary: "One of your notifications",
    request: { params: NotificationId },
    responses: { 200: jsonResponse(NotificationView, "The notification.") },
    errors: ["notFound"],
  }),
  async (c) =>
    c.json(toNotificationView(await notificationsService.getNotification(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

for (const [action, read] of [
  ["read", true],
  ["unread", false],
] as const) {
  notificationRoutes.openapi(
    authedRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["notifications"],
      summary: `Mark one of your notifications ${action}`,
      request: { params: NotificationId },
      responses: { 200: jsonResponse(NotificationView, "The notification.") },
      errors: ["notFound"],
    }),
    async (c) =>
      c.json(toNotificationView(await notificationsService.markRead(c.var.db, c.var.principal, c.req.valid("param").id, read)), 200),
  );
}

notificationRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["notifications"],
    summary: "Delete one of your notifications",
    request: { params: NotificationId },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await notificationsService.deleteNotification(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
