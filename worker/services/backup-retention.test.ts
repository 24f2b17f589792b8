import { describe, expect, it } from "vitest";
import { type RetainedBackup, selectExpired } from "./backup-retention.ts";

const NOW = new Date("2026-11-30T03:00:00.000Z");
const daysAgo = (d: number, extraMs = 0) => new Date(NOW.getTime() - d * 86_400_000 - extraMs).toISOString();
const own = (id: string, createdAt: string, status = "succeeded"): RetainedBackup => ({ id, policyId: "bpl_a", status, createdAt });

describe("selectExpired", () => {
  it("keeps everything when the policy limits neither count nor age", () => {
    const backups = Array.from({ length: 50 }, (_, i) => own(`b${i}`, daysAgo(i * 30)));
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: null, maxAgeDays: null }, "b0", NOW)).toEqual([]);
  });

  it("keeps the newest N by count, the one just made among them", () => {
    const backups = [own("new", daysAgo(0)), own("d1", daysAgo(1)), own("d2", daysAgo(2)), own("d3", daysAgo(3)), own("d4", daysAgo(4))];
    const rule = (keepLast: number) => ({ policyId: "bpl_a", keepLast, maxAgeDays: null });
    expect(selectExpired(backups, rule(1), "new", NOW).sort()).toEqual(["d1", "d2", "d3", "d4"]);
    expect(selectExpired(backups, rule(3), "new", NOW).sort()).toEqual(["d3", "d4"]);
    expect(selectExpired(backups, rule(5), "new", NOW)).toEqual([]);
    expect(selectExpired(backups, rule(9), "new", NOW)).toEqual([]);
  });

  it("never deletes the backup that just succeeded, even when its clock says it is the oldest or too old", () => {
    const backups = [own("just", daysAgo(40)), own("d1", daysAgo(1)), own("d2", daysAgo(2))];
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 1, maxAgeDays: 7 }, "just", NOW).sort()).toEqual(["d1", "d2"]);
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 2, maxAgeDays: 30 }, "just", NOW)).toEqual(["d2"]);
  });

  it("deletes exactly those older than the maximum age, the boundary kept", () => {
    const backups = [
      own("new", daysAgo(0)),
      own("edge", daysAgo(7)),
      own("past", daysAgo(7, 1)),
      own("old", daysAgo(30)),
      own("recent", daysAgo(6, 86_399_999)),
    ];
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: null, maxAgeDays: 7 }, "new", NOW).sort()).toEqual(["old", "past"]);
  });

  it("applies both limits: whatever either one rejects goes", () => {
    const backups = [own("new", daysAgo(0)), own("d1", daysAgo(1)), own("d2", daysAgo(2)), own("d9", daysAgo(9)), own("d20", daysAgo(20))];
    // The count keeps new, d1, d2, d9; the age then drops d9 too.
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 4, maxAgeDays: 7 }, "new", NOW).sort()).toEqual(["d20", "d9"]);
    // The age keeps new, d1, d2; the count then drops d2.
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 2, maxAgeDays: 7 }, "new", NOW).sort()).toEqual(["d2", "d20", "d9"]);
  });

  it("never touches other policies', on-demand or imported backups, however old or many", () => {
    const backups = [
      own("new", daysAgo(0)),
      own("mine", daysAgo(50)),
      { id: "other-policy", policyId: "bpl_b", status: "succeeded", createdAt: daysAgo(60) },
      { id: "on-demand", policyId: null, status: "succeeded", createdAt: daysAgo(70) },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `other-${i}`, policyId: "bpl_b", status: "succeeded", createdAt: daysAgo(i) })),
    ];
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 1, maxAgeDays: 1 }, "new", NOW)).toEqual(["mine"]);
  });

  it("neither counts nor deletes failed or running attempts", () => {
    const backups = [
      own("new", daysAgo(0)),
      own("failed-1", daysAgo(0, 1000), "failed"),
      own("running", daysAgo(0, 500), "running"),
      own("d1", daysAgo(1)),
      own("failed-old", daysAgo(90), "failed"),
      own("d2", daysAgo(2)),
    ];
    // Two places: the new one and d1; the failed ones neither take a place nor go.
    expect(selectExpired(backups, { policyId: "bpl_a", keepLast: 2, maxAgeDays: 30 }, "new", NOW)).toEqual(["d2"]);
  });

  it("breaks ties of equal times by id, whatever order the rows come in", () => {
    const same = daysAgo(1);
    const backups = [own("new", daysAgo(0)), own("b", same), own("a", same), own("c", same)];
    const rule = { policyId: "bpl_a", keepLast: 2, maxAgeDays: null };
    const expected = selectExpired(backups, rule, "new", NOW).sort();
    expect(expected).toEqual(["a", "b"]);
    for (const order of [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [2, 0, 3, 1],
    ])
      expect(
        selectExpired(
          order.map((i) => backups[i]!),
          rule,
          "new",
          NOW,
        ).sort(),
      ).toEqual(expected);
  });

  it("agrees with a brute-force reading of the rules over every small case", () => {
    // Every combination of up to 6 backups (own/other policy, succeeded/failed, ages 0–12 days)
    // against every limit: the selection must equal the rule applied one backup at a time.
    const ages = [0, 1, 3, 6, 7, 12];
    let cases = 0;
    for (let mask = 0; mask < 1 << 6; mask++) {
      const backups: RetainedBackup[] = ages.map((age, i) => ({
        id: `b${i}`,
        policyId: mask & (1 << i) ? "bpl_a" : i % 2 ? "bpl_b" : null,
        status: i === 4 && mask & 1 ? "failed" : "succeeded",
        createdAt: daysAgo(age, i),
      }));
      for (const keepId of ["b0", "b2"]) {
        for (const keepLast of [null, 1, 2, 3, 6]) {
          for (const maxAgeDays of [null, 1, 5, 7]) {
            const picked = new Set(selectExpired(backups, { policyId: "bpl_a", keepLast, maxAgeDays }, keepId, NOW));
            const countable = backups.filter((b) => b.policyId === "bpl_a" && b.status === "succeeded" && b.id !== keepId);
            for (const b of backups) {
              const newerOwn = countable.filter((o) => o.createdAt > b.createdAt).length;
              const tooMany = keepLast !== null && newerOwn + 1 >= keepLast;
              const tooOld = maxAgeDays !== null && Date.parse(b.createdAt) < NOW.getTime() - maxAgeDays * 86_400_000;
              const expected = countable.includes(b) && (tooMany || tooOld);
              expect(picked.has(b.id), `${b.id} keep=${keepId} last=${keepLast} age=${maxAgeDays} mask=${mask}`).toBe(expected);
              cases++;
            }
          }
        }
      }
    }
    expect(cases).toBe(64 * 2 * 5 * 4 * 6);
  });
});
