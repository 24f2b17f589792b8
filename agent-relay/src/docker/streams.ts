/**
 * Pure parsers for the two stream formats of the Docker Engine API. They take bytes in whatever
 * pieces the socket delivers and never assume a frame or a line arrives whole.
 */

export type StdStream = "stdin" | "stdout" | "stderr";

export interface Frame {
  stream: StdStream;
  payload: Uint8Array;
}

const STREAMS: Record<number, StdStream> = { 0: "stdin", 1: "stdout", 2: "stderr" };
const HEADER_BYTES = 8;

/**
 * Splits the multiplexed stream of a container without a TTY (logs, attach, exec output). Each
 * frame is an 8-byte header — stream type (0 stdin, 1 stdout, 2 stderr), three zero bytes, a
 * big-endian uint32 payload size — then the payload.
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerAttach
 */
export class MultiplexedStreamDemuxer {
  #pending: Uint8Array = new Uint8Array(0);

  /** Returns every frame completed by this piece; a partial frame waits for the next. */
  push(piece: Uint8Array): Frame[] {
    const data = this.#pending.length === 0 ? piece : concat(this.#pending, piece);
    const frames: Frame[] = [];
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const kind = data[offset]!;
      const stream = STREAMS[kind];
      if (stream === undefined) {
        throw new Error(`not a multiplexed Docker stream: frame type byte ${kind} at offset ${offset}`);
      }
      const size = new DataView(data.buffer, data.byteOffset + offset + 4, 4).getUint32(0, false);
      if (data.length - offset - HEADER_BYTES < size) break;
      const start = offset + HEADER_BYTES;
      frames.push({ stream, payload: data.slice(start, start + size) });
      offset = start + size;
    }
    this.#pending = data.slice(offset);
    return frames;
  }

  /** Bytes of an unfinished frame still held; non-zero at the end means the stream was cut. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}

/** Splits text into lines across pieces; a line is handed out once its "\n" has arrived. */
export class LineSplitter {
  #rest = "";

  push(text: string): string[] {
    const joined = this.#rest + text;
    const lines = joined.split("\n");
    this.#rest = lines.pop()!;
    return lines.map(stripCr);
  }

  /** The last line when the stream ended without a newline, else nothing. */
  end(): string[] {
    const rest = this.#rest;
    this.#rest = "";
    return rest === "" ? [] : [stripCr(rest)];
  }
}

const stripCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

/**
 * Parses newline-delimited JSON (`/events`, `stats?stream=true`, `images/create` progress). Bytes
 * go through one streaming decoder so a multi-byte character split between pieces survives.
 */
export class JsonLinesParser {
  #decoder = new TextDecoder("utf-8");
  #lines = new LineSplitter();

  push(piece: Uint8Array | string): unknown[] {
    const text = typeof piece === "string" ? piece : this.#decoder.decode(piece, { stream: true });
    return parseLines(this.#lines.push(text));
  }

  end(): unknown[] {
    return parseLines(this.#lines.push(this.#decoder.decode()).concat(this.#lines.end()));
  }
}

function parseLines(lines: string[]): unknown[] {
  const values: unknown[] = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      throw new SyntaxError(`invalid JSON line from Docker: ${line.slice(0, 200)}`);
    }
  }
  return values;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
