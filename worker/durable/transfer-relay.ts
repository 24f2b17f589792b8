import {
  CreditGate,
  CreditLedger,
  decodeTransferFrame,
  encode,
  encodeTransferFrameOf,
  TRANSFER_CREDIT_UNIT,
  TRANSFER_FRAME_MAX_BYTES,
  type Result,
  type TransferMeta,
  type TransferStart,
} from "#protocol";
import { type CommandOutcome, failedOutcome as fail } from "../lib/relay.ts";
import { DOWNLOAD_READ_AHEAD_BYTES } from "../lib/transfer.ts";

/** What HostRelay.openDownload answers once the engine has: the bytes to come, and what is known of them. */
export interface OpenedDownload {
  ok: true;
  /** The transfer's id (its command's): HostRelay.cancelTransfer(id) stops it. */
  id: string;
  /** The agent's `transfer_start` metadata (e.g. the engine's headers, decoded). */
  meta: TransferMeta;
  /** The bytes; errors if the transfer fails after it started (the consumer then has a truncated body). */
  stream: ReadableStream<Uint8Array>;
}

export type DownloadOutcome = OpenedDownload | Extract<CommandOutcome, { ok: false }>;

interface Common {
  op: string;
  timer: ReturnType<typeof setTimeout>;
  ackTimer?: ReturnType<typeof setTimeout>;
}

interface DownloadState extends Common {
  kind: "download";
  ledger: CreditLedger;
  /** Until `transfer_start` (or the outcome) arrives: hands the caller its answer. */
  answer: (outcome: DownloadOutcome) => void;
  controller?: ReadableStreamDefaultController<Uint8Array>;
  /** A `pull` waiting for bytes. */
  wake?: () => void;
}

interface UploadState extends Common {
  kind: "upload";
  gate: CreditGate;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** What is left of the body's last chunk after the credit ran out. */
  leftover: Uint8Array | null;
  pumping: boolean;
  eofSent: boolean;
  settle: (outcome: CommandOutcome) => void;
}

type TransferState = DownloadState | UploadState;

export interface TransferStartOptions {
  id: string;
  op: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  /** Starts the wait for the agent's `ack` (HostRelay.awaitAck). */
  awaitAck: () => ReturnType<typeof setTimeout> | undefined;
}

/** A reply this long past its deadline is still waited for, to absorb clock and network skew. */
const DEADLINE_GRACE_MS = 1_000;

/**
 * The HostRelay's half of byte transfers (protocol/transfer.ts). Downloads become ReadableStreams
 * whose `pull` grants the agent credit, so the relay holds at most the stream's queue, one
 * window and the read-ahead of the stream that crosses to the Worker, whatever the size; uploads read the caller's body only as far as the agent's credit.
 * Transfers live in memory: an RPC waiting on one keeps the object awake.
 */
export class TransferRelay {
  readonly #transfers = new Map<string, TransferState>();

  constructor(private readonly agentSocket: () => WebSocket | undefined) {}

  get open(): number {
    return this.#transfers.size;
  }

  has(id: string): boolean {
    return this.#transfers.has(id);
  }

  download(socket: WebSocket, o: TransferStartOptions): Promise<DownloadOutcome> {
    return new Promise<DownloadOutcome>((answer) => {
      const state: DownloadState = {
        kind: "download",
        op: o.op,
        ledger: new CreditLedger(),
        answer,
        timer: this.#deadline(o),
      };
      this.#transfers.set(o.id, state);
      state.ackTimer = o.awaitAck();
      this.#sendCmd(socket, o);
    });
  }

  upload(socket: WebSocket, o: TransferStartOptions, body: ReadableStream<Uint8Array>): Promise<CommandOutcome> {
    return new Promise<CommandOutcome>((settle) => {
      const state: UploadState = {
        kind: "upload",
        op: o.op,
        gate: new CreditGate(),
        reader: body.getReader(),
        leftover: null,
        pumping: false,
        eofSent: false,
        settle,
        timer: this.#deadline(o),
      };
      this.#transfers.set(o.id, state);
      state.ackTimer = o.awaitAck();
      this.#sendCmd(socket, o);
    });
  }

