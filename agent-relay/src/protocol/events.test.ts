import { describe, expect, it } from "vitest";
import { normalizeEvent } from "./events.ts";

describe("normalizeEvent", () => {
  it("flattens an engine event", () => {
    const raw = {
      status: "start",
      id: "abc",
      from: "busybox",
      Type: "container",
      Action: "start",
      Actor: { ID: "abc", Attributes: { image: "busybox", name: "web", "dev.pier.managed": "true" } },
      scope: "local",
      time: 1_714_557_600,
      // biome-ignore lint/correctness/noPrecisionLoss: the Engine sends timeNano as a JSON number past 2^53
      timeNano: 1_714_557_600_123_456_789,
    };
    expect(normalizeEvent(raw)).toEqual({
      type: "container",
      action: "start",
      id: "abc",
      attributes: { image: "busybox", name: "web", "dev.pier.managed": "true" },
      time: 1_714_557_600_123,
      scope: "local",
    });
  });

  it("rejects documents that are not events", () => {
    expect(normalizeEvent({ hello: 1 })).toBeNull();
    expect(normalizeEvent("x")).toBeNull();
  });
});
