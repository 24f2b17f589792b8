import { describe, expect, it } from "vitest";
import { LogBuffer, splitTimestamp } from "./log-buffer.ts";

describe("LogBuffer", () => {
  it("splits chunks into lines and keeps each line's stream", () => {
    const b = new LogBuffer();
    b.append("stdout", "one\ntwo\n");
    b.append("stderr", "three\r\n");
    expect(b.size).toBe(3);
    expect([0, 1, 2].map((i) => [b.at(i)?.stream, b.at(i)?.text])).toEqual([
      ["stdout", "one"],
      ["stdout", "two"],
      ["stderr", "three"],
    ]);
  });

  it("keeps the newest lines within its capacity, with stable sequence numbers", () => {
    const b = new LogBuffer(1000);
    for (let i = 0; i < 5000; i++) b.append("stdout", `line ${i}`);
    expect(b.size).toBe(1000);
    expect(b.dropped).toBe(4000);
    expect(b.at(0)).toMatchObject({ seq: 4000, text: "line 4000" });
    expect(b.at(999)).toMatchObject({ seq: 4999, text: "line 4999" });
    expect(b.at(1000)).toBeUndefined();
  });

  it("appends a hundred thousand lines quickly and filters them by text and stream", () => {
    const b = new LogBuffer(200_000);
    for (let i = 0; i < 100_000; i++) b.append(i % 10 === 0 ? "stderr" : "stdout", `request ${i} took ${i % 7} ms`);
    expect(b.size).toBe(100_000);
    const errors = b.filter("", new Set(["stderr"]));
    expect(errors.length).toBe(10_000);
    const hits = b.filter("REQUEST 4242 ", new Set(["stdout", "stderr"]));
    expect(hits.map((i) => b.at(i)?.text)).toEqual(["request 4242 took 0 ms"]);
  });

  it("parses Docker's timestamp prefix when asked, and puts it back in the download", () => {
    const b = new LogBuffer();
    b.append("stdout", "2026-11-30T05:00:00.123456789Z hello\n", true);
    expect(b.at(0)).toMatchObject({ time: "2026-11-30T05:00:00.123456789Z", text: "hello" });
    expect(b.toText(true)).toBe("2026-11-30T05:00:00.123456789Z hello\n");
    expect(b.toText(false)).toBe("hello\n");
    expect(splitTimestamp("no time here")).toEqual({ time: null, text: "no time here" });
  });
});
