import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { ALERT_METRICS, alertRules, alerts, auditEvents, type AlertMetric, type AlertState } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { conflict, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { getHost } from "./hosts.ts";
import type { HostPoint } from "./metrics.ts";
import { notify } from "./notifications.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";

export type AlertRow = typeof alerts.$inferSelect;
export type AlertRuleRow = typeof alertRules.$inferSelect;
type Admin = Actor & { principal: Principal };

/** Built-in thresholds, used where neither the host nor its organization has a rule. */
export const DEFAULT_RULES: Record<AlertMetric, { threshold: number; durationSeconds: number }> = {
  cpu: { threshold: 90, durationSeconds: 300 },
  memory: { threshold: 90, durationSeconds: 300 },
  disk: { threshold: 90, durationSeconds: 60 },
};

export const ORGANIZATION_SCOPE = "*";

const LABEL: Record<AlertMetric, string> = { cpu: "CPU", memory: "Memory", disk: "Disk" };

export interface EffectiveRule {
  metric: AlertMetric;
  threshold: number;
  durationSeconds: number;
  enabled: boolean;
  source: "default" | "organization" | "host";
  ruleId: string | null;
}

/** For each metric: the host's own rule, else the organization's, else the default. */
export async function rulesForHost(db: Database, organizationId: string, hostId: string): Promise<EffectiveRule[]> {
  const rows = await db
    .select()
    .from(alertRules)
    .where(and(eq(alertRules.organizationId, organizationId), inArray(alertRules.scope, [hostId, ORGANIZATION_SCOPE])));
  return ALERT_METRICS.map((metric) => {
    const own = rows.find((r) => r.metric === metric && r.scope === hostId);
    const org = rows.find((r) => r.metric === metric && r.scope === ORGANIZATION_SCOPE);
    const rule = own ?? org;
    if (rule)
      return {
        metric,
        threshold: rule.threshold,
        durationSeconds: rule.durationSeconds,
        enabled: rule.enabled,
        source: own ? "host" : "organization",
        ruleId: rule.id,
      };
    return { metric, ...DEFAULT_RULES[metric], enabled: true, source: "default", ruleId: null };
  });
}

const metricValue = (p: HostPoint, metric: AlertMetric): number | null =>
  metric === "cpu" ? p.cpuPercent : metric === "memory" ? p.memoryPercent : p.diskPercent;

const minutes = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);
const pct = (v: number) => `${Math.round(v * 10) / 10}%`;

async function liveAlert(db: Database, hostId: string, metric: AlertMetric): Promise<AlertRow | undefined> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.hostId, hostId), eq(alerts.metric, metric), inArray(alerts.state, ["pending", "firing"])))
    .limit(1);
  return row;
}

export interface AlertHost {
  id: string;
  organizationId: string;
  name: string;
}

/**
 * Runs each metric's rule over new points, in time order. Above the threshold an alert is
 * `pending`; still above it `durationSeconds` later it is `firing` and notifies once; back at or
 * below the threshold a pending alert is dropped and a firing one resolves (and notifies). Every
 * transition is a conditional write, so two evaluations racing on one host notify once.
 */
