// The server manager's monitoring, system, vault and test endpoints (seed 002 and its version 2,
// seed 004), as thin adapters over the monitoring, system, vault and task services. 002's paths
// answer in its bare bodies (errors `{error: {code, message, details}}`), 004's in
// `{success, data, message}`; compat/envelopes.ts says which path is whose.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { ALERT_METRICS, NOTIFICATION_KINDS } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { ApiError, fieldErrors, notFound } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { getHost } from "../services/hosts.ts";
import { recentRawRows } from "../services/metrics.ts";
import * as monitoring from "../services/monitoring.ts";
import * as monitoringSettings from "../services/monitoring-settings.ts";
import { isNotificationKind, updateSettings } from "../services/notifications.ts";
import * as channels from "../services/channels/index.ts";
import { enqueueProbe, type ProbeKind } from "../services/probe-tasks.ts";
import { getServer, serverScope } from "../services/servers.ts";
import * as system from "../services/system.ts";
import * as vault from "../services/vault.ts";
import { publicBaseUrl } from "../settings.ts";
import { healthSummary } from "../services/host-health.ts";
import { readJson } from "./validate.ts";
import { assertPermission } from "../services/permissions.ts";

export const serverManagerOpsCompat = new Hono<AppEnv>();
serverManagerOpsCompat.use("/api/monitoring/*", requireAuth());
serverManagerOpsCompat.use("/api/system/*", requireAuth());
serverManagerOpsCompat.use("/api/vault/*", requireAuth());
serverManagerOpsCompat.use("/api/grafana-dashboard", requireAuth());
serverManagerOpsCompat.use("/api/grafana-dashboard/*", requireAuth());
serverManagerOpsCompat.use("/api/test/*", requireAuth());

const ok = <T>(data: T, message: string) => ({ success: true, data, message });

function query<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, "query");
    throw new ApiError(422, errors.map((e) => `${e.pointer.replace(/^\/query\//, "")}: ${e.detail}`).join("; "), { errors });
  }
  return parsed.data;
}

const PROMETHEUS_PATH = "/api/v1/metrics/prometheus";
const round1 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 10) / 10);

// ---- seed 002: monitoring ---------------------------------------------------------------------------

/**
 * The agents are the node exporters; the metrics pipeline (agents → Worker → libSQL, with the
 * Prometheus exposition at /api/v1/metrics/prometheus) is "prometheus"; Grafana is whatever URL the
 * organization configured, else `not_configured`.
 */
serverManagerOpsCompat.get("/api/monitoring/status", async (c) => {
  const s = await monitoring.monitoringStatus(c.var.db, c.var.principal.organizationId);
  return c.json({
    prometheus: {
      status: "running",
      url: `${publicBaseUrl(c.env, c.req.url)}${PROMETHEUS_PATH}`,
      targets: s.exporters.total,
      healthy_targets: s.reporting,
      sample_interval_seconds: s.sampleIntervalSeconds,
      last_sample_at: s.lastSampleAt,
    },
    grafana: s.grafanaUrl
      ? { status: "running", url: s.grafanaUrl, dashboards: 1 }
      : { status: "not_configured", url: null, dashboards: 0 },
    node_exporters: s.exporters,
  });
});

/** A server's container numbers (by alias, id, name or address), else a host's (by id). */
serverManagerOpsCompat.get("/api/monitoring/metrics/:serverId", async (c) => {
  const ref = c.req.param("serverId");
  const org = c.var.principal.organizationId;
  const server = await getServer(c.var.db, org, ref, await serverScope(c.var.db, c.var.principal)).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  if (server) {
    const latest = await monitoring.serverLatest(c.var.db, server);
    return c.json({
      server_id: server.alias,
      server_name: server.name,
      metrics: {
        cpu_usage: round1(latest?.cpuPercent),
        memory_usage: round1(latest?.memoryPercent),
        // Per-container disk and network are not sampled by the agents: null, never a guess.
        disk_usage: null,
        network_in: null,
        network_out: null,
        memory_used_bytes: latest?.memoryUsage ?? null,
        memory_limit_bytes: latest?.memoryLimit ?? null,
        timestamp: latest?.at ?? null,
      },
      source: "container",
    });
  }
  // A host's own figures span every project: not a project-scoped member's (as on /api/v1/hosts/{id}/metrics).
  if (c.var.principal.projectScope) throw notFound(`Server ${ref}`);
  const host = await getHost(c.var.db, org, ref).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) throw notFound(`Server ${ref}`);
    throw e;
  });
  const [row] = await recentRawRows(c.var.db, host.id, 1);
  return c.json({
    server_id: host.id,
    server_name: host.name,
    metrics: {
      cpu_usage: round1(row?.cpuPercent),
      memory_usage: round1(row?.memoryPercent),
      disk_usage: round1(row?.diskPercent),
      network_in: row?.networkIn === null || row?.networkIn === undefined ? null : Math.round(row.networkIn),
      network_out: row?.networkOut === null || row?.networkOut === undefined ? null : Math.round(row.networkOut),
      timestamp: row?.at ?? null,
    },
    source: "host",
  });
});

