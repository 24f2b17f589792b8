import { describe, expect, it } from "vitest";
import { backoffDelay, RECONNECT_BACKOFF } from "./backoff.ts";

describe("backoffDelay", () => {
  it("doubles the ceiling per attempt from a 1 s base", () => {
    const top = () => 0.999_999;
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, RECONNECT_BACKOFF, top))).toEqual([999, 1999, 3999, 7999, 15999]);
  });

  it("never exceeds the 30 s cap, however many attempts", () => {
    expect(backoffDelay(5, RECONNECT_BACKOFF, () => 0.999_999)).toBe(29_999);
    expect(backoffDelay(1_000, RECONNECT_BACKOFF, () => 0.999_999)).toBe(29_999);
  });

  it("spreads delays over the whole range (full jitter)", () => {
    expect(backoffDelay(3, RECONNECT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, RECONNECT_BACKOFF, () => 0.5)).toBe(4_000);
    expect(backoffDelay(3, { baseMs: 10, capMs: 50 }, () => 0.5)).toBe(25);
  });

  it("treats a negative attempt as the first", () => {
    expect(backoffDelay(-1, RECONNECT_BACKOFF, () => 0.5)).toBe(500);
  });
});
