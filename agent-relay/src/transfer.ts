import { Readable } from "node:stream";
import { DisconnectedError } from "./errors.ts";
import type { Logger } from "./log.ts";
import {
  CreditGate,
  CreditLedger,
  decodeTransferFrame,
  encode,
  TRANSFER_CREDIT_UNIT,
  type TransferKind,
  TransferFrameWriter,
  type TransferMeta,
} from "./protocol.ts";

export interface TransferDeps {
  /** One JSON text frame to the relay; false when the socket is gone. */
  send(text: string): boolean;
  /**
   * One binary frame to the relay; false when the socket is gone. The bytes must be copied (or
   * written) before it returns: a download reuses one frame buffer (TransferFrameWriter).
   */
  sendBinary(frame: Uint8Array): boolean;
  log: Logger;
}

/** What a download op writes to (OpContext.download). */
export interface DownloadSink {
  /** Announces the download with what is known before the first byte (the engine answered); once. */
  start(meta?: TransferMeta): void;
  /**
   * Sends every byte of `source` as the relay's credit allows and resolves with the count. While
   * there is no credit it does not read `source`, so the engine's response stays in its socket.
   */
  send(source: AsyncIterable<Uint8Array | string>): Promise<number>;
}

class Download implements DownloadSink {
  readonly gate = new CreditGate();
  readonly id: string;
  readonly #deps: TransferDeps;
  readonly #signal: AbortSignal;
  #started = false;
  #sent = 0;

  constructor(id: string, deps: TransferDeps, signal: AbortSignal) {
    this.id = id;
    this.#deps = deps;
    this.#signal = signal;
  }

  get sent(): number {
    return this.#sent;
  }

  start(meta: TransferMeta = {}): void {
    if (this.#started) return;
    this.#started = true;
    if (!this.#deps.send(encode({ type: "transfer_start", id: this.id, meta }))) throw new DisconnectedError("the relay socket is closed");
  }

  async send(source: AsyncIterable<Uint8Array | string>): Promise<number> {
    this.start();
    // The engine's response comes in pieces of up to 64 KiB; they are gathered into frames of up
    // to TRANSFER_FRAME_MAX_BYTES, because each frame costs the relay a message event, which is
    // what bounded throughput. A frame goes out when it is full, when the credit taken for it is
    // all there is (nothing is held while waiting for credit), and at the end.
    const writer = new TransferFrameWriter(this.id);
    const flush = () => {
      if (writer.filled === 0) return;
      const size = writer.filled;
      if (!this.#deps.sendBinary(writer.take())) throw new DisconnectedError("the relay socket closed during the transfer");
      this.#sent += size;
    };
    for await (const piece of source) {
      let bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
      while (bytes.length > 0) {
        this.#signal.throwIfAborted();
        if (this.gate.available === 0) {
          flush();
          await this.gate.wait(this.#signal);
        }
        const size = this.gate.take(Math.min(bytes.length, writer.room));
        writer.append(bytes.subarray(0, size));
        bytes = bytes.subarray(size);
        if (writer.room === 0) flush();
      }
    }
    this.#signal.throwIfAborted();
    flush();
    return this.#sent;
  }
}

/** What an upload op reads (OpContext.upload): the bytes, and how many have arrived. */
export interface UploadSource extends Readable {
  readonly received: number;
}

/**
 * An upload's bytes as a Node Readable (what undici sends as a request body). Credit is granted
 * when the consumer asks for data (`_read`), so the relay sends no more than the engine takes.
 */
class Upload extends Readable implements UploadSource {
  readonly ledger = new CreditLedger();
  readonly id: string;
  readonly #deps: TransferDeps;
  #received = 0;

  constructor(id: string, deps: TransferDeps) {
    super({ highWaterMark: TRANSFER_CREDIT_UNIT });
    this.id = id;
    this.#deps = deps;
  }

  get received(): number {
    return this.#received;
  }

  override _read(): void {
    const grant = this.ledger.topUp();
    if (grant > 0) this.#deps.send(encode({ type: "transfer_credit", id: this.id, bytes: grant }));
  }

  frame(payload: Uint8Array): void {
    if (this.destroyed) return;
    if (!this.ledger.receive(payload.length)) {
      this.destroy(new Error(`the relay sent more than the credit granted for transfer ${this.id}`));
      return;
    }
    this.#received += payload.length;
    // Copied: the frame's buffer belongs to the socket's message.
    this.push(Buffer.from(payload));
  }

  eof(): void {
    if (!this.destroyed) this.push(null);
  }
}

/**
 * The agent's transfers in flight, by command id: the executor registers one for each transfer
 * op it runs and removes it when the op settles; the connection feeds them credit, frames and eof.
 */
export class Transfers {
  readonly #downloads = new Map<string, Download>();
  readonly #uploads = new Map<string, Upload>();
  readonly #deps: TransferDeps;

  constructor(deps: TransferDeps) {
    this.#deps = deps;
  }

  /** Transfers in flight (tests and status). */
  get open(): number {
    return this.#downloads.size + this.#uploads.size;
  }

  /** Registers a transfer for a command; `release` drops it (whatever its state). */
  register(id: string, kind: TransferKind, signal: AbortSignal): { download?: DownloadSink; upload?: UploadSource; release: () => void } {
    if (kind === "download") {
      const download = new Download(id, this.#deps, signal);
      this.#downloads.set(id, download);
      return { download, release: () => this.#downloads.delete(id) };
    }
    const upload = new Upload(id, this.#deps);
    this.#uploads.set(id, upload);
    const onAbort = () => upload.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    return {
      upload,
      release: () => {
        signal.removeEventListener("abort", onAbort);
        this.#uploads.delete(id);
        if (!upload.destroyed) upload.destroy();
      },
    };
  }

  /** `transfer_credit` from the relay: a download may send more. */
  credit(id: string, bytes: number): void {
    this.#downloads.get(id)?.gate.grant(bytes);
  }

  /** `transfer_eof` from the relay: an upload's body is complete. */
  eof(id: string): void {
    this.#uploads.get(id)?.eof();
  }

  /** A binary transfer frame from the relay: upload bytes. False when it was not a transfer frame. */
  frame(raw: Uint8Array): boolean {
    const frame = decodeTransferFrame(raw);
    if (!frame) return false;
    const upload = this.#uploads.get(frame.id);
    if (upload) upload.frame(frame.payload);
    else this.#deps.log.debug("transfer frame for no transfer dropped", { id: frame.id });
    return true;
  }
}