/**
 * There is no Prometheus configuration file to rewrite: the nearest thing is sending the
 * organization's sampling interval to every agent again and handing back the scrape job a user's
 * own Prometheus needs for the exposition endpoint.
 */
serverManagerOpsCompat.post("/api/monitoring/prometheus/update", async (c) => {
  const org = c.var.principal.organizationId;
  const current = await monitoringSettings.getMonitoringSettings(c.var.db, org);
  const { pushed } = await monitoringSettings.updateMonitoringSettings(c.var.db, c.env, authedActor(c), {
    sampleIntervalSeconds: current.sampleIntervalSeconds,
  });
  const base = new URL(publicBaseUrl(c.env, c.req.url));
  const interval = current.sampleIntervalSeconds ?? monitoringSettings.DEFAULT_SAMPLE_INTERVAL_SECONDS;
  return c.json({
    success: true,
    message: `Monitoring configuration sent to ${pushed.filter((p) => p.applied).length} of ${pushed.length} online agent(s).`,
    targets: pushed.length,
    agents: pushed.map((p) => ({ host_id: p.hostId, host: p.hostName, applied: p.applied, interval_ms: p.intervalMs, error: p.error })),
    scrape_config: [
      "scrape_configs:",
      "  - job_name: pier",
      `    scrape_interval: ${Math.max(interval, 15)}s`,
      `    scheme: ${base.protocol.replace(":", "")}`,
      `    metrics_path: ${PROMETHEUS_PATH}`,
      "    authorization:",
      "      credentials: <a Pier API key>",
      "    static_configs:",
      `      - targets: ["${base.host}"]`,
      "",
    ].join("\n"),
  });
});

// ---- seed 002: system ---------------------------------------------------------------------------------

serverManagerOpsCompat.get("/api/system/status", async (c) => {
  const s = await system.systemStatus(c.var.db, c.env, c.var.principal.organizationId);
  const healthy = s.healthy && s.database.ok;
  return c.json({
    system: {
      status: healthy ? "healthy" : "degraded",
      uptime: system.humanUptime(Date.now() - Date.parse(s.isolateStartedAt)),
      version: s.version,
      last_updated: new Date().toISOString(),
    },
    services: {
      flask: "running",
      control_plane: "running",
      database: s.database.ok ? "running" : "unreachable",
      prometheus: s.metricsFlowing ? "running" : "idle",
      grafana: s.grafanaUrl ? "running" : "not_configured",
      vault: s.vault.sealed ? "running" : "sealed",
    },
    resources: { cpu_usage: s.resources.cpuPercent, memory_usage: s.resources.memoryPercent, disk_usage: s.resources.diskPercent },
    database: { status: s.database.ok ? "ok" : "unreachable", round_trip_ms: s.database.roundTripMs },
    agents: s.agents,
  });
});

serverManagerOpsCompat.get("/api/system/logs", async (c) => {
  const q = query(
    c,
    z.object({
      level: z.enum(system.LOG_LEVELS).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    }),
  );
  const { entries, total } = await system.systemLogs(c.var.db, c.var.principal, q);
  return c.json({
    logs: entries.map(system.logEntryView),
    total,
    limit: q.limit,
    offset: q.offset,
  });
});

serverManagerOpsCompat.get("/api/system/config", async (c) => {
  assertPermission(c.var.principal, "admin_access");
  return c.json(await system.systemConfig(c.var.db, c.env, c.var.principal.organizationId));
});

