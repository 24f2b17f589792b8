// Which of a policy's backups its retention deletes. Pure, so every rule can be tested on its own
// (backup-retention.test.ts); the scheduler applies it after each run of the policy that succeeds.

export interface RetainedBackup {
  id: string;
  /** The policy that made it; null for an on-demand or imported backup. */
  policyId: string | null;
  status: string;
  /** ISO 8601. */
  createdAt: string;
}

export interface RetentionRule {
  policyId: string;
  /** Keep at most this many (≥ 1); null: no limit by count. */
  keepLast: number | null;
  /** Delete those older than this many days (≥ 1); null: no limit by age. */
  maxAgeDays: number | null;
}

const DAY_MS = 86_400_000;

/**
 * The backups to delete: among this policy's succeeded backups, every one past the newest
 * `keepLast` and every one older than `maxAgeDays`. The backup that has just succeeded (`keepId`)
 * is never deleted and takes one of the `keepLast` places. Backups of other policies, on-demand
 * and imported ones, and backups still running or failed are never chosen (a failed attempt is not
 * a backup to count, and what it left is the pipeline's to clean up).
 */
export function selectExpired(backups: readonly RetainedBackup[], rule: RetentionRule, keepId: string, now: Date): string[] {
  if (rule.keepLast === null && rule.maxAgeDays === null) return [];
  const own = backups
    .filter((b) => b.policyId === rule.policyId && b.status === "succeeded" && b.id !== keepId)
    // Newest first; equal times fall back to the id so the choice never depends on input order.
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const places = rule.keepLast === null ? Number.POSITIVE_INFINITY : Math.max(0, rule.keepLast - 1);
  const oldest = rule.maxAgeDays === null ? Number.NEGATIVE_INFINITY : now.getTime() - rule.maxAgeDays * DAY_MS;
  return own.filter((b, rank) => rank >= places || Date.parse(b.createdAt) < oldest).map((b) => b.id);
}
