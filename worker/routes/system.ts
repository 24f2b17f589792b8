import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as monitoring from "../services/monitoring.ts";
import * as monitoringSettings from "../services/monitoring-settings.ts";
import { enqueueProbe } from "../services/probe-tasks.ts";
import * as system from "../services/system.ts";
import { authedRoute, createRouter, jsonBody, jsonResponse } from "./openapi.ts";
import { assertPermission } from "../services/permissions.ts";

// The control plane's own state (services/system.ts), monitoring settings and status
// (services/monitoring*.ts) and the Prometheus exposition of hosts' and servers' latest metrics.

// ---- /api/v1/system -------------------------------------------------------------------------------

const SystemStatusView = z
  .object({
    status: z
      .enum(["healthy", "degraded"])
      .openapi({ description: "degraded: the database is unreachable, an agent is offline or the vault cannot seal." }),
    version: z.string(),
    uptime_seconds: z
      .number()
      .int()
      .openapi({ description: "Of the isolate that answered: a serverless control plane has no long-running process." }),
    database: z.object({ status: z.enum(["ok", "unreachable"]), round_trip_ms: z.number().nullable(), error: z.string().nullable() }),
    agents: z.object({ total: z.number().int(), online: z.number().int(), offline: z.number().int() }),
    resources: z
      .object({
        cpu_usage: z.number().nullable(),
        memory_usage: z.number().nullable(),
        disk_usage: z.number().nullable(),
        hosts_sampled: z.number().int(),
      })
      .openapi({ description: "Averages over the online hosts' newest samples, percent." }),
    metrics: z.enum(["flowing", "idle"]),
    vault: z.enum(["running", "sealed"]),
    grafana_url: z.string().nullable(),
  })
  .openapi("SystemStatus");

export const toSystemStatusView = (s: system.SystemStatus): z.infer<typeof SystemStatusView> => ({
  status: s.healthy && s.database.ok ? "healthy" : "degraded",
  version: s.version,
  uptime_seconds: Math.floor((Date.now() - Date.parse(s.isolateStartedAt)) / 1000),
  database: { status: s.database.ok ? "ok" : "unreachable", round_trip_ms: s.database.roundTripMs, error: s.database.error },
  agents: s.agents,
  resources: {
    cpu_usage: s.resources.cpuPercent,
    memory_usage: s.resources.memoryPercent,
    disk_usage: s.resources.diskPercent,
    hosts_sampled: s.resources.hostsSampled,
  },
  metrics: s.metricsFlowing ? "flowing" : "idle",
  vault: s.vault.sealed ? "running" : "sealed",
  grafana_url: s.grafanaUrl,
});

const LogEntryView = z
  .object({
    id: z.string(),
    timestamp: z.string(),
    level: z.enum(system.LOG_LEVELS),
    source: z.enum(["audit", "task", "notification_delivery"]),
    message: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("SystemLogEntry");

export const LogQuery = z.object({
  level: z.enum(system.LOG_LEVELS).optional().openapi({ description: "The least severe level shown (warning: warnings and errors)." }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const systemRoutes = createRouter();
systemRoutes.use("*", requireAuth());

systemRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/status",
    tags: ["system"],
    summary: "The control plane's state: database round trip, agents online, resource averages",
    responses: { 200: jsonResponse(SystemStatusView, "The state.") },
  }),
  async (c) => c.json(toSystemStatusView(await system.systemStatus(c.var.db, c.env, c.var.principal.organizationId)), 200),
);

systemRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/logs",
    tags: ["system"],
    summary: "Audit events, failed tasks and failed notification deliveries, newest first (admin_access)",
    request: { query: LogQuery },
    responses: {
      200: jsonResponse(
        z.object({ logs: z.array(LogEntryView), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }),
        "A page of the log.",
      ),
    },
    errors: ["validation"],
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { entries, total } = await system.systemLogs(c.var.db, c.var.principal, q);
    return c.json({ logs: entries.map(system.logEntryView), total, limit: q.limit, offset: q.offset }, 200);
  },
);

systemRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/config",
    tags: ["system"],
    summary: "The settings in effect, secrets excepted (admin_access)",
    responses: { 200: jsonResponse(z.record(z.string(), z.unknown()).openapi("SystemConfig"), "The settings.") },
  }),
  async (c) => {
    assertPermission(c.var.principal, "admin_access");
    return c.json(await system.systemConfig(c.var.db, c.env, c.var.principal.organizationId), 200);
  },
);

const ProbeBody = z
  .object({
    outcome: z.enum(["succeed", "fail"]).openapi({ description: "Whether the task succeeds or fails on purpose." }),
    x: z.number().finite().optional(),
    y: z.number().finite().optional(),
    message: z.string().max(500).optional(),
  })
  .strict();

systemRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/test-tasks",
    tags: ["system"],
    summary: "Run a test task through the task runner: it succeeds, or fails on purpose (member+)",
    request: { body: jsonBody(ProbeBody) },
    responses: { 202: jsonResponse(z.object({ task_id: z.string(), status: z.string(), kind: z.string() }), "The task, queued.") },
    errors: ["validation"],
  }),
  async (c) => {
    const { outcome, ...args } = c.req.valid("json");
    const task = await enqueueProbe(c.var.db, c.env, authedActor(c), outcome === "succeed" ? "probe.succeed" : "probe.fail", args);
    return c.json({ task_id: task.id, status: task.status, kind: task.kind }, 202);
  },
);

// ---- /api/v1/monitoring ----------------------------------------------------------------------------

const MonitoringStatusView = z
  .object({
    agents: z.object({ total: z.number().int(), online: z.number().int(), offline: z.number().int() }),
    hosts_reporting: z.number().int().openapi({ description: "Hosts whose newest sample is recent." }),
    last_sample_at: z.string().nullable(),
    sample_interval_seconds: z.number().int(),
    grafana_url: z.string().nullable(),
  })
  .openapi("MonitoringStatus");

export const SettingsView = z
  .object({
    sample_interval_seconds: z.number().int().nullable().openapi({ description: "Null: each agent's own setting (15 s by default)." }),
    effective_sample_interval_seconds: z.number().int(),
    grafana_url: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi("MonitoringSettings");

export const toSettingsView = (s: monitoringSettings.MonitoringSettings): z.infer<typeof SettingsView> => ({
  sample_interval_seconds: s.sampleIntervalSeconds,
  effective_sample_interval_seconds: s.sampleIntervalSeconds ?? monitoringSettings.DEFAULT_SAMPLE_INTERVAL_SECONDS,
  grafana_url: s.grafanaUrl,
  updated_at: s.updatedAt,
});

export const SampleInterval = z.number().int().min(1).max(3600);
export const GrafanaUrl = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL");

const PushView = z.object({
  host_id: z.string(),
  host: z.string(),
  applied: z.boolean(),
  interval_ms: z.number().int().nullable(),
  error: z.string().nullable(),
});

export const toPushView = (p: monitoringSettings.AgentPush): z.infer<typeof PushView> => ({
  host_id: p.hostId,
  host: p.hostName,
  applied: p.applied,
  interval_ms: p.intervalMs,
  error: p.error,
});

export const monitoringRoutes = createRouter();
monitoringRoutes.use("*", requireAuth());

monitoringRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/status",
    tags: ["monitoring"],
    summary: "Agents online and offline, hosts whose samples arrive, the sampling interval",
    responses: { 200: jsonResponse(MonitoringStatusView, "The state.") },
  }),
  async (c) => {
    const s = await monitoring.monitoringStatus(c.var.db, c.var.principal.organizationId);
    return c.json(
      {
        agents: { total: s.exporters.total, online: s.exporters.active, offline: s.exporters.inactive },
        hosts_reporting: s.reporting,
        last_sample_at: s.lastSampleAt,
        sample_interval_seconds: s.sampleIntervalSeconds,
        grafana_url: s.grafanaUrl,
      },
      200,
    );
  },
);

monitoringRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/settings",
    tags: ["monitoring"],
    summary: "The monitoring settings: sampling interval, Grafana URL",
    responses: { 200: jsonResponse(SettingsView, "The settings.") },
  }),
  async (c) => c.json(toSettingsView(await monitoringSettings.getMonitoringSettings(c.var.db, c.var.principal.organizationId)), 200),
);

monitoringRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/settings",
    tags: ["monitoring"],
    summary: "Change the monitoring settings (admin_access); a new sampling interval is pushed to every online agent",
    request: {
      body: jsonBody(
        z.object({ sample_interval_seconds: SampleInterval.nullable().optional(), grafana_url: GrafanaUrl.nullable().optional() }).strict(),
      ),
    },
    responses: { 200: jsonResponse(SettingsView.extend({ agents: z.array(PushView) }), "The settings, and what each online agent said.") },
    errors: ["validation"],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { settings, pushed } = await monitoringSettings.updateMonitoringSettings(c.var.db, c.env, authedActor(c), {
      sampleIntervalSeconds: body.sample_interval_seconds,
      grafanaUrl: body.grafana_url,
    });
    return c.json({ ...toSettingsView(settings), agents: pushed.map(toPushView) }, 200);
  },
);

// ---- /api/v1/metrics/prometheus ----------------------------------------------------------------------

export const prometheusRoutes = createRouter();
prometheusRoutes.use("*", requireAuth());

prometheusRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/prometheus",
    tags: ["monitoring"],
    summary: "Hosts' and servers' latest metrics in Prometheus' text format (scrape with an API key as bearer token)",
    responses: {
      200: { description: "Text exposition format 0.0.4.", content: { "text/plain": { schema: z.string() } } },
    },
  }),
  async (c) => {
    const text = await monitoring.prometheusExposition(c.var.db, c.var.principal.organizationId);
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  },
);