// ---- seed 002: vault ------------------------------------------------------------------------------------

serverManagerOpsCompat.get("/api/vault/status", async (c) => {
  const s = await vault.vaultStatus(c.var.db, c.env, c.var.principal.organizationId);
  return c.json({
    status: s.sealed ? "running" : "sealed",
    initialized: true,
    sealed: !s.sealed,
    backend: "pier",
    encryption: "AES-256-GCM",
    secrets: s.secrets,
    versions: s.versions,
    last_write_at: s.lastWriteAt,
  });
});

const SECRET_PATH = "/api/vault/secrets/:path{.+}";

serverManagerOpsCompat.get(SECRET_PATH, async (c) => {
  const q = query(c, z.object({ version: z.coerce.number().int().min(1).optional() }));
  const read = await vault.readSecret(c.var.db, c.env, authedActor(c), c.req.param("path"), q.version);
  return c.json({
    path: read.row.key,
    // HashiCorp's KV answers `data` as an object: a plain value reads as `{value}`.
    data: typeof read.value === "string" ? { value: read.value } : read.value,
    version: read.version,
    current_version: read.row.currentVersion,
    updated_at: read.row.updatedAt,
  });
});

const StoredFields = z
  .record(z.string().min(1).max(200), z.union([z.string(), z.number(), z.boolean()]))
  .refine((r) => Object.keys(r).length > 0, 'send at least one field, as {"name": "value"}');

serverManagerOpsCompat.post(SECRET_PATH, async (c) => {
  const body = await readJson(c, StoredFields);
  // 002 posts the secret's fields themselves (`{"private_key": …, "public_key": …}`), not wrapped in
  // `data`; a body of only `value` stores a plain value.
  const data =
    Object.keys(body).length === 1 && typeof body.value === "string"
      ? body.value
      : Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
  const meta = await vault.putSecret(c.var.db, c.env, authedActor(c), c.req.param("path"), data);
  return c.json(
    {
      success: true,
      message: `Secret stored at ${meta.row.key} (version ${meta.row.currentVersion}).`,
      path: meta.row.key,
      version: meta.row.currentVersion,
      fields: meta.fields,
    },
    201,
  );
});

// ---- seed 004: monitoring configuration, summary and pages ---------------------------------------------

const configView = async (c: Context<AppEnv>) => {
  const { thresholds, notifications, settings } = await monitoringSettings.monitoringConfig(c.var.db, c.var.principal.organizationId);
  return {
    alert_thresholds: Object.fromEntries(
      Object.entries(thresholds).map(([m, t]) => [
        m,
        { threshold: t.threshold, duration_seconds: t.durationSeconds, enabled: t.enabled, source: t.source },
      ]),
    ),
    notifications: Object.fromEntries(notifications.kinds.map((k) => [k.kind, k.enabled])),
    sample_interval_seconds: settings.sampleIntervalSeconds ?? monitoringSettings.DEFAULT_SAMPLE_INTERVAL_SECONDS,
    sample_interval_source: settings.sampleIntervalSeconds === null ? "agent default" : "organization",
    grafana_url: settings.grafanaUrl,
  };
};

serverManagerOpsCompat.get("/api/monitoring/config", async (c) => c.json(ok(await configView(c), "Monitoring configuration.")));

const Threshold = z.union([
  z.number().gt(0).lt(100),
  z
    .object({
      threshold: z.number().gt(0).lt(100).optional(),
      duration_seconds: z.number().int().min(0).max(86400).optional(),
      enabled: z.boolean().optional(),
    })
    .strict(),
]);

const ConfigBody = z
  .object({
    alert_thresholds: z.partialRecord(z.enum(ALERT_METRICS), Threshold).optional(),
    notifications: z.record(z.string(), z.boolean()).optional(),
    sample_interval_seconds: z.number().int().min(1).max(3600).nullable().optional(),
    grafana_url: z
      .string()
      .max(2048)
      .url()
      .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
      .nullable()
      .optional(),
  })
  .strict();

