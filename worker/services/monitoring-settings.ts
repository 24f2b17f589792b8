// An organization's monitoring settings that have no other home: its agents' sampling interval
// (pushed to every connected agent with `metrics.configure`, and again when an agent says hello)
// and a Grafana to link to. Alert thresholds are alert rules (services/alerts.ts) and notification
// switches the notification settings (services/notifications.ts).
import { DEFAULT_METRICS_INTERVAL_MS, type MetricsConfigureResult } from "#protocol";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { ALERT_METRICS, type AlertMetric, auditEvents, monitoringSettings } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { type CommandOutcome, describeRelayError } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import * as alerts from "./alerts.ts";
import * as notifications from "./notifications.ts";
import { allHosts, effectiveState } from "./hosts.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";

type Caller = Actor & { principal: Principal };

export interface MonitoringSettings {
  /** Null: each agent's own setting (PIER_METRICS_INTERVAL_MS, default 15 s). */
  sampleIntervalSeconds: number | null;
  grafanaUrl: string | null;
  updatedAt: string | null;
}

export const DEFAULT_SAMPLE_INTERVAL_SECONDS = DEFAULT_METRICS_INTERVAL_MS / 1000;

export async function getMonitoringSettings(db: Database, organizationId: string): Promise<MonitoringSettings> {
  const [row] = await db.select().from(monitoringSettings).where(eq(monitoringSettings.organizationId, organizationId)).limit(1);
  return {
    sampleIntervalSeconds: row?.sampleIntervalSeconds ?? null,
    grafanaUrl: row?.grafanaUrl ?? null,
    updatedAt: row?.updatedAt ?? null,
  };
}

export interface AgentPush {
  hostId: string;
  hostName: string;
  applied: boolean;
  intervalMs: number | null;
  error: string | null;
}

/** Tells one host's agent the interval; the outcome says whether it took it. */
export async function pushSampleInterval(env: Bindings, hostId: string, organizationId: string, seconds: number | null) {
  const outcome = (await env.HOST_RELAY.getByName(hostId).command(
    "metrics.configure",
    { interval_ms: seconds === null ? null : seconds * 1000 },
    { organizationId },
  )) as CommandOutcome;
  if (!outcome.ok) return { applied: false, intervalMs: null, error: describeRelayError("metrics.configure", outcome.error) };
  return { applied: true, intervalMs: (outcome.data as MetricsConfigureResult).interval_ms, error: null };
}

/** Changes the settings (admin); a new sampling interval goes to every online agent at once. */
export async function updateMonitoringSettings(
  db: Database,
  env: Bindings,
  actor: Caller,
  patch: { sampleIntervalSeconds?: number | null; grafanaUrl?: string | null },
): Promise<{ settings: MonitoringSettings; pushed: AgentPush[] }> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  const current = await getMonitoringSettings(db, p.organizationId);
  const next = {
    sampleIntervalSeconds: patch.sampleIntervalSeconds !== undefined ? patch.sampleIntervalSeconds : current.sampleIntervalSeconds,
    grafanaUrl: patch.grafanaUrl !== undefined ? patch.grafanaUrl : current.grafanaUrl,
  };
  const now = nowIso();
  await db.batch([
    db
      .insert(monitoringSettings)
      .values({ organizationId: p.organizationId, ...next, updatedAt: now })
      .onConflictDoUpdate({ target: monitoringSettings.organizationId, set: { ...next, updatedAt: now } }),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "monitoring.settings.update",
        metadata: { sample_interval_seconds: next.sampleIntervalSeconds, grafana_url: next.grafanaUrl },
      }),
    ),
  ]);
  const pushed: AgentPush[] = [];
  if (patch.sampleIntervalSeconds !== undefined) {
    const online = (await allHosts(db, p.organizationId)).filter((h) => effectiveState(h) === "online");
    const outcomes = await Promise.all(online.map((h) => pushSampleInterval(env, h.id, p.organizationId, next.sampleIntervalSeconds)));
    for (const [i, h] of online.entries()) pushed.push({ hostId: h.id, hostName: h.name, ...outcomes[i]! });
  }
  return { settings: { ...next, updatedAt: now }, pushed };
}

// ---- the whole monitoring configuration (seed 004's /api/monitoring/config) ---------------------------

export interface ThresholdInput {
  threshold?: number;
  durationSeconds?: number;
  enabled?: boolean;
}

/** The organization-wide alert thresholds (its own rules, else the defaults), switches and settings. */
export async function monitoringConfig(db: Database, organizationId: string) {
  const [rules, notificationSettings, settings] = await Promise.all([
    alerts.listRules(db, organizationId),
    notifications.getSettings(db, organizationId),
    getMonitoringSettings(db, organizationId),
  ]);
  const thresholds = Object.fromEntries(
    ALERT_METRICS.map((metric) => {
      const own = rules.find((r) => r.scope === alerts.ORGANIZATION_SCOPE && r.metric === metric);
      const d = alerts.DEFAULT_RULES[metric];
      return [
        metric,
        own
          ? { threshold: own.threshold, durationSeconds: own.durationSeconds, enabled: own.enabled, source: "organization" as const }
          : { threshold: d.threshold, durationSeconds: d.durationSeconds, enabled: true, source: "default" as const },
      ];
    }),
  ) as Record<AlertMetric, { threshold: number; durationSeconds: number; enabled: boolean; source: "organization" | "default" }>;
  return { thresholds, notifications: notificationSettings, settings };
}

/** Sets the organization-wide rule of a metric: changes its rule, or creates one from the defaults. */
export async function setOrganizationThreshold(db: Database, actor: Caller, metric: AlertMetric, input: ThresholdInput) {
  const own = (await alerts.listRules(db, actor.principal.organizationId)).find(
    (r) => r.scope === alerts.ORGANIZATION_SCOPE && r.metric === metric,
  );
  if (own) return alerts.updateRule(db, actor, own.id, input);
  const d = alerts.DEFAULT_RULES[metric];
  return alerts.createRule(db, actor, {
    metric,
    threshold: input.threshold ?? d.threshold,
    durationSeconds: input.durationSeconds ?? d.durationSeconds,
    enabled: input.enabled,
  });
}
