import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { NOTIFICATION_KINDS, SEVERITIES } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as notificationsService from "../services/notifications.ts";
import {
  authErrors,
  bearerSecurity,
  createRouter,
  IdParam,
  jsonBody,
  jsonResponse,
  notFoundError,
  PageMeta,
  validationErrors,
} from "./openapi.ts";

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
  createRoute({
    method: "get",
    path: "/",
    tags: ["notifications"],
    summary: "Your notifications in this organization, newest first",
    security: bearerSecurity,
    request: { query: ListQuery },
    responses: {
      200: jsonResponse(
        PageMeta.extend({ notifications: z.array(NotificationView), unread_count: z.number().int() }),
        "A page of notifications.",
      ),
      ...authErrors,
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
  createRoute({
    method: "get",
    path: "/unread-count",
    tags: ["notifications"],
    summary: "How many of your notifications are unread",
    security: bearerSecurity,
    responses: { 200: jsonResponse(z.object({ unread_count: z.number().int() }), "The count."), ...authErrors },
  }),
  async (c) => c.json({ unread_count: await notificationsService.unreadCount(c.var.db, c.var.principal) }, 200),
);

notificationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/stream",
    tags: ["notifications"],
    summary: "Your notifications as they happen (SSE); reconnect with Last-Event-ID to get what you missed",
    security: bearerSecurity,
    request: {
      query: z.object({ access_token: z.string().optional(), last_event_id: z.string().max(100).optional() }),
      headers: z.object({ "last-event-id": z.string().max(100).optional() }),
    },
    responses: {
      200: {
        description: 'SSE: `id: <cursor>` and `data: {"type": "notification", "title": …, "message": …}` per notification.',
        content: { "text/event-stream": { schema: z.string() } },
      },
      ...authErrors,
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
  createRoute({
    method: "get",
    path: "/settings",
    tags: ["notifications"],
    summary: "Which kinds of notification your organization receives",
    security: bearerSecurity,
    responses: { 200: jsonResponse(Settings, "Every kind, on or off."), ...authErrors },
  }),
  async (c) => c.json(toSettingsView(await notificationsService.getSettings(c.var.db, c.var.principal.organizationId)), 200),
);

notificationRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/settings",
    tags: ["notifications"],
    summary: "Switch kinds of notification on or off for the whole organization (owner/admin)",
    security: bearerSecurity,
    request: {
      body: jsonBody(
        z
          .object({ kinds: z.partialRecord(NotificationKind, z.boolean()).openapi({ example: { "host.online": false } }) })
          .strict()
          .openapi("NotificationSettingsUpdate"),
      ),
    },
    responses: { 200: jsonResponse(Settings, "The settings after the change."), ...validationErrors, ...authErrors },
  }),
  async (c) => c.json(toSettingsView(await notificationsService.updateSettings(c.var.db, authedActor(c), c.req.valid("json").kinds)), 200),
);

notificationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/read-all",
    tags: ["notifications"],
    summary: "Mark all your notifications read",
    security: bearerSecurity,
    responses: { 200: jsonResponse(z.object({ updated: z.number().int() }), "How many changed."), ...authErrors },
  }),
  async (c) => c.json({ updated: await notificationsService.markAllRead(c.var.db, c.var.principal) }, 200),
);

notificationRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/",
    tags: ["notifications"],
    summary: "Clear all your notifications (other users keep theirs)",
    security: bearerSecurity,
    responses: { 200: jsonResponse(z.object({ deleted: z.number().int() }), "How many were deleted."), ...authErrors },
  }),
  async (c) => c.json({ deleted: await notificationsService.clearAll(c.var.db, authedActor(c)) }, 200),
);

notificationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["notifications"],
    summary: "One of your notifications",
    security: bearerSecurity,
    request: { params: NotificationId },
    responses: { 200: jsonResponse(NotificationView, "The notification."), ...authErrors, ...notFoundError },
  }),
  async (c) =>
    c.json(toNotificationView(await notificationsService.getNotification(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

for (const [action, read] of [
  ["read", true],
  ["unread", false],
] as const) {
  notificationRoutes.openapi(
    createRoute({
      method: "post",
      path: `/{id}/${action}`,
      tags: ["notifications"],
      summary: `Mark one of your notifications ${action}`,
      security: bearerSecurity,
      request: { params: NotificationId },
      responses: { 200: jsonResponse(NotificationView, "The notification."), ...authErrors, ...notFoundError },
    }),
    async (c) =>
      c.json(toNotificationView(await notificationsService.markRead(c.var.db, c.var.principal, c.req.valid("param").id, read)), 200),
  );
}

notificationRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["notifications"],
    summary: "Delete one of your notifications",
    security: bearerSecurity,
    request: { params: NotificationId },
    responses: { 204: { description: "Deleted." }, ...authErrors, ...notFoundError },
  }),
  async (c) => {
    await notificationsService.deleteNotification(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
