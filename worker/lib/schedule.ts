import { Cron } from "croner";

// Cron schedules of backup policies, read by croner in the policy's time zone (so "0 3 * * *" in
// Europe/Berlin is 03:00 there across daylight-saving changes).

export class ScheduleError extends Error {
  override name = "ScheduleError";
}

/** croner also takes seconds (six or seven fields); a backup schedule is minutes at the finest. */
const NICKNAMES = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** An IANA zone name the runtime knows (`UTC`, `Europe/Berlin`), else a ScheduleError. */
export function checkTimezone(timezone: string): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new ScheduleError(`Unknown time zone "${timezone}": give an IANA name such as UTC, Europe/Berlin or America/New_York.`);
  }
}

/** The schedule, parsed; a ScheduleError carries croner's own words for a bad pattern. */
export function parseSchedule(schedule: string, timezone: string): Cron {
  const pattern = schedule.trim().replace(/\s+/g, " ");
  checkTimezone(timezone);
  if (!NICKNAMES.has(pattern.toLowerCase()) && pattern.split(" ").length !== 5)
    throw new ScheduleError(
      `"${schedule}" is not a five-field cron schedule (minute hour day-of-month month day-of-week, e.g. "0 3 * * *"), nor one of ${[...NICKNAMES].join(", ")}.`,
    );
  try {
    const cron = new Cron(pattern, { timezone, paused: true });
    if (!cron.nextRun(new Date())) throw new ScheduleError(`"${schedule}" never runs again.`);
    return cron;
  } catch (error) {
    if (error instanceof ScheduleError) throw error;
    throw new ScheduleError(error instanceof Error ? error.message : String(error));
  }
}

/** The next `count` times the schedule comes due after `after`. */
export function nextRuns(schedule: string, timezone: string, count: number, after: Date): Date[] {
  return parseSchedule(schedule, timezone).nextRuns(count, after);
}

/** The first time the schedule comes due after `after`, or null if it never does again. */
export function nextRun(schedule: string, timezone: string, after: Date): Date | null {
  return parseSchedule(schedule, timezone).nextRun(after);
}

/**
 * What an alarm set for `due` owes when it fires at `now`: nothing if `due` is still ahead, else
 * one run for the latest scheduled time that has passed (`missed` says how many others it stands
 * for: after downtime the policy runs once, not once per missed time), and when to come back.
 */
export function dueWork(
  schedule: string,
  timezone: string,
  due: Date,
  now: Date,
): { run: { scheduledFor: Date; missed: number } | null; next: Date | null } {
  const cron = parseSchedule(schedule, timezone);
  if (due.getTime() > now.getTime()) return { run: null, next: due };
  let latest = due;
  let missed = 0;
  // Bounded: a minutely schedule after a long outage must not walk millions of slots.
  for (let slot = cron.nextRun(due); slot && slot.getTime() <= now.getTime() && missed < 10_000; slot = cron.nextRun(slot)) {
    latest = slot;
    missed++;
  }
  return { run: { scheduledFor: latest, missed }, next: cron.nextRun(now) };
}
