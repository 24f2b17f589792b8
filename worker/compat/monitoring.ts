// Monitoring on the compatibility surfaces, as thin adapters over the metrics and alert services:
// DevFlow Pro's server metrics (seed 003: Laravel bodies, so its monitor.sh works unchanged) and
// the server manager v2's alerts and health summary (seed 004: `{success, data, message}`).
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { laravelDateTime } from "../lib/time.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as alerts from "../services/alerts.ts";
import { healthSummary, type Health, type HostHealth } from "../services/host-health.ts";
import { getHost, getHostByAddress } from "../services/hosts.ts";
import * as metrics from "../services/metrics.ts";
import { type Principal, requireRole } from "../services/principal.ts";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import { isServerAddress } from "./envelopes.ts";
import { readJson } from "./validate.ts";
import type { Database } from "../db/client.ts";
import { latestContainerSamples, serverLatest } from "../services/monitoring.ts";
import { getServer, listServers, serverContainerName, serverScope, type ServerRow, type ServerStatus } from "../services/servers.ts";

// ---- DevFlow Pro: GET/POST /api/servers/{server}/metrics ---------------------------------------------

export const devflowMetricsCompat = new Hono<AppEnv>();

/** Laravel's validation messages (10.x wording, as the document shows: "The cpu usage field is required."). */
function laravelNumber(field: string, options: { min?: number; max?: number; integer?: boolean }) {
  const label = field.replaceAll("_", " ");
  let schema = z.number({
    error: (issue) => (issue.input === undefined ? `The ${label} field is required.` : `The ${label} field must be a number.`),
  });
  if (options.integer) schema = schema.int({ error: `The ${label} field must be an integer.` });
  if (options.min !== undefined && options.max !== undefined) {
    const between = `The ${label} field must be between ${options.min} and ${options.max}.`;
    schema = schema.min(options.min, { error: between }).max(options.max, { error: between });
  } else if (options.min !== undefined) {
    schema = schema.min(options.min, { error: `The ${label} field must be at least ${options.min}.` });
  }
  // Laravel's `numeric` takes numeric strings too ("45.5").
  return z.preprocess((v) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v), schema);
}

const MetricsPush = z.object({
  cpu_usage: laravelNumber("cpu_usage", { min: 0, max: 100 }),
  memory_usage: laravelNumber("memory_usage", { min: 0, max: 100 }),
  disk_usage: laravelNumber("disk_usage", { min: 0, max: 100 }),
  network_in: laravelNumber("network_in", { min: 0, integer: true }).nullish(),
  network_out: laravelNumber("network_out", { min: 0, integer: true }).nullish(),
  load_average: laravelNumber("load_average", { min: 0 }).nullish(),
  active_connections: laravelNumber("active_connections", { min: 0, integer: true }).nullish(),
});

const num = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

const devflowMetric = (r: metrics.HostMetricRow) => ({
  id: r.id,
  server_id: r.hostId,
  cpu_usage: num(r.cpuPercent),
  memory_usage: num(r.memoryPercent),
  disk_usage: num(r.diskPercent),
  network_in: r.networkIn === null ? null : Math.round(r.networkIn),
  network_out: r.networkOut === null ? null : Math.round(r.networkOut),
  load_average: num(r.load1),
  active_connections: r.activeConnections === null ? null : Math.round(r.activeConnections),
  recorded_at: laravelDateTime(r.at),
});

/** The newest samples, pushed or from the agent. */
const DEVFLOW_LIST_LIMIT = 100;

// Seed 004 has the same path with a server's IP address (`/api/servers/<server_ip>/metrics`):
// those fall through to its route below, as compat/envelopes.ts assigns them.
devflowMetricsCompat.get("/api/servers/:server/metrics", requireAuth(), async (c, next) => {
  if (isServerAddress(c.req.param("server"))) return next();
  if (c.var.principal.projectScope) throw new ApiError(404, `Server ${c.req.param("server")} was not found.`);
  const host = await getHost(c.var.db, c.var.principal.organizationId, c.req.param("server"));
  const rows = await metrics.recentRawRows(c.var.db, host.id, DEVFLOW_LIST_LIMIT);
  return c.json({ data: rows.map(devflowMetric) });
});

