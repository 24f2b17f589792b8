import { describe, expect, it } from "vitest";
import { diffEnv, duplicateKeys, isEmptyDiff, mergeRows, parseEnvLines, rowsToEnv } from "./env-edit.ts";

describe("parseEnvLines", () => {
  it("reads KEY=VALUE lines, skipping blanks and comments, dropping export and quotes", () => {
    const { rows, rejected } = parseEnvLines(
      [
        "# database",
        "",
        "DATABASE_URL=postgres://u:p@db:5432/x?a=b",
        "export API_KEY = 'abc def'",
        'GREETING="hi \\"you\\""',
        "EMPTY=",
      ].join("\n"),
    );
    expect(rows).toEqual([
      { key: "DATABASE_URL", value: "postgres://u:p@db:5432/x?a=b" },
      { key: "API_KEY", value: "abc def" },
      { key: "GREETING", value: 'hi "you"' },
      { key: "EMPTY", value: "" },
    ]);
    expect(rejected).toEqual([]);
  });

  it("returns the lines it did not understand", () => {
    const { rows, rejected } = parseEnvLines("JUST_A_NAME\n=value\nTWO WORDS=x\nOK=1\r\n");
    expect(rows).toEqual([{ key: "OK", value: "1" }]);
    expect(rejected).toEqual(["JUST_A_NAME", "=value", "TWO WORDS=x"]);
  });
});

describe("rows and diffs", () => {
  it("merges pasted rows in place of the same names and appends new ones", () => {
    const merged = mergeRows(
      [
        { key: "A", value: "1" },
        { key: "B", value: "2" },
      ],
      [
        { key: "B", value: "two" },
        { key: "C", value: "3" },
      ],
    );
    expect(merged).toEqual([
      { key: "A", value: "1" },
      { key: "B", value: "two" },
      { key: "C", value: "3" },
    ]);
  });

  it("leaves unnamed rows out of the body and finds names typed twice", () => {
    const rows = [
      { key: " A ", value: "1" },
      { key: "", value: "orphan" },
      { key: "A", value: "2" },
    ];
    expect(rowsToEnv(rows)).toEqual({ A: "2" });
    expect(duplicateKeys(rows)).toEqual(["A"]);
  });

  it("says which names were added, changed and removed", () => {
    const d = diffEnv({ KEEP: "1", CHANGE: "old", DROP: "x" }, { KEEP: "1", CHANGE: "new", NEW: "y" });
    expect(d).toEqual({ added: ["NEW"], changed: ["CHANGE"], removed: ["DROP"] });
    expect(isEmptyDiff(d)).toBe(false);
    expect(isEmptyDiff(diffEnv({ A: "1" }, { A: "1" }))).toBe(true);
  });
});