serverManagerOpsCompat.post("/api/monitoring/config", async (c) => {
  const body = await readJson(c, ConfigBody);
  const actor = authedActor(c);
  const unknownKinds = Object.keys(body.notifications ?? {}).filter((k) => !isNotificationKind(k));
  if (unknownKinds.length)
    throw new ApiError(422, `Unknown notification kind(s): ${unknownKinds.join(", ")}. Known: ${NOTIFICATION_KINDS.join(", ")}.`, {
      errors: unknownKinds.map((k) => ({ pointer: `/body/notifications/${k}`, detail: "not a notification kind" })),
    });
  assertPermission(actor.principal, "admin_access");
  for (const [metric, t] of Object.entries(body.alert_thresholds ?? {})) {
    const input =
      typeof t === "number" ? { threshold: t } : { threshold: t.threshold, durationSeconds: t.duration_seconds, enabled: t.enabled };
    await monitoringSettings.setOrganizationThreshold(c.var.db, actor, metric as (typeof ALERT_METRICS)[number], input);
  }
  if (body.notifications) await updateSettings(c.var.db, actor, body.notifications);
  let pushed: monitoringSettings.AgentPush[] = [];
  if (body.sample_interval_seconds !== undefined || body.grafana_url !== undefined)
    ({ pushed } = await monitoringSettings.updateMonitoringSettings(c.var.db, c.env, actor, {
      sampleIntervalSeconds: body.sample_interval_seconds,
      grafanaUrl: body.grafana_url,
    }));
  return c.json(
    ok(
      {
        ...(await configView(c)),
        agents: pushed.map((p) => ({ host_id: p.hostId, host: p.hostName, applied: p.applied, interval_ms: p.intervalMs, error: p.error })),
      },
      "Monitoring configuration updated.",
    ),
  );
});

const summaryOf = async (c: Context<AppEnv>) => {
  const org = c.var.principal.organizationId;
  const [status, health] = await Promise.all([monitoring.monitoringStatus(c.var.db, org), healthSummary(c.var.db, org)]);
  const firing = health.flatMap((h) => h.firing);
  const count = (k: string) => health.filter((h) => h.health === k).length;
  const avg = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? round1(v.reduce((a, b) => a + b, 0) / v.length) : null;
  };
  return {
    servers: {
      total: health.length,
      healthy: count("healthy"),
      warning: count("warning"),
      critical: count("critical"),
      offline: count("offline"),
    },
    node_exporters: status.exporters,
    alerts: {
      firing: firing.length,
      unacknowledged: firing.filter((a) => !a.acknowledgedAt).length,
      pending: health.reduce((n, h) => n + h.pending, 0),
    },
    averages: {
      cpu_usage: avg(health.map((h) => h.cpuPercent)),
      memory_usage: avg(health.map((h) => h.memoryPercent)),
      disk_usage: avg(health.map((h) => h.diskPercent)),
    },
    last_sample_at: status.lastSampleAt,
    sample_interval_seconds: status.sampleIntervalSeconds,
    grafana: status.grafanaUrl ? { status: "configured", url: status.grafanaUrl } : { status: "not_configured", url: null },
  };
};

serverManagerOpsCompat.get("/api/monitoring/summary", async (c) => c.json(ok(await summaryOf(c), "Monitoring summary.")));

// 004's `content` and `config-page` render pages in its own UI; Pier's dashboard is its UI, so these
// answer the data those pages show.
serverManagerOpsCompat.get("/api/monitoring/content", async (c) => {
  const health = await healthSummary(c.var.db, c.var.principal.organizationId);
  return c.json(
    ok(
      {
        summary: await summaryOf(c),
        servers: health.map((h) => ({
          id: h.host.id,
          name: h.host.name,
          status: h.state,
          health: h.health,
          cpu_usage: round1(h.cpuPercent),
          memory_usage: round1(h.memoryPercent),
          disk_usage: round1(h.diskPercent),
          last_metrics_at: h.sampledAt,
        })),
        dashboard_url: "/hosts",
      },
      "Monitoring content.",
    ),
  );
});