export async function evaluateAlerts(db: Database, env: Bindings, host: AlertHost, points: HostPoint[]): Promise<void> {
  if (points.length === 0) return;
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const rules = await rulesForHost(db, host.organizationId, host.id);
  for (const rule of rules) {
    if (!rule.enabled) continue;
    let live = await liveAlert(db, host.id, rule.metric);
    let dirty = false;
    for (const p of sorted) {
      const value = metricValue(p, rule.metric);
      if (value === null) continue;
      const at = new Date(p.at).toISOString();
      if (value > rule.threshold) {
        if (!live) {
          const row: AlertRow = {
            id: newId("alt"),
            organizationId: host.organizationId,
            hostId: host.id,
            metric: rule.metric,
            threshold: rule.threshold,
            durationSeconds: rule.durationSeconds,
            state: "pending",
            value,
            peakValue: value,
            since: at,
            firedAt: null,
            acknowledgedAt: null,
            acknowledgedBy: null,
            resolvedAt: null,
            resolvedBy: null,
            createdAt: nowIso(),
            updatedAt: nowIso(),
          };
          const inserted = await db.insert(alerts).values(row).onConflictDoNothing().returning();
          live = inserted[0] ?? (await liveAlert(db, host.id, rule.metric));
          if (!live) continue;
        } else {
          live = { ...live, value, peakValue: Math.max(live.peakValue, value) };
          dirty = true;
        }
        if (live.state === "pending" && p.at - Date.parse(live.since) >= live.durationSeconds * 1000) {
          const [fired] = await db
            .update(alerts)
            .set({ state: "firing", firedAt: at, value, peakValue: Math.max(live.peakValue, value), updatedAt: nowIso() })
            .where(and(eq(alerts.id, live.id), eq(alerts.state, "pending")))
            .returning();
          if (fired) {
            live = fired;
            dirty = false;
            await notify(env, {
              organizationId: host.organizationId,
              kind: "alert.opened",
              severity: rule.metric === "disk" ? "error" : "warning",
              title: `${LABEL[rule.metric]} above ${pct(fired.threshold)} on ${host.name}`,
              message: `${LABEL[rule.metric]} on ${host.name} has been above ${pct(fired.threshold)} for ${minutes(fired.durationSeconds)} (now ${pct(value)}).`,
              targetType: "alert",
              targetId: fired.id,
              data: {
                alert_id: fired.id,
                host_id: host.id,
                host_name: host.name,
                metric: rule.metric,
                value,
                threshold: fired.threshold,
                duration_seconds: fired.durationSeconds,
              },
            });
          }
        }
      } else if (live) {
        if (live.state === "pending") {
          await db.delete(alerts).where(and(eq(alerts.id, live.id), eq(alerts.state, "pending")));
        } else {
          const [resolved] = await db
            .update(alerts)
            .set({ state: "resolved", resolvedAt: at, value, updatedAt: nowIso() })
            .where(and(eq(alerts.id, live.id), eq(alerts.state, "firing")))
            .returning();
          if (resolved) {
            await notify(env, {
              organizationId: host.organizationId,
              kind: "alert.cleared",
              title: `${LABEL[rule.metric]} back to normal on ${host.name}`,
              message: `${LABEL[rule.metric]} on ${host.name} is at ${pct(value)}, at or below ${pct(resolved.threshold)} again (peak ${pct(resolved.peakValue)}).`,
              targetType: "alert",
              targetId: resolved.id,
              data: {
                alert_id: resolved.id,
                host_id: host.id,
                host_name: host.name,
                metric: rule.metric,
                value,
                threshold: resolved.threshold,
                peak: resolved.peakValue,
              },
            });
          }
        }
        live = undefined;
        dirty = false;
      }
    }
    if (live && dirty) {
      await db
        .update(alerts)
        .set({ value: live.value, peakValue: live.peakValue, updatedAt: nowIso() })
        .where(and(eq(alerts.id, live.id), inArray(alerts.state, ["pending", "firing"])));
    }
  }
}

// ---- alerts API ------------------------------------------------------------------------------------

export interface AlertFilter {
  state?: AlertState;
  hostId?: string;
}

export async function listAlerts(db: Database, organizationId: string, filter: AlertFilter, page: PageQuery) {
  return newestFirstPage(
    db.select().from(alerts).$dynamic(),
    alerts,
    page,
    eq(alerts.organizationId, organizationId),
    filter.state ? eq(alerts.state, filter.state) : undefined,
    filter.hostId ? eq(alerts.hostId, filter.hostId) : undefined,
  );
}

export async function getAlert(db: Database, organizationId: string, id: string): Promise<AlertRow> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.organizationId, organizationId), eq(alerts.id, id)))
    .limit(1);
  if (!row) throw notFound(`Alert ${id}`);
  return row;
}

/** "I've seen it": stops nothing, but tells the team someone is on it. */
export async function acknowledgeAlert(db: Database, actor: Admin, id: string): Promise<AlertRow> {
  const p = actor.principal;
  requireRole(p, "member", "acknowledge alerts");
  const row = await getAlert(db, p.organizationId, id);
  if (row.acknowledgedAt) return row;
  const now = nowIso();
  const [updated] = await db.batch([
    db.update(alerts).set({ acknowledgedAt: now, acknowledgedBy: p.userId, updatedAt: now }).where(eq(alerts.id, id)).returning(),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "alert.acknowledge",
        targetType: "alert",
        targetId: id,
        metadata: { host_id: row.hostId, metric: row.metric },
      }),
    ),
  ]);
  return updated[0] ?? row;
}

/**
 * Resolves live alerts by hand: the given ones, a host's, or all of the organization's. If the
 * value is still above the threshold, a new alert opens after the full duration again.
 */
export async function clearAlerts(db: Database, actor: Admin, scope: { alertIds?: string[]; hostId?: string }): Promise<AlertRow[]> {
  const p = actor.principal;
  requireRole(p, "member", "clear alerts");
  if (scope.hostId) await getHost(db, p.organizationId, scope.hostId);
  const conditions: (SQL | undefined)[] = [eq(alerts.organizationId, p.organizationId), inArray(alerts.state, ["pending", "firing"])];
  if (scope.alertIds) {
    if (scope.alertIds.length === 0) return [];
    for (const id of scope.alertIds) await getAlert(db, p.organizationId, id);
    conditions.push(inArray(alerts.id, scope.alertIds));
  }
  if (scope.hostId) conditions.push(eq(alerts.hostId, scope.hostId));
  const now = nowIso();
  const cleared = await db
    .update(alerts)
    .set({ state: "resolved", resolvedAt: now, resolvedBy: p.userId, updatedAt: now })
    .where(and(...conditions))
    .returning();
  if (cleared.length > 0) {
    await db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "alert.clear",
        targetType: scope.hostId ? "host" : "alert",
        targetId: scope.hostId ?? (cleared.length === 1 ? cleared[0]!.id : undefined),
        metadata: { alert_ids: cleared.map((a) => a.id) },
      }),
    );
  }
  return cleared;
}

