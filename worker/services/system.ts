// The control plane's own state for the server manager's system endpoints (seed 002) and
// /api/v1/system: status (database round trip, agents, resource averages), one log merged from
// the audit trail, failed tasks and failed notification deliveries, and the non-secret settings.
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { forbidden } from "../errors.ts";
import * as settings from "../settings.ts";
import { TASK_TIMEOUT_MS } from "./host-tasks.ts";
import { allHosts, effectiveState } from "./hosts.ts";
import { latestSamples } from "./metrics.ts";
import { getMonitoringSettings, DEFAULT_SAMPLE_INTERVAL_SECONDS } from "./monitoring-settings.ts";
import { assertPermission } from "./permissions.ts";
import type { Principal } from "./principal.ts";
import { vaultStatus } from "./vault.ts";

/** When this isolate served its first request: a serverless control plane has no process uptime. */
let isolateStartedAt: number | undefined;
export function markIsolateStart(now = Date.now()): number {
  isolateStartedAt ??= now;
  return isolateStartedAt;
}

export interface SystemStatus {
  healthy: boolean;
  version: string;
  isolateStartedAt: string;
  database: { ok: boolean; roundTripMs: number | null; error: string | null };
  agents: { total: number; online: number; offline: number };
  resources: { cpuPercent: number | null; memoryPercent: number | null; diskPercent: number | null; hostsSampled: number };
  vault: { sealed: boolean; secrets: number };
  grafanaUrl: string | null;
  metricsFlowing: boolean;
}

const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : null);

export async function systemStatus(db: Database, env: Bindings, organizationId: string): Promise<SystemStatus> {
  const started = markIsolateStart();
  const t0 = Date.now();
  let database: SystemStatus["database"];
  try {
    await db.run(sql`select 1`);
    database = { ok: true, roundTripMs: Date.now() - t0, error: null };
  } catch (err) {
    database = { ok: false, roundTripMs: null, error: err instanceof Error ? err.message.slice(0, 200) : "unreachable" };
  }
  if (!database.ok)
    return {
      healthy: false,
      version: env.PIER_VERSION,
      isolateStartedAt: new Date(started).toISOString(),
      database,
      agents: { total: 0, online: 0, offline: 0 },
      resources: { cpuPercent: null, memoryPercent: null, diskPercent: null, hostsSampled: 0 },
      vault: { sealed: false, secrets: 0 },
      grafanaUrl: null,
      metricsFlowing: false,
    };
  const [hosts, latest, vault, monitoring] = await Promise.all([
    allHosts(db, organizationId),
    latestSamples(db, organizationId),
    vaultStatus(db, env, organizationId),
    getMonitoringSettings(db, organizationId),
  ]);
  const online = hosts.filter((h) => effectiveState(h) === "online");
  const interval = (monitoring.sampleIntervalSeconds ?? DEFAULT_SAMPLE_INTERVAL_SECONDS) * 1000;
  // Averages over the online hosts' newest samples (an offline host's last numbers are history).
  const fresh = online.map((h) => latest.get(h.id)).filter((s) => s !== undefined && Date.now() - Date.parse(s.at) < 2 * interval + 60_000);
  const pick = (k: "cpuPercent" | "memoryPercent" | "diskPercent") => avg(fresh.map((s) => s![k]).filter((v): v is number => v !== null));
  return {
    healthy: online.length === hosts.length && vault.sealed,
    version: env.PIER_VERSION,
    isolateStartedAt: new Date(started).toISOString(),
    database,
    agents: { total: hosts.length, online: online.length, offline: hosts.length - online.length },
    resources: {
      cpuPercent: pick("cpuPercent"),
      memoryPercent: pick("memoryPercent"),
      diskPercent: pick("diskPercent"),
      hostsSampled: fresh.length,
    },
    vault: { sealed: vault.sealed, secrets: vault.secrets },
    grafanaUrl: monitoring.grafanaUrl,
    metricsFlowing: fresh.length > 0,
  };
}

/** "7 days, 12 hours", as the document writes an uptime. */
export function humanUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86400), "day"],
    [Math.floor((s % 86400) / 3600), "hour"],
    [Math.floor((s % 3600) / 60), "minute"],
  ];
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  if (shown.length === 0) return `${s} second${s === 1 ? "" : "s"}`;
  return shown.map(([n, unit]) => `${n} ${unit}${n === 1 ? "" : "s"}`).join(", ");
}

// ---- logs ------------------------------------------------------------------------------------------

export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SystemLogEntry {
  id: string;
  at: string;
  level: LogLevel;
  source: "audit" | "task" | "notification_delivery";
  message: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}

/** A log entry as the canonical API (`GET /api/v1/system/logs`) and seed 004's `GET /api/logs` show it. */
export const logEntryView = (e: SystemLogEntry) => ({
  id: e.id,
  timestamp: e.at,
  level: e.level,
  source: e.source,
  message: e.message,
  target_type: e.targetType,
  target_id: e.targetId,
  details: e.details,
});

/**
 * One log, newest first, from three places: the audit trail (info), failed tasks (error) and
 * notification deliveries that failed for good (error) or are being retried after an error
 * (warning). `level` is the least severe level shown, as in syslog: `warning` shows warnings and
 * errors. Admins only: the audit trail says who did what.
 */
