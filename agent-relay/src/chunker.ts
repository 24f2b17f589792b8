import { withDefaults } from "./defaults.ts";
import { MAX_CHUNK_CHARS } from "./protocol.ts";

export type ChunkStream = "stdout" | "stderr" | undefined;

/**
 * Cuts text into pieces of at most `max` UTF-16 units without splitting a surrogate pair, so
 * every piece is valid text on its own.
 */
export function splitText(text: string, max = MAX_CHUNK_CHARS): string[] {
  if (max < 2) throw new RangeError("max must be at least 2");
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > max) {
    let end = start + max;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

export interface ChunkWriterOptions {
  /** Sends one chunk; returns false when the socket is gone. */
  send(data: string, seq: number, stream: ChunkStream): boolean;
  /** Bytes queued on the socket, for backpressure. */
  buffered(): number;
  signal: AbortSignal;
  /** Small writes are held this long so a chatty log becomes a few messages, not thousands. */
  flushMs?: number;
  /** Held text beyond this is sent at once. */
  coalesceChars?: number;
  /** Above this many queued bytes the writer waits for the socket to drain. */
  highWaterBytes?: number;
}

/**
 * Turns a stream of text pieces into numbered `chunk`s: coalesced, split under the message
 * limit, and slowed down when the socket cannot keep up (instead of buffering without bound).
 */
export class ChunkWriter {
  #seq = 0;
  #held = "";
  #heldStream: ChunkStream;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #o: Required<ChunkWriterOptions>;

  constructor(options: ChunkWriterOptions) {
    this.#o = withDefaults({ flushMs: 50, coalesceChars: 32 * 1024, highWaterBytes: 4 * 1024 * 1024 }, options);
  }

  get sent(): number {
    return this.#seq;
  }

  async write(text: string, stream?: ChunkStream): Promise<void> {
    if (text === "") return;
    if (this.#held && stream !== this.#heldStream) this.flush();
    this.#held += text;
    this.#heldStream = stream;
    if (this.#held.length >= this.#o.coalesceChars) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#o.flushMs);
    await this.#drain();
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#held) return;
    const text = this.#held;
    this.#held = "";
    for (const piece of splitText(text)) this.#o.send(piece, this.#seq++, this.#heldStream);
  }

  /** Drops held text (the command failed or was cancelled). */
  discard(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = "";
  }

  async #drain(): Promise<void> {
    while (this.#o.buffered() > this.#o.highWaterBytes && !this.#o.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
