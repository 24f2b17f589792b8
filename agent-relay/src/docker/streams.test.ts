import { describe, expect, it } from "vitest";
import { JsonLinesParser, LineSplitter, MultiplexedStreamDemuxer, type Frame } from "./streams.ts";

function frame(kind: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(4, payload.length, false);
  out.set(payload, 8);
  return out;
}

const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
};

const texts = (frames: Frame[]) => frames.map((f) => [f.stream, new TextDecoder().decode(f.payload)]);

describe("MultiplexedStreamDemuxer", () => {
  it("splits frames that arrive together", () => {
    const demuxer = new MultiplexedStreamDemuxer();
    const frames = demuxer.push(join(frame(1, "out\n"), frame(2, "err\n"), frame(1, "")));
    expect(texts(frames)).toEqual([
      ["stdout", "out\n"],
      ["stderr", "err\n"],
      ["stdout", ""],
    ]);
    expect(demuxer.pendingBytes).toBe(0);
  });

  it("reassembles frames cut at every possible byte, headers included", () => {
    const stream = join(frame(1, "hello "), frame(2, "wörld\n"), frame(1, "x".repeat(300)));
    for (let cut = 1; cut < stream.length; cut++) {
      const demuxer = new MultiplexedStreamDemuxer();
      const frames = [...demuxer.push(stream.subarray(0, cut)), ...demuxer.push(stream.subarray(cut))];
      expect(texts(frames)).toEqual([
        ["stdout", "hello "],
        ["stderr", "wörld\n"],
        ["stdout", "x".repeat(300)],
      ]);
    }
  });

  it("handles a stream delivered one byte at a time", () => {
    const stream = join(frame(2, "a"), frame(1, "bc"));
    const demuxer = new MultiplexedStreamDemuxer();
    const frames: Frame[] = [];
    for (const byte of stream) frames.push(...demuxer.push(Uint8Array.of(byte)));
    expect(texts(frames)).toEqual([
      ["stderr", "a"],
      ["stdout", "bc"],
    ]);
  });

  it("holds an unfinished frame and reports it", () => {
    const demuxer = new MultiplexedStreamDemuxer();
    expect(demuxer.push(frame(1, "abcdef").subarray(0, 10))).toEqual([]);
    expect(demuxer.pendingBytes).toBe(10);
  });

  it("rejects bytes that are not a multiplexed stream", () => {
    expect(() => new MultiplexedStreamDemuxer().push(new TextEncoder().encode("plain tty output"))).toThrow(
      /not a multiplexed Docker stream/,
    );
  });
});

describe("LineSplitter", () => {
  it("keeps a partial line until its newline arrives and strips CR", () => {
    const lines = new LineSplitter();
    expect(lines.push("one\r\ntw")).toEqual(["one"]);
    expect(lines.push("o\nthree")).toEqual(["two"]);
    expect(lines.end()).toEqual(["three"]);
    expect(lines.end()).toEqual([]);
  });
});

describe("JsonLinesParser", () => {
  it("parses documents split across pieces, including inside a multi-byte character", () => {
    const bytes = new TextEncoder().encode('{"status":"Pulling é"}\n\n{"n":2}\n{"n":3}');
    const cutInsideE = bytes.indexOf(0xc3) + 1;
    const parser = new JsonLinesParser();
    const values = [
      ...parser.push(bytes.subarray(0, 5)),
      ...parser.push(bytes.subarray(5, cutInsideE)),
      ...parser.push(bytes.subarray(cutInsideE)),
      ...parser.end(),
    ];
    expect(values).toEqual([{ status: "Pulling é" }, { n: 2 }, { n: 3 }]);
  });

  it("accepts strings and reports a broken line", () => {
    const parser = new JsonLinesParser();
    expect(parser.push('{"a":1}\n{"b"')).toEqual([{ a: 1 }]);
    expect(() => parser.push(":oops}\n")).toThrow(/invalid JSON line/);
  });
});