export async function systemLogs(
  db: Database,
  principal: Principal,
  q: { level?: LogLevel; limit: number; offset: number },
): Promise<{ entries: SystemLogEntry[]; total: number }> {
  assertPermission(principal, "admin_access");
  if (principal.projectScope) throw forbidden("The system log is not available to project-scoped members: it spans every project.");
  const org = principal.organizationId;
  const rank = LOG_LEVELS.indexOf(q.level ?? "debug");
  const union = sql`
    select id, created_at as at, 'info' as level, 'audit' as source, action as message, target_type, target_id,
           json_object('actor_type', actor_type, 'actor_id', actor_id, 'ip', ip, 'metadata', json(coalesce(metadata, 'null'))) as details
      from audit_events where organization_id = ${org}
    union all
    select id, coalesce(finished_at, updated_at), 'error', 'task', kind || ' failed: ' || coalesce(message, 'no message'), target_type, target_id,
           json_object('kind', kind, 'task_id', id, 'started_at', started_at)
      from tasks where organization_id = ${org} and status = 'failed'
    union all
    select d.id, d.updated_at, case when d.status = 'failed' then 'error' else 'warning' end, 'notification_delivery',
           c.type || ' channel ' || c.name || ': ' || d.kind || ' not delivered: ' || d.last_error, 'notification_channel', d.channel_id,
           json_object('attempts', d.attempts, 'status', d.status, 'last_status_code', d.last_status_code, 'next_attempt_at', d.next_attempt_at)
      from notification_deliveries d join notification_channels c on c.id = d.channel_id
      where d.organization_id = ${org} and d.last_error is not null and d.status != 'succeeded'`;
  const levelFilter = sql.raw(
    `level in (${LOG_LEVELS.slice(rank)
      .map((l) => `'${l}'`)
      .join(", ")})`,
  );
  const [rows, counted] = await Promise.all([
    db.all<{
      id: string;
      at: string;
      level: LogLevel;
      source: SystemLogEntry["source"];
      message: string;
      target_type: string | null;
      target_id: string | null;
      details: string;
    }>(sql`select * from (${union}) where ${levelFilter} order by at desc, id desc limit ${q.limit} offset ${q.offset}`),
    db.all<{ n: number }>(sql`select count(*) as n from (${union}) where ${levelFilter}`),
  ]);
  return {
    entries: rows.map((r) => ({
      id: r.id,
      at: r.at,
      level: r.level,
      source: r.source,
      message: r.message,
      targetType: r.target_type,
      targetId: r.target_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    })),
    total: Number(counted[0]?.n ?? 0),
  };
}

// ---- config ----------------------------------------------------------------------------------------

/**
 * The settings in effect that are safe to show: an allow-list, never a dump of the environment, so
 * a secret added to the bindings later can never appear here. No URL that may embed credentials
 * (the database's) either.
 */
export async function systemConfig(db: Database, env: Bindings, organizationId: string) {
  const login = settings.loginThrottleSettings(env);
  const auth = settings.authSettings(env);
  const retry = settings.notifyRetryPolicy(env);
  const monitoring = await getMonitoringSettings(db, organizationId);
  return {
    version: env.PIER_VERSION,
    public_url: env.PIER_PUBLIC_URL ?? null,
    auth: {
      access_token_ttl_seconds: auth.accessTtlSeconds,
      refresh_token_ttl_seconds: auth.refreshTtlSeconds,
      open_registration: auth.openRegistration,
      devflow_token_ttl_seconds: settings.devflowTokenTtlSeconds(env),
      login_free_failures: login.account.freeFailures,
      login_free_failures_per_address: login.address.freeFailures,
      login_lockout_seconds: login.account.baseMs / 1000,
    },
    rate_limits: {
      per_minute: settings.rateLimitPerMinute(env),
      browser_per_minute: settings.browserRateLimitPerMinute(env),
      webhook_per_minute: settings.webhookRateLimitPerMinute(env),
    },
    cors_origins: settings.corsOrigins(env),
    agents: {
      ack_timeout_ms: settings.agentAckTimeoutMs(env),
      disconnect_notice_ms: settings.disconnectNoticeMs(env),
      lost_after_ms: settings.hostLostAfterMs(env),
      sample_interval_seconds: monitoring.sampleIntervalSeconds ?? DEFAULT_SAMPLE_INTERVAL_SECONDS,
    },
    notifications: {
      retry_base_ms: retry.baseMs,
      retry_max_ms: retry.maxMs,
      max_attempts: retry.maxAttempts,
      private_urls_allowed: settings.privateUrlsAllowed(env),
    },
    deployments: { keep_images: settings.keepDeploymentImages(env) },
    tasks: { timeout_seconds: TASK_TIMEOUT_MS / 1000 },
    files: { backups_dir: settings.backupsDir(env), max_upload_bytes: settings.maxUploadBytes(env) },
    terminal: { idle_timeout_seconds: settings.terminalIdleTimeoutMs(env) / 1000 },
    grafana_url: monitoring.grafanaUrl,
    encryption: { algorithm: "AES-256-GCM", key_configured: Boolean(env.ENCRYPTION_KEY) },
  };
}
export type SystemConfig = Awaited<ReturnType<typeof systemConfig>>;