  // ---- from the agent ---------------------------------------------------------------------

  onAck(id: string): boolean {
    const state = this.#transfers.get(id);
    if (!state) return false;
    clearTimeout(state.ackTimer);
    return true;
  }

  onStart(message: TransferStart): void {
    const state = this.#transfers.get(message.id);
    if (state?.kind !== "download" || state.controller) return;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          state.controller = controller;
        },
        // The consumer wants more: grant credit (at most a window outstanding), then wait for bytes.
        pull: () => {
          if (this.#transfers.get(message.id) !== state) return;
          // One unit a message (the first agents refuse a larger grant), as many as fit the window.
          for (let grant = state.ledger.topUp(); grant > 0; grant = state.ledger.topUp()) {
            this.#send(encode({ type: "transfer_credit", id: message.id, bytes: grant }));
          }
          return new Promise<void>((resolve) => {
            state.wake = resolve;
          });
        },
        cancel: () => this.cancel(message.id),
      },
      // Counted in bytes: the queue holds at most a unit, and `pull` (the only thing that grants
      // credit) is not called past it, so a download holds at most a unit and a window here.
      { highWaterMark: TRANSFER_CREDIT_UNIT, size: (chunk) => chunk.byteLength },
    );
    // What crosses the RPC boundary is a native stream that ours is piped into: workerd's pump of
    // a JavaScript stream returned over RPC leaves its rejection unhandled when the stream errors
    // (a failed or cancelled transfer logged "Uncaught (in promise)" here); this pipe's is ours.
    // Without a highWaterMark it holds nothing, so each piece waited for the Worker to take it.
    const crossing = new IdentityTransformStream({ highWaterMark: DOWNLOAD_READ_AHEAD_BYTES });
    stream.pipeTo(crossing.writable).catch(() => {});
    state.answer({ ok: true, id: message.id, meta: message.meta, stream: crossing.readable });
  }

  onCredit(id: string, bytes: number): void {
    const state = this.#transfers.get(id);
    if (state?.kind !== "upload") return;
    state.gate.grant(bytes);
    void this.#pump(id, state);
  }

  /** A binary transfer frame from the agent: download bytes. */
  onFrame(raw: Uint8Array): void {
    const frame = decodeTransferFrame(raw);
    if (!frame) return;
    const state = this.#transfers.get(frame.id);
    if (state?.kind !== "download" || !state.controller) {
      // Nobody reads it (cancelled, timed out): make sure the host stops.
      this.#sendCancel(frame.id);
      return;
    }
    if (!state.ledger.receive(frame.payload.length)) {
      this.#finish(frame.id, fail("internal", `The host's agent sent more than its credit for ${state.op}; the transfer was stopped.`));
      this.#sendCancel(frame.id);
      return;
    }
    // Copied: the frame's buffer belongs to the WebSocket message.
    state.controller.enqueue(frame.payload.slice());
    this.#wake(state);
  }

  /** The command's `result`; false when it is not a transfer's. */
  onResult(message: Result): boolean {
    if (!this.#transfers.has(message.id)) return false;
    this.#finish(
      message.id,
      message.ok ? { ok: true, data: message.data } : fail(message.error.code, message.error.message, message.error.status),
    );
    return true;
  }

  // ---- from the relay ---------------------------------------------------------------------

  /** Stops a transfer from this side (the consumer went away, the caller gave up). */
  cancel(id: string, why = "cancelled by the server"): void {
    if (!this.#transfers.has(id)) return;
    this.#sendCancel(id);
    this.#finish(id, fail("cancelled", why));
  }

  /** Ends one transfer with a failure (ack missed, time limit). */
  fail(id: string, code: string, message: string): void {
    if (!this.#transfers.has(id)) return;
    this.#finish(id, fail(code, message));
  }

  /** The agent's socket is gone: every transfer fails now. */
  failAll(code: string, message: string): void {
    for (const id of [...this.#transfers.keys()]) this.#finish(id, fail(code, message));
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * Sends the upload's body as far as the agent's credit reaches; the last piece is followed by
   * `transfer_eof`. The body arrives in pieces of a few KiB (4 KiB through `wrangler dev`: 15 600
   * frames for a 64 MB image); they are gathered into frames of up to TRANSFER_FRAME_MAX_BYTES,
   * because each frame costs both ends a message event, which is what bounded a load's throughput.
   */
  async #pump(id: string, state: UploadState): Promise<void> {
    if (state.pumping) return;
    state.pumping = true;
    try {
      while (this.#transfers.get(id) === state && !state.eofSent && state.gate.available > 0) {
        const want = Math.min(state.gate.available, TRANSFER_FRAME_MAX_BYTES);
        const pieces: Uint8Array[] = [];
        let size = 0;
        let done = false;
        while (size < want) {
          if (!state.leftover) {
            const next = await state.reader.read();
            if (this.#transfers.get(id) !== state) return;
            if (next.done) {
              done = true;
              break;
            }
            state.leftover = next.value;
          }
          const take = Math.min(state.leftover.length, want - size);
          pieces.push(state.leftover.subarray(0, take));
          size += take;
          state.leftover = take < state.leftover.length ? state.leftover.subarray(take) : null;
        }
        if (size > 0) {
          state.gate.take(size);
          this.#send(encodeTransferFrameOf(id, pieces));
        }
        if (done) {
          state.eofSent = true;
          this.#send(encode({ type: "transfer_eof", id }));
          return;
        }
      }
    } catch (error) {
      // The caller's body failed (its client went away, a size limit): the host must stop too.
      this.#sendCancel(id);
      this.#finish(id, fail("upload_failed", `The upload's body failed: ${error instanceof Error ? error.message : String(error)}`));
    } finally {
      state.pumping = false;
    }
  }

  #finish(id: string, outcome: CommandOutcome): void {
    const state = this.#transfers.get(id);
    if (!state) return;
    this.#transfers.delete(id);
    clearTimeout(state.timer);
    clearTimeout(state.ackTimer);
    if (state.kind === "upload") {
      if (!state.eofSent) state.reader.cancel().catch(() => {});
      state.settle(outcome);
      return;
    }
    if (!state.controller) {
      // Before `transfer_start`: the caller has not got a stream yet; a success with no bytes is an empty one.
      state.answer(outcome.ok ? { ok: true, id, meta: {}, stream: new Blob([]).stream() } : outcome);
      return;
    }
    try {
      if (outcome.ok) state.controller.close();
      else state.controller.error(new Error(outcome.error.message));
    } catch {
      // the reader cancelled already
    }
    this.#wake(state);
  }

  #wake(state: DownloadState): void {
    const wake = state.wake;
    state.wake = undefined;
    wake?.();
  }

  #deadline(o: TransferStartOptions): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      this.#sendCancel(o.id);
      this.fail(o.id, "timeout", `The transfer (${o.op}) did not finish within ${Math.round(o.timeoutMs / 1000)} s.`);
    }, o.timeoutMs + DEADLINE_GRACE_MS);
  }

  #sendCmd(socket: WebSocket, o: TransferStartOptions): void {
    try {
      socket.send(encode({ type: "cmd", id: o.id, op: o.op, args: o.args, deadline: Date.now() + o.timeoutMs }));
    } catch (err) {
      this.#finish(o.id, fail("agent_disconnected", `Could not send to the host's agent: ${String(err)}.`));
    }
  }

  #sendCancel(id: string): void {
    this.#send(encode({ type: "cancel", id }));
  }

  #send(frame: string | Uint8Array): void {
    try {
      this.agentSocket()?.send(frame);
    } catch {
      // the socket is gone; failAll follows
    }
  }
}
