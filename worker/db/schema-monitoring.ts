import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { hosts, organizations, users } from "./schema-core.ts";

// Notifications, channels, tasks, metrics and alerts (issue 5). Same conventions as schema-core.ts:
// ISO 8601 text timestamps, prefixed text ids, every row carries its organization.

// ---- tasks ---------------------------------------------------------------------------------------

export const TASK_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Every long operation (deployment, image pull, bulk action, backup), followed by its id. */
export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** What runs: `deployment`, `image.pull`, `container.bulk`, … */
    kind: text("kind").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    /** 0–100. */
    progress: integer("progress").notNull().default(0),
    message: text("message"),
    /** What it produced, as JSON: a pulled image's id, a bulk action's outcome per container. */
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [
    index("tasks_org_created_idx").on(t.organizationId, t.createdAt),
    index("tasks_target_idx").on(t.organizationId, t.targetType, t.targetId),
  ],
);

// ---- notifications ---------------------------------------------------------------------------------

export const NOTIFICATION_KINDS = [
  "deployment.succeeded",
  "deployment.failed",
  "deployment.cancelled",
  "deployment.timed_out",
  "host.disconnected",
  "host.lost",
  "host.online",
  "container.died",
  "container.restart_loop",
  "alert.opened",
  "alert.cleared",
  "credential.expiring",
  "backup.succeeded",
  "backup.failed",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const SEVERITIES = ["info", "success", "warning", "error"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * One row per notification and recipient: the notification id is shared by its recipients, and
 * read state and deletion are each user's own. A user who joins later does not inherit old rows.
 */
export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    severity: text("severity", { enum: SEVERITIES }).notNull(),
    title: text("title").notNull(),
    message: text("message").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>(),
    readAt: text("read_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.userId] }),
    index("notifications_inbox_idx").on(t.userId, t.organizationId, t.createdAt, t.id),
    index("notifications_created_idx").on(t.createdAt),
  ],
);

/** Per-organization switches: kinds listed here create no notification at all. */
export const notificationSettings = sqliteTable("notification_settings", {
  organizationId: text("organization_id")
    .primaryKey()
    .references(() => organizations.id, { onDelete: "cascade" }),
  disabledKinds: text("disabled_kinds", { mode: "json" }).$type<string[]>().notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const CHANNEL_TYPES = ["slack", "discord", "telegram", "email", "webhook"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const notificationChannels = sqliteTable(
  "notification_channels",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    type: text("type", { enum: CHANNEL_TYPES }).notNull(),
    name: text("name").notNull(),
    /** The whole config JSON, AES-GCM sealed with ENCRYPTION_KEY: URLs and tokens are secrets. */
    configSealed: text("config_sealed").notNull(),
    /** Kinds this channel delivers; null means every kind. */
    events: text("events", { mode: "json" }).$type<string[]>(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("notification_channels_org_idx").on(t.organizationId, t.createdAt)],
);

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A notification's content as it leaves Pier: to a channel (DeliveryPayload) or live to a page (LiveNotification). */
export interface NotificationContent {
  kind: string;
  severity: Severity;
  title: string;
  message: string;
  target_type: string | null;
  target_id: string | null;
  data: Record<string, unknown> | null;
  created_at: string;
}

/** What a channel delivers: a snapshot of the notification, independent of anyone's inbox. */
export interface DeliveryPayload extends NotificationContent {
  notification_id: string | null;
  organization_id: string;
  test?: boolean;
}

/** The delivery log: one row per notification and channel, updated by each attempt. */
export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    channelId: text("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    notificationId: text("notification_id"),
    kind: text("kind").notNull(),
    payload: text("payload", { mode: "json" }).$type<DeliveryPayload>().notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    nextAttemptAt: text("next_attempt_at"),
    deliveredAt: text("delivered_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("notification_deliveries_due_idx").on(t.channelId, t.status, t.nextAttemptAt),
    index("notification_deliveries_channel_created_idx").on(t.channelId, t.createdAt, t.id),
    index("notification_deliveries_created_idx").on(t.createdAt),
  ],
);

// ---- metrics -------------------------------------------------------------------------------------

/** `resolution` of a metrics row: raw samples as they arrived, or a 5-minute rollup. */
export const RAW = 0;
export const ROLLUP_SECONDS = 300;

/**
 * Host load over time. Raw rows (resolution 0) are kept for a day; 5-minute rollups (averages
 * weighted by `samples`, plus maxima of CPU and memory) for a month. Rollups are upserted as raw
 * samples arrive, so the cron trigger only prunes.
 */
export const hostMetrics = sqliteTable(
  "host_metrics",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    resolution: integer("resolution").notNull(),
    /** The sample's time (raw), or the start of its bucket (rollup). */
    at: text("at").notNull(),
    samples: integer("samples").notNull().default(1),
    /** `agent` (sampled by the relay agent) or `push` (POST /api/servers/{server}/metrics). */
    source: text("source", { enum: ["agent", "push"] }).notNull(),
    cpuPercent: real("cpu_percent"),
    cpuMax: real("cpu_max"),
    memoryPercent: real("memory_percent"),
    memoryMax: real("memory_max"),
    memoryUsed: real("memory_used"),
    memoryTotal: real("memory_total"),
    diskPercent: real("disk_percent"),
    diskUsed: real("disk_used"),
    diskTotal: real("disk_total"),
    /** Bytes per second from the agent; whatever the pusher sent for pushes. */
    networkIn: real("network_in"),
    networkOut: real("network_out"),
    load1: real("load_1"),
    load5: real("load_5"),
    load15: real("load_15"),
    containersRunning: real("containers_running"),
    activeConnections: real("active_connections"),
  },
  (t) => [
    uniqueIndex("host_metrics_series_unique").on(t.hostId, t.resolution, t.at),
    index("host_metrics_prune_idx").on(t.resolution, t.at),
  ],
);

/** Per-container CPU and memory over time, from the agent's stats cache; same retention. */
export const containerMetrics = sqliteTable(
  "container_metrics",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    containerId: text("container_id").notNull(),
    containerName: text("container_name").notNull(),
    resolution: integer("resolution").notNull(),
    at: text("at").notNull(),
    samples: integer("samples").notNull().default(1),
    cpuPercent: real("cpu_percent").notNull(),
    cpuMax: real("cpu_max").notNull(),
    memoryUsage: real("memory_usage").notNull(),
    memoryLimit: real("memory_limit").notNull(),
    memoryPercent: real("memory_percent").notNull(),
    memoryMax: real("memory_max").notNull(),
  },
  (t) => [
    uniqueIndex("container_metrics_series_unique").on(t.hostId, t.containerId, t.resolution, t.at),
    index("container_metrics_prune_idx").on(t.resolution, t.at),
  ],
);

// ---- alerts --------------------------------------------------------------------------------------

export const ALERT_METRICS = ["cpu", "memory", "disk"] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

/**
 * Thresholds. `scope` is a host id, or `*` for every host of the organization; a host's own rule
 * beats the organization's, which beats the built-in default (see services/alerts.ts).
 */
export const alertRules = sqliteTable(
  "alert_rules",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    metric: text("metric", { enum: ALERT_METRICS }).notNull(),
    /** Percent (0–100) the value must stay above… */
    threshold: real("threshold").notNull(),
    /** …for this long before the alert opens. */
    durationSeconds: integer("duration_seconds").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("alert_rules_scope_metric_unique").on(t.organizationId, t.scope, t.metric)],
);

export const ALERT_STATES = ["pending", "firing", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * An alert's life: `pending` while the value is above the threshold for less than the duration
 * (deleted if it recovers in time), `firing` once it has stayed there (notified once), `resolved`
 * when the value recovers or a user clears it.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    hostId: text("host_id")
      .notNull()
      .references(() => hosts.id, { onDelete: "cascade" }),
    metric: text("metric", { enum: ALERT_METRICS }).notNull(),
    threshold: real("threshold").notNull(),
    durationSeconds: integer("duration_seconds").notNull(),
    state: text("state", { enum: ALERT_STATES }).notNull(),
    value: real("value").notNull(),
    peakValue: real("peak_value").notNull(),
    /** When the value first crossed the threshold. */
    since: text("since").notNull(),
    firedAt: text("fired_at"),
    acknowledgedAt: text("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
    resolvedAt: text("resolved_at"),
    /** Null when the value recovered; the user's id when someone cleared it. */
    resolvedBy: text("resolved_by"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("alerts_org_created_idx").on(t.organizationId, t.createdAt, t.id),
    // At most one live alert per host and metric, whoever evaluates concurrently.
    uniqueIndex("alerts_host_metric_live_unique").on(t.hostId, t.metric).where(sql`${t.state} in ('pending', 'firing')`),
  ],
);

// ---- monitoring settings (issue 13) ----------------------------------------------------------------

/**
 * An organization's monitoring settings beyond alert rules and notification switches (which have
 * their own tables): how often its agents sample, pushed to them, and a Grafana to link to.
 */
export const monitoringSettings = sqliteTable("monitoring_settings", {
  organizationId: text("organization_id")
    .primaryKey()
    .references(() => organizations.id, { onDelete: "cascade" }),
  /** Null: the agent's own default (PIER_METRICS_INTERVAL_MS, 15 s). */
  sampleIntervalSeconds: integer("sample_interval_seconds"),
  grafanaUrl: text("grafana_url"),
  updatedAt: text("updated_at").notNull(),
});
