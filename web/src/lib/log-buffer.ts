// The log viewer's store: a bounded ring of lines that a stream appends to many times a second.
// Appends are O(1) and never copy the whole log, so a chatty container cannot freeze the page;
// the viewer renders only the lines in view (virtualized) and asks for a snapshot when it paints.

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  /** Monotonic across the buffer's life: a stable key even after old lines are dropped. */
  seq: number;
  stream: LogStream;
  /** Docker's RFC 3339 timestamp when the stream had one, else null. */
  time: string | null;
  text: string;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) /;

/** Splits Docker's `timestamps=1` prefix off a line. */
export function splitTimestamp(text: string): { time: string | null; text: string } {
  const m = TIMESTAMP.exec(text);
  return m ? { time: m[1]!, text: text.slice(m[0].length) } : { time: null, text };
}

export class LogBuffer {
  private lines: LogLine[] = [];
  private start = 0;
  private nextSeq = 0;
  /** Per stream, the seq of its last line when `write` left it without its newline. */
  private open: Partial<Record<LogStream, number>> = {};
  /** Bumped on every change: a cheap "did anything change" for the renderer. */
  version = 0;

  constructor(readonly capacity = 100_000) {}

  get size(): number {
    return this.lines.length - this.start;
  }

  /** Lines dropped from the front because the buffer was full. */
  get dropped(): number {
    return this.nextSeq - this.size;
  }

  /** Appends a chunk; a chunk may hold several lines (split on \n; a trailing \r is dropped). */
  append(stream: LogStream, chunk: string, parseTimestamps = false): void {
    const parts = chunk.split("\n");
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    for (const raw of parts) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      const { time, text } = parseTimestamps ? splitTimestamp(line) : { time: null, text: line };
      this.lines.push({ seq: this.nextSeq++, stream, time, text });
    }
    if (this.size > this.capacity) this.start = this.lines.length - this.capacity;
    // Compact rarely: the array is sliced only once the dead prefix is as large as the live part.
    if (this.start > this.capacity) {
      this.lines = this.lines.slice(this.start);
      this.start = 0;
    }
    this.version++;
  }

  /**
   * Appends output that arrives in pieces cut anywhere (a deployment's build log): a piece that
   * does not end with a newline leaves its last line open, and the stream's next piece continues
   * it instead of starting a line of its own.
   */
  write(stream: LogStream, chunk: string): void {
    if (chunk === "") return;
    let rest = chunk;
    const openSeq = this.open[stream];
    delete this.open[stream];
    const index = openSeq === undefined ? -1 : openSeq - (this.nextSeq - this.lines.length);
    if (index >= this.start) {
      const newline = rest.indexOf("\n");
      const head = newline === -1 ? rest : rest.slice(0, newline);
      const line = this.lines[index]!;
      const text = line.text + head;
      this.lines[index] = { ...line, text: newline === -1 ? text : text.replace(/\r$/, "") };
      if (newline === -1) {
        this.open[stream] = line.seq;
        this.version++;
        return;
      }
      rest = rest.slice(newline + 1);
      if (rest === "") {
        this.version++;
        return;
      }
    }
    this.append(stream, rest);
    if (!rest.endsWith("\n")) this.open[stream] = this.nextSeq - 1;
  }

  clear(): void {
    this.lines = [];
    this.start = 0;
    this.open = {};
    this.version++;
  }

  at(index: number): LogLine | undefined {
    return this.lines[this.start + index];
  }

  /** The indexes (into the live lines) of those matching `query`, case-insensitively, and `streams`. */
  filter(query: string, streams: ReadonlySet<LogStream>): number[] {
    const q = query.toLowerCase();
    const out: number[] = [];
    for (let i = this.start; i < this.lines.length; i++) {
      const line = this.lines[i]!;
      if (!streams.has(line.stream)) continue;
      if (q && !line.text.toLowerCase().includes(q)) continue;
      out.push(i - this.start);
    }
    return out;
  }

  /** The whole log as text, for download. */
  toText(withTime: boolean): string {
    let out = "";
    for (let i = this.start; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      out += `${withTime && l.time ? `${l.time} ` : ""}${l.text}\n`;
    }
    return out;
  }
}
