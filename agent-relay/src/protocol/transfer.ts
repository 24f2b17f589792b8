import * as z from "zod/mini";
import { PROTOCOL_VERSION } from "./version.ts";

/**
 * Byte transfers through the relay: a tar (an image, a container's files, a backup) moved between
 * the Worker and the Docker engine of a host, of any size, with memory bounded at every hop.
 *
 * A transfer is an operation of the OPS table whose spec says `transfer: "download"` (agent →
 * Worker) or `transfer: "upload"` (Worker → agent). It starts with the usual `cmd` (acked, with
 * its deadline) and ends with the usual `result` (its outcome, or the error); in between:
 *
 * - **download**: the agent sends `transfer_start` (with metadata, e.g. the engine's headers) once
 *   the engine has answered, then the bytes in binary frames (`encodeTransferFrame`), never more
 *   than the credit the relay granted with `transfer_credit`. The relay grants credit as its
 *   consumer reads (the ReadableStream's `pull`), so a slow reader stops the agent, and the agent
 *   stops reading the engine's response (TCP backpressure up to dockerd). A cancelled reader
 *   sends `cancel`, which aborts the engine call.
 * - **upload**: the agent grants credit with `transfer_credit` as the engine consumes the request
 *   body; the relay sends that many bytes of the Worker's body in binary frames, then
 *   `transfer_eof`. A body that fails on the Worker's side is a `cancel`.
 *
 * Binary frames share the agent's socket with the terminal's; a transfer frame starts with a zero
 * byte, which a terminal frame (whose first byte is its channel id's length, 1–64) never does:
 * `[0x00][1 byte: id length][id, ASCII][payload]`.
 */

/**
 * Credit is granted in units of this many bytes. One grant stays at most 512 KiB, the window of
 * the first agents, whose schema refuses a larger one; they take any number of grants.
 */
export const TRANSFER_CREDIT_UNIT = 512 * 1024;
/**
 * At most this much credit is outstanding (granted and not yet used) at any time, either way. It
 * bounds the bytes in flight, so it bounds throughput to a window per round trip, and it is what
 * a transfer may hold in memory on either end. With 2 MiB a 64 MB save's agent waited for credit
 * 67–71% of its time on a loaded machine (the relay's consumer is a chain of processes, each
 * scheduled late under load), with 8 MiB 40–50%; a 256 MB save still grows the agent by about
 * what a 64 MB one does (test/e2e/image-transfers-memory.test.ts).
 */
export const TRANSFER_WINDOW_BYTES = 16 * TRANSFER_CREDIT_UNIT;
/**
 * Largest payload of one binary frame. Each frame is a message event for the relay's Durable
 * Object (and one for the agent), which is what bounded throughput at 64 KiB frames: a 64 MB
 * load went as 15 600 frames of 4 KiB (the pieces a request body arrives in). Frames are gathered
 * up to this size by whoever sends; the first agents send frames of at most 64 KiB, which the
 * relay takes as they come. Well under workerd's 1 MiB message limit.
 */
export const TRANSFER_FRAME_MAX_BYTES = TRANSFER_CREDIT_UNIT;

export const TRANSFER_KINDS = ["download", "upload"] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

const v = z.literal(PROTOCOL_VERSION);
/** A transfer's id is its command's id; ASCII, so that it fits the frame header. */
const transferId = z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/, "transfer ids are 1–128 printable ASCII characters"));

/** What the agent knows about a download before its first byte: the engine's headers, decoded. */
export const TransferMetaSchema = z.record(z.string(), z.unknown());
export type TransferMeta = z.infer<typeof TransferMetaSchema>;

/** Agent → relay: the engine answered; bytes follow. */
export const TransferStartSchema = z.object({ v, type: z.literal("transfer_start"), id: transferId, meta: TransferMetaSchema });

/** Either way: the receiver may take `bytes` more bytes of this transfer. */
export const TransferCreditSchema = z.object({
  v,
  type: z.literal("transfer_credit"),
  id: transferId,
  bytes: z.number().check(z.int(), z.positive(), z.lte(TRANSFER_WINDOW_BYTES)),
});

/** Relay → agent: the upload's body is complete. */
export const TransferEofSchema = z.object({ v, type: z.literal("transfer_eof"), id: transferId });

export const TransferAgentMessages = [TransferStartSchema, TransferCreditSchema] as const;
export const TransferServerMessages = [TransferCreditSchema, TransferEofSchema] as const;

export type TransferStart = z.infer<typeof TransferStartSchema>;
export type TransferCredit = z.infer<typeof TransferCreditSchema>;
export type TransferEof = z.infer<typeof TransferEofSchema>;

// ---- binary frames ----

const ascii = new TextEncoder();
const asciiDecoder = new TextDecoder();

export function isTransferFrame(frame: Uint8Array): boolean {
  return frame.length >= 2 && frame[0] === 0;
}

/** `[0][len][id][payload]`: a piece of one transfer on the agent's socket. */
export function encodeTransferFrame(id: string, payload: Uint8Array): Uint8Array {
  return encodeTransferFrameOf(id, [payload]);
}