// ---- rules -----------------------------------------------------------------------------------------

export interface RuleInput {
  hostId?: string | null;
  metric: AlertMetric;
  threshold: number;
  durationSeconds: number;
  enabled?: boolean;
}

export async function listRules(db: Database, organizationId: string): Promise<AlertRuleRow[]> {
  return db.select().from(alertRules).where(eq(alertRules.organizationId, organizationId)).orderBy(alertRules.scope, alertRules.metric);
}

export async function getRule(db: Database, organizationId: string, id: string): Promise<AlertRuleRow> {
  const [row] = await db
    .select()
    .from(alertRules)
    .where(and(eq(alertRules.organizationId, organizationId), eq(alertRules.id, id)))
    .limit(1);
  if (!row) throw notFound(`Alert rule ${id}`);
  return row;
}

export async function createRule(db: Database, actor: Admin, input: RuleInput): Promise<AlertRuleRow> {
  const p = actor.principal;
  requireRole(p, "admin", "change alert rules");
  if (input.hostId) await getHost(db, p.organizationId, input.hostId);
  const scope = input.hostId ?? ORGANIZATION_SCOPE;
  const existing = await db
    .select({ id: alertRules.id })
    .from(alertRules)
    .where(and(eq(alertRules.organizationId, p.organizationId), eq(alertRules.scope, scope), eq(alertRules.metric, input.metric)))
    .limit(1);
  if (existing[0])
    throw conflict(
      `There is already a ${input.metric} rule for ${input.hostId ? `host ${input.hostId}` : "the organization"} (${existing[0].id}): change it with PATCH.`,
    );
  const now = nowIso();
  const row: AlertRuleRow = {
    id: newId("alr"),
    organizationId: p.organizationId,
    scope,
    metric: input.metric,
    threshold: input.threshold,
    durationSeconds: input.durationSeconds,
    enabled: input.enabled ?? true,
    createdAt: now,
    updatedAt: now,
  };
  await db.batch([
    db.insert(alertRules).values(row),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "alert_rule.create",
        targetType: "alert_rule",
        targetId: row.id,
        metadata: { scope, metric: row.metric, threshold: row.threshold, duration_seconds: row.durationSeconds },
      }),
    ),
  ]);
  return row;
}

export async function updateRule(
  db: Database,
  actor: Admin,
  id: string,
  patch: Partial<Pick<RuleInput, "threshold" | "durationSeconds" | "enabled">>,
): Promise<AlertRuleRow> {
  const p = actor.principal;
  requireRole(p, "admin", "change alert rules");
  const row = await getRule(db, p.organizationId, id);
  const next = {
    ...row,
    threshold: patch.threshold ?? row.threshold,
    durationSeconds: patch.durationSeconds ?? row.durationSeconds,
    enabled: patch.enabled ?? row.enabled,
    updatedAt: nowIso(),
  };
  await db.batch([
    db
      .update(alertRules)
      .set({ threshold: next.threshold, durationSeconds: next.durationSeconds, enabled: next.enabled, updatedAt: next.updatedAt })
      .where(eq(alertRules.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "alert_rule.update",
        targetType: "alert_rule",
        targetId: id,
        metadata: { threshold: next.threshold, duration_seconds: next.durationSeconds, enabled: next.enabled },
      }),
    ),
  ]);
  return next;
}

export async function deleteRule(db: Database, actor: Admin, id: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "change alert rules");
  await getRule(db, p.organizationId, id);
  await db.batch([
    db.delete(alertRules).where(eq(alertRules.id, id)),
    db
      .insert(auditEvents)
      .values(auditRow(actor, { organizationId: p.organizationId, action: "alert_rule.delete", targetType: "alert_rule", targetId: id })),
  ]);
}

/** An alert as the API shows it (the canonical API and seed 004 alike). */
export const toAlertView = (a: AlertRow) => ({
  id: a.id,
  host_id: a.hostId,
  metric: a.metric,
  state: a.state,
  threshold: a.threshold,
  duration_seconds: a.durationSeconds,
  value: a.value,
  peak_value: a.peakValue,
  since: a.since,
  fired_at: a.firedAt,
  acknowledged_at: a.acknowledgedAt,
  acknowledged_by: a.acknowledgedBy,
  resolved_at: a.resolvedAt,
  resolved_by: a.resolvedBy,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});
