import { and, eq, or } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { alerts, hosts } from "../db/schema.ts";
import type { AlertRow } from "./alerts.ts";
import { effectiveState, type HostRow } from "./hosts.ts";
import { latestSamples } from "./metrics.ts";

// Health at a glance joins hosts, metrics and alerts; apart from alerts.ts because metrics
// ingestion evaluates alerts, so alerts.ts cannot import metrics.ts.

export type Health = "healthy" | "warning" | "critical" | "offline";

export interface HostHealth {
  host: HostRow;
  state: ReturnType<typeof effectiveState>;
  health: Health;
  cpuPercent: number | null;
  memoryPercent: number | null;
  diskPercent: number | null;
  sampledAt: string | null;
  firing: AlertRow[];
  pending: number;
}

/** A host without an agent that pushes metrics (DevFlow's monitor.sh) counts as up while it does. */
const PUSH_FRESH_MS = 5 * 60_000;

/**
 * Every host's state at a glance: offline unless its agent is online (or it pushed metrics in the
 * last 5 minutes); critical with an unacknowledged firing alert; warning with a pending or an
 * acknowledged firing one; healthy otherwise.
 */
export async function healthSummary(db: Database, organizationId: string): Promise<HostHealth[]> {
  const [rows, latest, live] = await Promise.all([
    db.select().from(hosts).where(eq(hosts.organizationId, organizationId)).orderBy(hosts.name),
    latestSamples(db, organizationId),
    db
      .select()
      .from(alerts)
      .where(and(eq(alerts.organizationId, organizationId), or(eq(alerts.state, "firing"), eq(alerts.state, "pending")))),
  ]);
  return rows.map((host) => {
    const sample = latest.get(host.id);
    const state = effectiveState(host);
    const mine = live.filter((a) => a.hostId === host.id);
    const firing = mine.filter((a) => a.state === "firing");
    const pending = mine.length - firing.length;
    const reporting = state === "online" || (sample !== undefined && Date.now() - Date.parse(sample.at) < PUSH_FRESH_MS);
    const health: Health = !reporting
      ? "offline"
      : firing.some((a) => !a.acknowledgedAt)
        ? "critical"
        : firing.length > 0 || pending > 0
          ? "warning"
          : "healthy";
    return {
      host,
      state,
      health,
      cpuPercent: sample?.cpuPercent ?? null,
      memoryPercent: sample?.memoryPercent ?? null,
      diskPercent: sample?.diskPercent ?? null,
      sampledAt: sample?.at ?? null,
      firing,
      pending,
    };
  });
}
