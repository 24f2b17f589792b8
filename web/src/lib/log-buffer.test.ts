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

  it("joins a build log's pieces cut mid-line, per stream, as the deployment's SSE sends them", () => {
    const b = new LogBuffer();
    // Pieces as a deployment's log arrived: the agent cuts its output wherever a batch ends.
    b.write("stdout", "==> Creating container web-dpl_1 from pier/web:dpl_9yv7n4vied");
    b.write("stderr", "warning: a line of its own\n");
    b.write("stdout", "0kklwdad8k\n==> Started web-dpl_1; waiting for it to ");
    b.write("stdout", "be healthy\r\n==> Probing (up to");
    b.write("stdout", " 10 tries)\n");
    b.write("system", "==> Deployment succeeded\n");
    expect(b.toText(false).split("\n")).toEqual([
      "==> Creating container web-dpl_1 from pier/web:dpl_9yv7n4vied0kklwdad8k",
      "warning: a line of its own",
      "==> Started web-dpl_1; waiting for it to be healthy",
      "==> Probing (up to 10 tries)",
      "==> Deployment succeeded",
      "",
    ]);
    expect(b.filter("waiting for it to be healthy", new Set(["stdout"]))).toEqual([2]);
    expect([0, 1, 2, 3, 4].map((i) => b.at(i)?.stream)).toEqual(["stdout", "stderr", "stdout", "stdout", "system"]);
  });

  it("starts a new line after an open one has left the buffer, and after clear", () => {
    const b = new LogBuffer(2);
    b.write("stdout", "first, open");
    b.write("stderr", "a\nb\n");
    b.write("stdout", " and continued\n");
    expect(b.toText(false)).toBe("b\n and continued\n");
    b.write("stdout", "open again");
    b.clear();
    b.write("stdout", "after clear\n");
    expect(b.toText(false)).toBe("after clear\n");
  });
});
