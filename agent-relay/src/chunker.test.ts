import { describe, expect, it } from "vitest";
import { ChunkWriter, splitText } from "./chunker.ts";

describe("splitText", () => {
  it("keeps short text whole, including empty text", () => {
    expect(splitText("abc", 10)).toEqual(["abc"]);
    expect(splitText("", 10)).toEqual([""]);
  });

  it("cuts long text into pieces no longer than max", () => {
    expect(splitText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(splitText("abcdefgh", 4)).toEqual(["abcd", "efgh"]);
  });

  it("never splits a surrogate pair", () => {
    const text = "abc😀def"; // the emoji is two UTF-16 units at index 3 and 4
    const pieces = splitText(text, 4);
    expect(pieces).toEqual(["abc", "😀de", "f"]);
    expect(pieces.join("")).toBe(text);
  });
});

describe("ChunkWriter", () => {
  const collect = () => {
    const sent: Array<[number, string, string | undefined]> = [];
    const writer = new ChunkWriter({
      send: (data, seq, stream) => sent.push([seq, data, stream]) > 0,
      buffered: () => 0,
      signal: new AbortController().signal,
      flushMs: 10_000,
      coalesceChars: 8,
    });
    return { sent, writer };
  };

  it("coalesces small writes of one stream and numbers chunks from 0", async () => {
    const { sent, writer } = collect();
    await writer.write("ab", "stdout");
    await writer.write("cd", "stdout");
    expect(sent).toEqual([]);
    writer.flush();
    expect(sent).toEqual([[0, "abcd", "stdout"]]);
  });

  it("flushes when the stream changes and when enough is held", async () => {
    const { sent, writer } = collect();
    await writer.write("out", "stdout");
    await writer.write("err", "stderr");
    await writer.write("0123456789", "stderr");
    expect(sent).toEqual([
      [0, "out", "stdout"],
      [1, "err0123456789", "stderr"],
    ]);
    expect(writer.sent).toBe(2);
  });
});