serverManagerOpsCompat.get("/api/monitoring/config-page", async (c) =>
  c.json(
    ok(
      {
        config: await configView(c),
        options: {
          metrics: ALERT_METRICS,
          threshold_percent: { min_exclusive: 0, max_exclusive: 100 },
          duration_seconds: { min: 0, max: 86400 },
          notification_kinds: NOTIFICATION_KINDS,
          sample_interval_seconds: { min: 1, max: 3600, default: monitoringSettings.DEFAULT_SAMPLE_INTERVAL_SECONDS },
        },
        save: { method: "POST", url: "/api/monitoring/config" },
      },
      "Monitoring configuration page.",
    ),
  ),
);

// ---- seed 004: Grafana ----------------------------------------------------------------------------------

const grafanaOf = async (c: Context<AppEnv>) =>
  (await monitoringSettings.getMonitoringSettings(c.var.db, c.var.principal.organizationId)).grafanaUrl;

const NOT_CONFIGURED = 'Grafana is not configured: set its URL with POST /api/monitoring/config {"grafana_url": "https://…"}.';

serverManagerOpsCompat.get("/api/grafana-dashboard", async (c) => {
  const url = await grafanaOf(c);
  return c.json(
    ok(
      url
        ? { status: "configured", url, prometheus_url: `${publicBaseUrl(c.env, c.req.url)}${PROMETHEUS_PATH}` }
        : { status: "not_configured", url: null, prometheus_url: `${publicBaseUrl(c.env, c.req.url)}${PROMETHEUS_PATH}` },
      url ? "Grafana dashboard." : NOT_CONFIGURED,
    ),
  );
});

serverManagerOpsCompat.get("/api/grafana-dashboard/embed", async (c) => {
  const url = await grafanaOf(c);
  if (!url) return c.json(ok({ status: "not_configured", embed_url: null, iframe: null }, NOT_CONFIGURED));
  const embed = new URL(url);
  embed.searchParams.set("kiosk", "");
  const escaped = embed.toString().replaceAll("&", "&amp;").replaceAll('"', "&quot;");
  return c.json(
    ok(
      {
        status: "configured",
        embed_url: embed.toString(),
        iframe: `<iframe src="${escaped}" width="100%" height="800" frameborder="0"></iframe>`,
      },
      "Grafana embed.",
    ),
  );
});

// ---- seed 004: test notification ------------------------------------------------------------------------

/** 004's `POST /api/test/notification`: a test through every enabled notification channel (as each channel's own test does). */
serverManagerOpsCompat.post("/api/test/notification", async (c) => {
  const actor = authedActor(c);
  // Like 004's other settings paths (monitoring config, system logs): admin_access, which owners
  // and admins always hold and a member may be granted.
  assertPermission(actor.principal, "admin_access");
  const enabled = (await channels.listChannels(c.var.db, actor.principal.organizationId, { limit: 100 })).items.filter((ch) => ch.enabled);
  const sent = [];
  for (const ch of enabled) {
    const delivery = await channels.sendTest(c.var.db, c.env, actor, ch.id);
    sent.push({ channel_id: ch.id, channel: ch.name, type: ch.type, delivery_id: delivery.id, status: delivery.status });
  }
  return c.json(
    {
      success: true,
      data: { channels: sent.length, deliveries: sent },
      message: sent.length
        ? `Test notification sent to ${sent.length} channel(s); each delivery's outcome is at GET /api/v1/notification-channels/{id}/deliveries.`
        : "No notification channel is enabled: add one (POST /api/v1/notification-channels) and test again.",
    },
    sent.length ? 202 : 200,
  );
});

// ---- seed 004: test tasks -------------------------------------------------------------------------------

const ProbeBody = z
  .object({ x: z.number().finite().optional(), y: z.number().finite().optional(), message: z.string().max(500).optional() })
  .strict();

for (const [path, kind] of [
  ["/api/test/simple", "probe.succeed"],
  ["/api/test/error", "probe.fail"],
] as const satisfies ReadonlyArray<readonly [string, ProbeKind]>) {
  serverManagerOpsCompat.post(path, async (c) => {
    const body = await readJson(c, ProbeBody, { optional: true });
    const task = await enqueueProbe(c.var.db, c.env, authedActor(c), kind, body);
    return c.json(
      {
        success: true,
        data: { task_id: task.id, status: task.status, status_url: `/api/tasks/${task.id}/status` },
        task_id: task.id,
        message: kind === "probe.succeed" ? "Test task started." : "Test error task started: it will fail.",
      },
      202,
    );
  });
}
