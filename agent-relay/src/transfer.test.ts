import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.ts";
import {
  CreditGate,
  CreditLedger,
  decodeTerminalFrame,
  decodeTransferFrame,
  encodeTerminalFrame,
  encodeTransferFrame,
  parseAgentMessage,
  parseServerMessage,
  TRANSFER_CREDIT_UNIT,
  TRANSFER_FRAME_MAX_BYTES,
  TRANSFER_WINDOW_BYTES,
} from "./protocol.ts";
import { Transfers } from "./transfer.ts";

function harness() {
  const texts: Array<Record<string, unknown>> = [];
  const frames: Uint8Array[] = [];
  const transfers = new Transfers({
    send: (text) => (texts.push(JSON.parse(text)), true),
    // Copied, as the WebSocket does: a download reuses its frame buffer.
    sendBinary: (frame) => (frames.push(frame.slice()), true),
    log: createLogger({ level: "error", sink: () => {} }),
  });
  return { transfers, texts, frames };
}

describe("transfer frames", () => {
  it("carry an id and any bytes, and never read as a terminal frame (or the reverse)", () => {
    const frame = encodeTransferFrame("abc-1", new Uint8Array([0, 1, 255]));
    expect(frame[0]).toBe(0);
    expect(decodeTransferFrame(frame)).toEqual({ id: "abc-1", payload: new Uint8Array([0, 1, 255]) });
    expect(decodeTerminalFrame(frame)).toBeNull();
    expect(decodeTransferFrame(encodeTerminalFrame("abc-1", new Uint8Array([1])))).toBeNull();
    expect(decodeTransferFrame(new Uint8Array([0]))).toBeNull();
    expect(decodeTransferFrame(new Uint8Array([0, 5, 97]))).toBeNull();
    expect(() => encodeTransferFrame("x", new Uint8Array(TRANSFER_FRAME_MAX_BYTES + 1))).toThrow();
  });

  it("control messages are validated like every other relay message", () => {
    expect(parseAgentMessage('{"v":1,"type":"transfer_start","id":"a","meta":{"stat":{"size":1}}}').ok).toBe(true);
    expect(parseAgentMessage(`{"v":1,"type":"transfer_credit","id":"a","bytes":${TRANSFER_CREDIT_UNIT}}`).ok).toBe(true);
    expect(parseServerMessage(`{"v":1,"type":"transfer_credit","id":"a","bytes":${TRANSFER_WINDOW_BYTES + 1}}`).ok).toBe(false);
    expect(parseServerMessage('{"v":1,"type":"transfer_credit","id":"a","bytes":0}').ok).toBe(false);
    expect(parseServerMessage('{"v":1,"type":"transfer_eof","id":"a b"}').ok).toBe(false);
  });
});

describe("credit", () => {
  it("a ledger keeps at most a window outstanding and refuses bytes it did not grant", () => {
    const ledger = new CreditLedger();
    const units = TRANSFER_WINDOW_BYTES / TRANSFER_CREDIT_UNIT;
    expect(units).toBeGreaterThan(1);
    // Unit by unit up to the window, then nothing until a whole unit has been used.
    for (let i = 0; i < units; i++) expect(ledger.topUp()).toBe(TRANSFER_CREDIT_UNIT);
    expect(ledger.topUp()).toBe(0);
    expect(ledger.outstanding).toBe(TRANSFER_WINDOW_BYTES);
    expect(ledger.receive(TRANSFER_CREDIT_UNIT - 1)).toBe(true);
    expect(ledger.topUp()).toBe(0);
    expect(ledger.receive(1)).toBe(true);
    expect(ledger.topUp()).toBe(TRANSFER_CREDIT_UNIT);
    expect(ledger.outstanding).toBe(TRANSFER_WINDOW_BYTES);
    expect(ledger.receive(TRANSFER_WINDOW_BYTES + 1)).toBe(false);
  });

  it("a gate lets through what was granted and waits (or aborts) for more", async () => {
    const gate = new CreditGate();
    expect(gate.take(10)).toBe(0);
    const waiting = gate.wait();
    gate.grant(5);
    await waiting;
    expect(gate.take(10)).toBe(5);
    const controller = new AbortController();
    const aborted = gate.wait(controller.signal);
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
  });
});

