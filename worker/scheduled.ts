import { createDatabase } from "./db/client.ts";
import { wakeOverduePolicies } from "./services/backup-policies.ts";
import type { Bindings } from "./env.ts";
import { pruneDeliveries } from "./services/channels/index.ts";
import { sweepPresence } from "./services/hosts.ts";
import { pruneMetrics } from "./services/metrics.ts";
import { notifyExpiringCredentials, pruneNotifications } from "./services/notifications.ts";
import { errorLogFields } from "./db/errors.ts";

/**
 * The cron trigger (`[triggers] crons` in wrangler.toml): retention of metrics, notifications and
 * the delivery log, notices of API keys about to expire, the host presence sweep, and a check on backup schedules
 * whose alarm is overdue. Each job runs on its own, so one
 * failing does not skip the others; a failed job is simply done again on the next run.
 */
export async function runScheduled(env: Bindings, scheduledTime = Date.now()): Promise<void> {
  const db = createDatabase(env);
  const jobs: Record<string, () => Promise<unknown>> = {
    "prune metrics": () => pruneMetrics(db, scheduledTime),
    "prune notifications": () => pruneNotifications(db, scheduledTime),
    "prune deliveries": () => pruneDeliveries(db, scheduledTime),
    "expiring credentials": () => notifyExpiringCredentials(db, env, scheduledTime),
    "host presence": () => sweepPresence(db, env, scheduledTime),
    "backup schedules": () => wakeOverduePolicies(db, env, scheduledTime),
  };
  const results = await Promise.allSettled(Object.values(jobs).map((job) => job()));
  Object.keys(jobs).forEach((name, i) => {
    const r = results[i]!;
    if (r.status === "rejected")
      console.error(JSON.stringify({ level: "error", msg: `scheduled: ${name} failed`, ...errorLogFields(r.reason) }));
  });
}