devflowMetricsCompat.post("/api/servers/:server/metrics", requireAuth(), async (c, next) => {
  if (isServerAddress(c.req.param("server"))) return next();
  const p = c.var.principal;
  // Pushed samples feed the charts and the alerts: a viewer's token may read, not write.
  requireRole(p, "member", "push server metrics");
  const host = await getHost(c.var.db, p.organizationId, c.req.param("server"));
  const body = await readJson(c, MetricsPush);
  const row = await metrics.ingestPush(c.var.db, c.env, host, {
    cpuUsage: body.cpu_usage,
    memoryUsage: body.memory_usage,
    diskUsage: body.disk_usage,
    networkIn: body.network_in,
    networkOut: body.network_out,
    loadAverage: body.load_average,
    activeConnections: body.active_connections,
  });
  const view = devflowMetric(row);
  return c.json(
    {
      message: "Metrics stored successfully",
      data: {
        id: view.id,
        server_id: view.server_id,
        cpu_usage: view.cpu_usage,
        memory_usage: view.memory_usage,
        disk_usage: view.disk_usage,
        recorded_at: view.recorded_at,
      },
    },
    201,
  );
});

// ---- server manager v2: alerts and health summary ----------------------------------------------------

export const monitoringV2Compat = new Hono<AppEnv>();

const ok = <T>(data: T, message: string) => ({ success: true, data, message });

monitoringV2Compat.post("/api/alerts/clear", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z
      .object({
        alert_ids: z.array(z.string().min(1).max(64)).max(500).optional(),
        alert_id: z.string().min(1).max(64).optional(),
        server_id: z.string().min(1).max(64).optional(),
        host_id: z.string().min(1).max(64).optional(),
      })
      .strict(),
    { optional: true },
  );
  const ids = body.alert_ids ?? (body.alert_id ? [body.alert_id] : undefined);
  const cleared = await alerts.clearAlerts(c.var.db, authedActor(c), { alertIds: ids, hostId: body.host_id ?? body.server_id });
  return c.json(
    ok(
      { cleared: cleared.length, alerts: cleared.map(alerts.toAlertView) },
      cleared.length === 1 ? "1 alert cleared." : `${cleared.length} alerts cleared.`,
    ),
  );
});

monitoringV2Compat.post("/api/alerts/:id/acknowledge", requireAuth(), async (c) => {
  const alert = await alerts.acknowledgeAlert(c.var.db, authedActor(c), c.req.param("id"));
  return c.json(ok(alerts.toAlertView(alert), "Alert acknowledged."));
});

const oneDecimal = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

const serverHealth = (s: HostHealth) => ({
  id: s.host.id,
  name: s.host.name,
  status: s.state,
  health: s.health,
  cpu_usage: oneDecimal(s.cpuPercent),
  memory_usage: oneDecimal(s.memoryPercent),
  disk_usage: oneDecimal(s.diskPercent),
  last_metrics_at: s.sampledAt,
  last_seen_at: s.host.lastSeenAt,
  containers: s.host.containers ?? null,
  alerts: { firing: s.firing.length, pending: s.pending, unacknowledged: s.firing.filter((a) => !a.acknowledgedAt).length },
});

/** A managed server's health from its status and its host's: a server on a host that is not online is offline whatever it last said. */
const MANAGED_HEALTH: Record<ServerStatus, Health> = {
  running: "healthy",
  creating: "warning",
  restarting: "warning",
  paused: "warning",
  deleting: "warning",
  stopped: "offline",
  error: "critical",
};

monitoringV2Compat.get("/api/servers/health-summary", requireAuth(), async (c) => {
  const p = c.var.principal;
  // A project-scoped member sees neither hosts' health nor servers outside their projects.
  const summary = p.projectScope ? [] : await healthSummary(c.var.db, p.organizationId);
  const managed = await listServers(c.var.db, p.organizationId, await serverScope(c.var.db, p));
  const samples = await latestContainerSamples(c.var.db, p.organizationId, managed.map(serverContainerName));
  const hostHealth = new Map(summary.map((h) => [h.host.id, h.health]));
  const managedViews = managed.map((s) => {
    const sample = samples
      .filter((r) => r.hostId === s.hostId && r.containerName === serverContainerName(s))
      .sort((a, b) => b.at.localeCompare(a.at))[0];
    return {
      id: s.alias,
      name: s.name,
      type: "server" as const,
      ip_address: s.ipAddress,
      host_id: s.hostId,
      role: s.role,
      status: s.status,
      health: s.hostId && hostHealth.get(s.hostId) === "offline" ? ("offline" as const) : MANAGED_HEALTH[s.status],
      cpu_usage: oneDecimal(sample?.cpuPercent ?? null),
      memory_usage: oneDecimal(sample?.memoryPercent ?? null),
      last_metrics_at: sample?.at ?? null,
      last_error: s.lastError,
    };
  });
  const all = [...summary.map((h) => h.health), ...managedViews.map((m) => m.health)];
  const count = (h: Health) => all.filter((x) => x === h).length;
  return c.json(
    ok(
      {
        total: all.length,
        healthy: count("healthy"),
        warning: count("warning"),
        critical: count("critical"),
        offline: count("offline"),
        // The hosts (nodes) first, then the managed servers on them.
        servers: [...summary.map((h) => ({ ...serverHealth(h), type: "node" as const })), ...managedViews],
      },
      "Server health summary.",
    ),
  );
});