describe("Transfers", () => {
  it("a download sends no byte beyond its credit and stops reading its source meanwhile", async () => {
    const { transfers, texts, frames } = harness();
    const controller = new AbortController();
    const { download, release } = transfers.register("d1", "download", controller.signal);
    let read = 0;
    const total = 3 * TRANSFER_CREDIT_UNIT;
    const source = Readable.from(
      (function* () {
        for (let at = 0; at < total; at += 16 * 1024) {
          read += 16 * 1024;
          yield new Uint8Array(16 * 1024).fill(at % 251);
        }
      })(),
    );
    const sending = download!.send(source);
    await new Promise((resolve) => setImmediate(resolve));
    expect(texts[0]).toMatchObject({ type: "transfer_start", id: "d1" });
    expect(frames.length).toBe(0);
    transfers.credit("d1", 100_000);
    await new Promise((resolve) => setImmediate(resolve));
    const sent = () => frames.reduce((sum, f) => sum + (decodeTransferFrame(f)?.payload.length ?? 0), 0);
    expect(sent()).toBe(100_000);
    // The source was read only a little past the credit (one piece, plus the stream's small buffer).
    expect(read).toBeLessThan(100_000 + 64 * 1024 + 16 * 1024 * 2);
    transfers.credit("d1", total - 100_000);
    expect(await sending).toBe(total);
    expect(sent()).toBe(total);
    expect(transfers.open).toBe(1);
    release();
    expect(transfers.open).toBe(0);
  });

  it("a download gathers the engine's pieces into frames of up to the frame size, bytes in order", async () => {
    const { transfers, frames } = harness();
    const { download } = transfers.register("d3", "download", new AbortController().signal);
    const piece = 64 * 1024;
    const total = 2 * TRANSFER_FRAME_MAX_BYTES + 3 * piece + 1000;
    const bytes = new Uint8Array(total).map((_, i) => (i * 7) % 251);
    const source = Readable.from(
      (function* () {
        for (let at = 0; at < total; at += piece) yield bytes.subarray(at, Math.min(at + piece, total));
      })(),
    );
    transfers.credit("d3", total);
    expect(await download!.send(source)).toBe(total);
    const payloads = frames.map((f) => decodeTransferFrame(f)!.payload);
    // Full frames, then what was left at the end: not one frame per piece.
    expect(payloads.map((p) => p.length)).toEqual([TRANSFER_FRAME_MAX_BYTES, TRANSFER_FRAME_MAX_BYTES, 3 * piece + 1000]);
    expect(Buffer.concat(payloads).equals(Buffer.from(bytes))).toBe(true);
  });

  it("a download waiting for credit stops when its command is aborted", async () => {
    const { transfers } = harness();
    const controller = new AbortController();
    const { download } = transfers.register("d2", "download", controller.signal);
    const sending = download!.send(Readable.from([new Uint8Array(10)]));
    controller.abort(new Error("cancelled by the server"));
    await expect(sending).rejects.toThrow("cancelled by the server");
  });

  it("an upload grants credit as its reader reads, takes frames within it, and ends at eof", async () => {
    const { transfers, texts } = harness();
    const { upload, release } = transfers.register("u1", "upload", new AbortController().signal);
    expect(texts).toEqual([]);
    const chunks: Buffer[] = [];
    const reading = (async () => {
      for await (const piece of upload!) chunks.push(piece as Buffer);
    })();
    await new Promise((resolve) => setImmediate(resolve));
    expect(texts).toEqual([{ v: 1, type: "transfer_credit", id: "u1", bytes: TRANSFER_CREDIT_UNIT }]);
    expect(transfers.frame(encodeTransferFrame("u1", new Uint8Array(1000).fill(7)))).toBe(true);
    expect(transfers.frame(encodeTerminalFrame("term", new Uint8Array(1)))).toBe(false);
    transfers.eof("u1");
    await reading;
    expect(Buffer.concat(chunks)).toEqual(Buffer.alloc(1000, 7));
    expect(upload!.received).toBe(1000);
    release();
  });

  it("an upload that receives more than its credit fails", async () => {
    const { transfers } = harness();
    const { upload } = transfers.register("u2", "upload", new AbortController().signal);
    const reading = (async () => {
      for await (const _ of upload!);
    })();
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i <= TRANSFER_WINDOW_BYTES / TRANSFER_FRAME_MAX_BYTES; i++) {
      transfers.frame(encodeTransferFrame("u2", new Uint8Array(TRANSFER_FRAME_MAX_BYTES)));
    }
    await expect(reading).rejects.toThrow(/more than the credit/);
  });
});
