import { describe, expect, it } from "vitest";
import { parseAnsi, stripAnsi } from "./ansi.ts";

describe("parseAnsi", () => {
  it("passes plain text through as one segment", () => {
    expect(parseAnsi("plain")).toEqual([{ text: "plain", fg: null, bg: null, bold: false, italic: false, underline: false }]);
  });

  it("turns colour and bold escapes into styled segments", () => {
    const segments = parseAnsi("\u001b[1;31merror\u001b[0m: \u001b[32mok\u001b[0m");
    expect(segments.map((s) => s.text)).toEqual(["error", ": ", "ok"]);
    expect(segments[0]).toMatchObject({ bold: true });
    expect(segments[0]!.fg).toMatch(/^rgb\(\d+, ?\d+, ?\d+\)$/);
    expect(segments[1]!.fg).toBeNull();
    expect(segments[2]!.fg).not.toBe(segments[0]!.fg);
  });

  it("strips escapes for search and download", () => {
    expect(stripAnsi("\u001b[33mwarn\u001b[39m done")).toBe("warn done");
  });
});