/** `encodeTransferFrame` of several pieces, concatenated in the frame (no copy before it). */
export function encodeTransferFrameOf(id: string, pieces: readonly Uint8Array[]): Uint8Array {
  const header = ascii.encode(id);
  if (header.length === 0 || header.length > 255) throw new Error(`transfer id must be 1–255 bytes, got ${header.length}`);
  const size = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (size > TRANSFER_FRAME_MAX_BYTES) throw new Error(`transfer frame payload over ${TRANSFER_FRAME_MAX_BYTES} bytes`);
  const frame = new Uint8Array(2 + header.length + size);
  frame[1] = header.length;
  frame.set(header, 2);
  let at = 2 + header.length;
  for (const piece of pieces) {
    frame.set(piece, at);
    at += piece.length;
  }
  return frame;
}

/**
 * `encodeTransferFrame` into one buffer per transfer, reused for every frame: the bytes of a frame
 * are gathered with `append` and `take` gives the frame, a view valid until the next `append`. For a sender whose `send` copies the bytes before it returns (undici's
 * WebSocket masks each frame into a buffer of its own, synchronously), so a download allocates
 * nothing per frame here; the bytes in flight stay those of the credit window.
 */
export class TransferFrameWriter {
  readonly #frame: Uint8Array;
  readonly #headerLength: number;
  #filled = 0;

  constructor(id: string) {
    const header = ascii.encode(id);
    if (header.length === 0 || header.length > 255) throw new Error(`transfer id must be 1–255 bytes, got ${header.length}`);
    this.#headerLength = 2 + header.length;
    this.#frame = new Uint8Array(this.#headerLength + TRANSFER_FRAME_MAX_BYTES);
    this.#frame[1] = header.length;
    this.#frame.set(header, 2);
  }

  /** Payload bytes gathered for the next frame. */
  get filled(): number {
    return this.#filled;
  }

  /** Payload bytes the next frame can still take. */
  get room(): number {
    return TRANSFER_FRAME_MAX_BYTES - this.#filled;
  }

  /** Adds bytes to the next frame (at most `room`). */
  append(payload: Uint8Array): void {
    if (payload.length > this.room) throw new Error(`transfer frame payload over ${TRANSFER_FRAME_MAX_BYTES} bytes`);
    this.#frame.set(payload, this.#headerLength + this.#filled);
    this.#filled += payload.length;
  }

  /** The frame of what was appended; the writer starts the next one empty. */
  take(): Uint8Array {
    const frame = this.#frame.subarray(0, this.#headerLength + this.#filled);
    this.#filled = 0;
    return frame;
  }

  /** One frame of exactly `payload` (nothing appended may be pending). */
  frame(payload: Uint8Array): Uint8Array {
    if (this.#filled !== 0) throw new Error("a frame is being gathered");
    this.append(payload);
    return this.take();
  }
}

/** The inverse of `encodeTransferFrame`; null for anything else (a terminal frame, a short frame). */
export function decodeTransferFrame(frame: Uint8Array): { id: string; payload: Uint8Array } | null {
  if (!isTransferFrame(frame)) return null;
  const length = frame[1] as number;
  if (length === 0 || frame.length < 2 + length) return null;
  return { id: asciiDecoder.decode(frame.subarray(2, 2 + length)), payload: frame.subarray(2 + length) };
}

/**
 * The sender's side of the credit rule, shared by both ends: how much may go now, and the
 * bookkeeping when it has gone. A sender that would exceed its credit waits for more.
 */
export class CreditGate {
  #credit = 0;
  #waiters: Array<() => void> = [];

  get available(): number {
    return this.#credit;
  }

  grant(bytes: number): void {
    this.#credit += bytes;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Takes up to `wanted` bytes of credit (at least 1 when any is left); 0 when there is none. */
  take(wanted: number): number {
    const taken = Math.min(wanted, this.#credit);
    this.#credit -= taken;
    return taken;
  }

  /** Resolves once credit is available, or rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.#credit > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error("aborted"));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}

/**
 * The receiver's side: grants credit a unit at a time while a whole unit fits under the window, so
 * the window stays nearly full while the reader keeps up, at most `TRANSFER_WINDOW_BYTES` are ever
 * on their way, and bytes it did not grant are refused.
 */
export class CreditLedger {
  #outstanding = 0;

  get outstanding(): number {
    return this.#outstanding;
  }

  /** The credit to grant now (0: enough is outstanding already). */
  topUp(): number {
    if (TRANSFER_WINDOW_BYTES - this.#outstanding < TRANSFER_CREDIT_UNIT) return 0;
    this.#outstanding += TRANSFER_CREDIT_UNIT;
    return TRANSFER_CREDIT_UNIT;
  }

  /** Counts bytes received; false when the sender went past its credit (a protocol error). */
  receive(bytes: number): boolean {
    if (bytes > this.#outstanding) return false;
    this.#outstanding -= bytes;
    return true;
  }
}
