import { describe, expect, it } from "vitest";
import { checkTimezone, dueWork, nextRuns, parseSchedule, ScheduleError } from "./schedule.ts";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe("backup schedules", () => {
  it("reads the schedule in the policy's time zone, across a daylight-saving change", () => {
    // Berlin leaves summer time on 2026-10-25: 03:00 local is 01:00Z before and 02:00Z after.
    expect(iso(nextRuns("0 3 * * *", "Europe/Berlin", 3, new Date("2026-10-23T12:00:00Z")))).toEqual([
      "2026-10-24T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
      "2026-10-26T02:00:00.000Z",
    ]);
    expect(iso(nextRuns("30 2 * * 1", "UTC", 2, new Date("2026-11-30T03:00:00Z")))).toEqual([
      "2026-12-07T02:30:00.000Z",
      "2026-12-14T02:30:00.000Z",
    ]);
    expect(iso(nextRuns("@daily", "UTC", 1, new Date("2026-11-30T03:00:00Z")))).toEqual(["2026-12-01T00:00:00.000Z"]);
  });

  it("refuses bad patterns with croner's words, seconds fields and unknown zones with its own", () => {
    expect(() => parseSchedule("61 * * * *", "UTC")).toThrow(/Invalid value for minute: 61/);
    expect(() => parseSchedule("0 3 * *", "UTC")).toThrow(ScheduleError);
    expect(() => parseSchedule("*/5 * * * * *", "UTC")).toThrow(/five-field/);
    expect(() => parseSchedule("0 3 * * *", "Mars/Base")).toThrow(/Unknown time zone "Mars\/Base"/);
    expect(checkTimezone("UTC")).toBe("UTC");
  });

  it("owes nothing before the due time, one run on time, and one catch-up run for many missed times", () => {
    const due = new Date("2026-11-30T03:00:00Z");
    expect(dueWork("0 3 * * *", "UTC", due, new Date("2026-11-30T02:59:59Z"))).toEqual({ run: null, next: due });

    const onTime = dueWork("0 3 * * *", "UTC", due, new Date("2026-11-30T03:00:01Z"));
    expect(onTime.run).toEqual({ scheduledFor: due, missed: 0 });
    expect(onTime.next?.toISOString()).toBe("2026-12-01T03:00:00.000Z");

    // Down from the 30th to the 3rd, 10:00: the 30th, 1st, 2nd and 3rd were due; one run, for the 3rd.
    const late = dueWork("0 3 * * *", "UTC", due, new Date("2026-12-03T10:00:00Z"));
    expect(late.run).toEqual({ scheduledFor: new Date("2026-12-03T03:00:00Z"), missed: 3 });
    expect(late.next?.toISOString()).toBe("2026-12-04T03:00:00.000Z");
  });
});
