import { nowIso } from "../lib/time.ts";

/**
 * A running deployment's output pipeline: secrets scrubbed (also when split across chunks),
 * buffered for 250 ms, cut into pieces of at most 64 KiB, numbered, then stored and handed to
 * followers by the DeployQueue's hooks. Pieces are appended, never rewritten, so a reader resumes
 * with `after=seq`.
 */

export type OutputStream = "stdout" | "stderr" | "system";

/** One stored piece of output, as followers receive it. */
export interface OutputPiece {
  seq: number;
  stream: OutputStream;
  data: string;
  at: string;
}

const FLUSH_MS = 250;
/** One stored piece of output at most this long; longer output is several pieces. */
const PIECE_CHARS = 64 * 1024;
/** Shorter values are not scrubbed, so that `1` or `true` are not hidden everywhere. */
export const MIN_SECRET_CHARS = 6;

/** Replaces secret values (6+ characters) with ***, longest first. */
export function scrubber(secrets: string[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_CHARS))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => list.reduce((out, secret) => out.split(secret).join("***"), text);
}

export class DeployOutput {
  /** The next piece's number (the queued line is 0). */
  private seq: number;
  private buffer: Array<{ stream: OutputStream; data: string }> = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private flushing: Promise<void> = Promise.resolve();
  private scrub: (text: string) => string = (t) => t;
  /** Characters held back per stream: a secret may be split across chunks (longest secret − 1). */
  private hold = 0;
  private carry: Partial<Record<"stdout" | "stderr", string>> = {};

  constructor(
    firstSeq: number,
    /** Stores pieces (appended); a failure is logged, never thrown into the deployment. */
    private readonly store: (pieces: OutputPiece[]) => Promise<void>,
    /** Hands stored pieces to followers. */
    private readonly publish: (pieces: OutputPiece[]) => void,
  ) {
    this.seq = firstSeq;
  }

  /** From now on these values never leave the pipeline. */
  setSecrets(secrets: string[]): void {
    this.scrub = scrubber(secrets);
    this.hold = Math.max(0, ...secrets.filter((x) => x.length >= MIN_SECRET_CHARS).map((x) => x.length - 1));
  }

  /** Scrubs text with the current secrets (for an error message shown as is). */
  scrubText(text: string): string {
    return this.scrub(text);
  }

  write(stream: OutputStream, text: string): void {
    if (text === "") return;
    if (stream === "system") {
      // Pier's own lines come whole; what the host printed before them goes first.
      this.releaseCarry();
      this.buffer.push({ stream, data: this.scrub(text) });
    } else {
      // Scrub what came before together with this chunk, and hold back a tail that could be the
      // start of a secret the next chunk completes: a secret split across chunks is still caught.
      const scrubbed = this.scrub((this.carry[stream] ?? "") + text);
      const cut = Math.max(0, scrubbed.length - this.hold);
      this.carry[stream] = scrubbed.slice(cut);
      if (cut > 0) this.buffer.push({ stream, data: scrubbed.slice(0, cut) });
    }
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Stores buffered output as pieces and hands them to followers; resolves once they are stored. */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      const taken = this.buffer.splice(0);
      if (taken.length === 0) return;
      const merged: Array<{ stream: OutputStream; data: string }> = [];
      for (const item of taken) {
        const last = merged.at(-1);
        if (last && last.stream === item.stream && last.data.length + item.data.length <= PIECE_CHARS) last.data += item.data;
        else
          for (let i = 0; i < item.data.length; i += PIECE_CHARS)
            merged.push({ stream: item.stream, data: item.data.slice(i, i + PIECE_CHARS) });
      }
      const at = nowIso();
      const pieces = merged.map((p) => ({ seq: this.seq++, stream: p.stream, data: p.data, at }));
      await this.store(pieces);
      this.publish(pieces);
    });
    return this.flushing;
  }

  /** Releases the held-back tails, at the end of a step or before Pier's own lines. */
  private releaseCarry(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.carry[stream];
      if (rest) this.buffer.push({ stream, data: rest });
    }
    this.carry = {};
  }
}
