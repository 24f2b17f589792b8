import { z } from "@hono/zod-openapi";
import { CHANNEL_TYPES, DELIVERY_STATUSES } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as channels from "../services/channels/index.ts";
import { NotificationKind } from "./notifications.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const channelRoutes = createRouter();
channelRoutes.use("*", requireAuth());

const ChannelType = z.enum(CHANNEL_TYPES);
const Events = z
  .array(NotificationKind)
  .max(NotificationKind.options.length)
  .nullable()
  .openapi({ description: "Kinds this channel delivers; omitted or null for every kind." });
const Name = z.string().trim().min(1).max(100);

const ChannelView = z
  .object({
    id: z.string(),
    type: ChannelType,
    name: z.string(),
    config: z
      .record(z.string(), z.unknown())
      .openapi({ description: "URLs, tokens and secrets masked (`https://hooks.slack.com/…a1b2`)." }),
    events: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("NotificationChannel");

const toChannelView = ({ row, config }: channels.ChannelView): z.infer<typeof ChannelView> => ({
  id: row.id,
  type: row.type,
  name: row.name,
  config,
  events: row.events,
  enabled: row.enabled,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const DeliveryView = z
  .object({
    id: z.string(),
    channel_id: z.string(),
    notification_id: z.string().nullable(),
    kind: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("NotificationDelivery");

const toDeliveryView = (d: channels.DeliveryRow): z.infer<typeof DeliveryView> => ({
  id: d.id,
  channel_id: d.channelId,
  notification_id: d.notificationId,
  kind: d.kind,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  next_attempt_at: d.nextAttemptAt,
  delivered_at: d.deliveredAt,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

// One body per type, so /openapi.json documents each config; the service validates it again.
const NewChannel = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("slack"),
      name: Name,
      config: channels.CHANNEL_CONFIGS.slack,
      events: Events.optional(),
      enabled: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("discord"),
      name: Name,
      config: channels.CHANNEL_CONFIGS.discord,
      events: Events.optional(),
      enabled: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("telegram"),
      name: Name,
      config: channels.CHANNEL_CONFIGS.telegram,
      events: Events.optional(),
      enabled: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("email"),
      name: Name,
      config: channels.CHANNEL_CONFIGS.email,
      events: Events.optional(),
      enabled: z.boolean().optional(),
    }),
    z.object({
      type: z.literal("webhook"),
      name: Name,
      config: channels.CHANNEL_CONFIGS.webhook,
      events: Events.optional(),
      enabled: z.boolean().optional(),
    }),
  ])
  .openapi("NewNotificationChannel");

const ChannelPatch = z
  .object({
    name: Name.optional(),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Fields to change; fields left out, or sent back masked as read, keep their values." }),
    events: Events.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("NotificationChannelUpdate");

const ChannelId = IdParam("id", "chn_0123456789abcdefghij");

channelRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["notification-channels"],
    summary: "Add a Slack, Discord, Telegram, email or webhook channel (owner/admin)",
    request: { body: jsonBody(NewChannel) },
    responses: { 201: jsonResponse(ChannelView, "The channel, secrets masked.") },
    errors: ["validation"],
  }),
  async (c) => {
    return c.json(toChannelView(await channels.createChannel(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201);
  },
);

channelRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["notification-channels"],
    summary: "Your organization's notification channels, secrets masked",
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ channels: z.array(ChannelView) }), "A page of channels, newest first."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const page = await channels.listChannels(c.var.db, c.var.principal.organizationId, c.req.valid("query"));
    const views = await Promise.all(page.items.map((row) => channels.maskedView(c.env, row)));
    return c.json({ channels: views.map(toChannelView), next_cursor: page.nextCursor }, 200);
  },
);

channelRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["notification-channels"],
    summary: "One channel, secrets masked",
    request: { params: ChannelId },
    responses: { 200: jsonResponse(ChannelView, "The channel.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const row = await channels.getChannel(c.var.db, c.var.principal.organizationId, c.req.valid("param").id);
    return c.json(toChannelView(await channels.maskedView(c.env, row)), 200);
  },
);

channelRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["notification-channels"],
    summary: "Rename, reconfigure, filter or switch off a channel (owner/admin)",
    request: { params: ChannelId, body: jsonBody(ChannelPatch) },
    responses: { 200: jsonResponse(ChannelView, "The channel.") },
    errors: ["validation", "notFound"],
  }),
  async (c) =>
    c.json(toChannelView(await channels.updateChannel(c.var.db, c.env, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 200),
);

channelRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["notification-channels"],
    summary: "Delete a channel and its delivery log (owner/admin)",
    request: { params: ChannelId },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await channels.deleteChannel(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);

channelRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/test",
    tags: ["notification-channels"],
    summary: "Send a test message through the channel; follow it in the delivery log (owner/admin)",
    request: { params: ChannelId },
    responses: { 202: jsonResponse(DeliveryView, "The queued delivery.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toDeliveryView(await channels.sendTest(c.var.db, c.env, authedActor(c), c.req.valid("param").id)), 202),
);

channelRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/deliveries",
    tags: ["notification-channels"],
    summary: "The channel's delivery log: status, attempts and last error of each delivery",
    request: { params: ChannelId, query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ deliveries: z.array(DeliveryView) }), "A page of deliveries, newest first."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const page = await channels.listDeliveries(c.var.db, c.var.principal.organizationId, c.req.valid("param").id, c.req.valid("query"));
    return c.json({ deliveries: page.items.map(toDeliveryView), next_cursor: page.nextCursor }, 200);
  },
);