// Seed 004 names a server by its IP address: a managed server's (its container's address), else
// the host whose agent reported that address.

/** The managed server with this address, or null (an address two servers share is a 409). */
async function serverByAddress(db: Database, principal: Principal, ip: string): Promise<ServerRow | null> {
  return getServer(db, principal.organizationId, ip, await serverScope(db, principal)).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
}

/** The host with this address; a project-scoped member sees no host's own figures (they span every project). */
async function hostByAddress(db: Database, principal: Principal, ip: string) {
  if (principal.projectScope) throw new ApiError(404, `Server ${ip} was not found among your projects' servers.`);
  return getHostByAddress(db, principal.organizationId, ip);
}

/** The samples `/api/servers/<server_ip>/metrics` returns besides the latest. */
const V2_HISTORY_LIMIT = 60;

monitoringV2Compat.get("/api/servers/:ip/metrics", requireAuth(), async (c) => {
  const ip = c.req.param("ip");
  if (!isServerAddress(ip)) throw new ApiError(404, `Server ${ip} was not found: name the server by its IP address.`);
  const server = await serverByAddress(c.var.db, c.var.principal, ip);
  if (server) {
    const latest = await serverLatest(c.var.db, server);
    const sample = latest && {
      cpu_usage: num(latest.cpuPercent),
      memory_usage: num(latest.memoryPercent),
      memory_used_bytes: latest.memoryUsage,
      memory_limit_bytes: latest.memoryLimit,
      // The agents sample containers' CPU and memory only: no per-container disk or network.
      disk_usage: null,
      network_in: null,
      network_out: null,
      timestamp: latest.at,
    };
    return c.json(
      ok(
        {
          server_ip: ip,
          server_id: server.alias,
          server_name: server.name,
          source: "container",
          metrics: sample,
          history: sample ? [sample] : [],
        },
        sample ? "Server metrics." : "No metrics recorded for this server yet.",
      ),
    );
  }
  const host = await hostByAddress(c.var.db, c.var.principal, ip);
  const rows = await metrics.recentRawRows(c.var.db, host.id, V2_HISTORY_LIMIT);
  const sample = (r: metrics.HostMetricRow) => ({
    cpu_usage: num(r.cpuPercent),
    memory_usage: num(r.memoryPercent),
    disk_usage: num(r.diskPercent),
    network_in: r.networkIn === null ? null : Math.round(r.networkIn),
    network_out: r.networkOut === null ? null : Math.round(r.networkOut),
    load_average: num(r.load1),
    timestamp: r.at,
  });
  return c.json(
    ok(
      { server_ip: ip, server_id: host.id, server_name: host.name, metrics: rows[0] ? sample(rows[0]) : null, history: rows.map(sample) },
      rows.length ? "Server metrics." : "No metrics recorded for this server yet.",
    ),
  );
});

monitoringV2Compat.get("/api/servers/:ip/health", requireAuth(), async (c) => {
  const ip = c.req.param("ip");
  if (!isServerAddress(ip)) throw new ApiError(404, `Server ${ip} was not found: name the server by its IP address.`);
  const org = c.var.principal.organizationId;
  const server = await serverByAddress(c.var.db, c.var.principal, ip);
  if (server) {
    const [latest, hostHealth] = await Promise.all([serverLatest(c.var.db, server), healthSummary(c.var.db, org)]);
    const onHost = hostHealth.find((h) => h.host.id === server.hostId);
    // A server is as healthy as its container's state and its host's agent allow.
    const health: Health =
      !onHost || onHost.health === "offline"
        ? "offline"
        : server.status === "running"
          ? onHost.health
          : server.status === "error"
            ? "critical"
            : "warning";
    return c.json(
      ok(
        {
          server_ip: ip,
          id: server.alias,
          server_id: server.id,
          name: server.name,
          status: server.status,
          health,
          role: server.role,
          host_id: server.hostId,
          cpu_usage: oneDecimal(latest?.cpuPercent ?? null),
          memory_usage: oneDecimal(latest?.memoryPercent ?? null),
          disk_usage: null,
          last_metrics_at: latest?.at ?? null,
          last_error: server.lastError,
        },
        "Server health.",
      ),
    );
  }
  const host = await hostByAddress(c.var.db, c.var.principal, ip);
  const health = (await healthSummary(c.var.db, org)).find((s) => s.host.id === host.id);
  if (!health) throw new ApiError(404, `Server ${ip} was not found.`);
  return c.json(ok({ server_ip: ip, ...serverHealth(health) }, "Server health."));
});
