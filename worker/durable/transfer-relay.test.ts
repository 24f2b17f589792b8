// Byte transfers through the real HostRelay, with the agent's side scripted so that credit and
// frames can be counted exactly: the relay grants credit only as its reader reads, never lets an
// agent send past it, sends an upload's body only as far as the agent's credit, and stops the host
// when the reader goes away.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  decodeTransferFrame,
  encodeTransferFrame,
  TRANSFER_CREDIT_UNIT,
  TRANSFER_FRAME_MAX_BYTES,
  TRANSFER_WINDOW_BYTES,
  type OpName,
} from "#protocol";
import { call, json, newOwner, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";
import { waitFor } from "../../test/support/wait.ts";

const TRANSFER_OPS: OpName[] = ["image.save", "image.load", "container.list"];

async function connectedHost() {
  const owner = await newOwner();
  const host = await json(
    await call("/api/v1/hosts", { token: owner.token, body: { name: `t${Math.random().toString(36).slice(2, 8)}` } }),
    201,
  );
  const agent = await ScriptedAgent.connect(host.agent_token, { capabilities: TRANSFER_OPS });
  await waitForStatus(owner, host.id, "online");
  return { owner, host, agent, relay: env.HOST_RELAY.getByName(host.id) };
}

/** The stream of an opened download (the RPC's answer type does not narrow on `ok`). */
function opened(outcome: unknown): { id: string; meta: unknown; stream: ReadableStream<Uint8Array> } {
  const o = outcome as { ok: boolean; error?: { message: string } };
  if (!o.ok) throw new Error(o.error?.message);
  return outcome as { id: string; meta: unknown; stream: ReadableStream<Uint8Array> };
}

/** Credit the relay granted for transfer `id` so far. */
function granted(agent: ScriptedAgent, id: string): number {
  return agent.messages
    .map((m) => JSON.parse(m) as { type: string; id?: string; bytes?: number })
    .filter((m) => m.type === "transfer_credit" && m.id === id)
    .reduce((sum, m) => sum + (m.bytes ?? 0), 0);
}

describe("HostRelay byte transfers", () => {
  it("download: credit follows the reader, bytes arrive in order, the result closes the stream", async () => {
    const { agent, relay } = await connectedHost();
    const opening = relay.openDownload("image.save", { images: ["app:v1"] });
    const cmd = await agent.next();
    expect(cmd).toMatchObject({ op: "image.save", args: { images: ["app:v1"] } });
    agent.send({ type: "transfer_start", id: cmd.id, meta: { content_type: "application/x-tar" } });
    const download = opened(await opening);
    expect(download.meta).toEqual({ content_type: "application/x-tar" });

    // Nothing is read yet, but the stream's queue wants a window: at most that much is granted.
    await waitFor("the first credit", () => granted(agent, cmd.id) > 0);
    expect(granted(agent, cmd.id)).toBeLessThanOrEqual(TRANSFER_WINDOW_BYTES);

    // The agent sends exactly what it was granted; with no reader, no further credit comes.
    const total = 3 * TRANSFER_WINDOW_BYTES + 123;
    const source = new Uint8Array(total).map((_, i) => i % 251);
    let sent = 0;
    const sendWithin = () => {
      while (sent < Math.min(total, granted(agent, cmd.id))) {
        const size = Math.min(TRANSFER_FRAME_MAX_BYTES, granted(agent, cmd.id) - sent, total - sent);
        agent.ws.send(encodeTransferFrame(cmd.id, source.subarray(sent, sent + size)));
        sent += size;
      }
    };
    sendWithin();
    const stalledAt = granted(agent, cmd.id);
    // Bounded: the queue (a window) plus what is outstanding (another window), whatever the size.
    expect(stalledAt).toBeLessThanOrEqual(2 * TRANSFER_WINDOW_BYTES);

    // The agent keeps sending what it is granted while the test reads everything.
    const pumping = (async () => {
      while (sent < total) {
        await waitFor("more credit", () => granted(agent, cmd.id) > sent);
        sendWithin();
      }
    })();
    const reader = download.stream.getReader();
    const received: Uint8Array[] = [];
    let got = 0;
    while (got < total) {
      const { value, done } = await reader.read();
      if (done) break;
      received.push(value);
      got += value.length;
      // Never more granted than the reader took plus the queue and one window on its way.
      expect(granted(agent, cmd.id) - got).toBeLessThanOrEqual(2 * TRANSFER_WINDOW_BYTES);
    }
    await pumping;
    agent.reply(cmd.id, { bytes: total });
    expect((await reader.read()).done).toBe(true);
    const joined = new Uint8Array(await new Blob(received).arrayBuffer());
    expect(joined.length).toBe(total);
    expect(joined.every((b, i) => b === i % 251)).toBe(true);
    expect(await relay.transferOpen(cmd.id)).toBe(false);
    agent.ws.close(1000);
  });

  it("download: an engine error before the first byte is the answer; a cancelled reader stops the host", async () => {
    const { agent, relay } = await connectedHost();
    const missing = relay.openDownload("image.save", { images: ["nope:1"] });
    const cmd = await agent.next();
    agent.fail(cmd.id, { code: "not_found", message: "reference does not exist", status: 404 });
    expect(await missing).toMatchObject({ ok: false, error: { code: "not_found", http: 404, message: "reference does not exist" } });

    const opening = relay.openDownload("image.save", { images: ["app:v1"] });
    const second = await agent.next();
    agent.send({ type: "transfer_start", id: second.id, meta: {} });
    const download = opened(await opening);
    expect(await relay.transferOpen(second.id)).toBe(true);
    await relay.cancelTransfer(download.id);
    await agent.received("the cancel", (m) => m.type === "cancel" && m.id === second.id);
    expect(await relay.transferOpen(second.id)).toBe(false);
    // Bytes still on their way are refused with another cancel, not queued.
    agent.ws.send(encodeTransferFrame(second.id, new Uint8Array(10)));
    await waitFor("a second cancel", () => agent.cancels.filter((id) => id === second.id).length >= 2);

    // An agent that sends past its credit is stopped, and the reader sees the failure.
    const third = relay.openDownload("image.save", { images: ["app:v1"] });
    const cmd3 = await agent.next();
    agent.send({ type: "transfer_start", id: cmd3.id, meta: {} });
    const reader = opened(await third).stream.getReader();
    await waitFor("credit", () => granted(agent, cmd3.id) > 0);
    // Nothing is read: the relay holds its queue (a window) and one window outstanding, no more.
    for (let sent = 0; sent < 3 * TRANSFER_WINDOW_BYTES; sent += TRANSFER_FRAME_MAX_BYTES) {
      agent.ws.send(encodeTransferFrame(cmd3.id, new Uint8Array(TRANSFER_FRAME_MAX_BYTES)));
    }
    await waitFor("the transfer stopped", async () => !(await relay.transferOpen(cmd3.id)));
    await agent.received("the cancel", (m) => m.type === "cancel" && m.id === cmd3.id);
    // What crossed the RPC before the failure is readable; then the stream errors (a truncated
    // body). Over RPC the reason does not travel: "disconnected prematurely".
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toThrow();
    agent.ws.close(1000);
  });

  it("upload: the body is read only as far as the agent's credit, then eof; the result is the outcome", async () => {
    const { agent, relay } = await connectedHost();
    const total = 5 * TRANSFER_CREDIT_UNIT + 77;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= total) return controller.close();
          const size = Math.min(100_000, total - pulled);
          controller.enqueue(new Uint8Array(size).fill(pulled % 256));
          pulled += size;
        },
      },
      { highWaterMark: 0 },
    );
    const outcome = relay.openUpload("image.load", {}, body);
    const cmd = await agent.next();
    expect(cmd.op).toBe("image.load");
    // No credit, no bytes.
    expect(agent.frames.length).toBe(0);
    agent.send({ type: "transfer_credit", id: cmd.id, bytes: TRANSFER_CREDIT_UNIT });
    const bytesOf = () =>
      agent.frames
        .map((f) => decodeTransferFrame(f))
        .filter((f) => f?.id === cmd.id)
        .reduce((sum, f) => sum + (f?.payload.length ?? 0), 0);
    await waitFor("the first unit", () => bytesOf() === TRANSFER_CREDIT_UNIT);
    expect(agent.frames.every((f) => (decodeTransferFrame(f)?.payload.length ?? 0) <= TRANSFER_FRAME_MAX_BYTES)).toBe(true);
    // The body's pieces (100 000 bytes here) are gathered: a unit of credit is one frame, not six.
    expect(agent.frames.filter((f) => decodeTransferFrame(f)?.id === cmd.id)).toHaveLength(1);
    // The relay holds at most one body chunk beyond the credit.
    expect(pulled).toBeLessThanOrEqual(TRANSFER_CREDIT_UNIT + 2 * 100_000);
    while (bytesOf() < total) {
      agent.send({ type: "transfer_credit", id: cmd.id, bytes: TRANSFER_CREDIT_UNIT });
      const before = bytesOf();
      await waitFor("more bytes", () => bytesOf() > before);
      await waitFor("the unit used", () => bytesOf() === Math.min(total, before + TRANSFER_CREDIT_UNIT) && bytesOf());
    }
    await agent.received("the eof", (m) => m.type === "transfer_eof" && m.id === cmd.id);
    agent.reply(cmd.id, { images: ["app:v1"], output: "Loaded image: app:v1", bytes: total });
    expect(await outcome).toEqual({ ok: true, data: { images: ["app:v1"], output: "Loaded image: app:v1", bytes: total } });
    agent.ws.close(1000);
  });

  it("upload: a body that fails cancels the host's work; an agent that goes away fails the transfer", async () => {
    const { agent, relay } = await connectedHost();
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("client went away"));
      },
    });
    const outcome = relay.openUpload("image.load", {}, broken);
    const cmd = await agent.next();
    agent.send({ type: "transfer_credit", id: cmd.id, bytes: TRANSFER_CREDIT_UNIT });
    expect(await outcome).toMatchObject({ ok: false, error: { code: "upload_failed", http: 400 } });
    await agent.received("the cancel", (m) => m.type === "cancel" && m.id === cmd.id);

    // A transfer op through `command` is refused; a non-transfer op through openDownload too.
    expect(await relay.command("image.save", { images: ["a"] })).toMatchObject({ ok: false, error: { code: "invalid_args" } });
    expect(await relay.openDownload("container.list", {})).toMatchObject({ ok: false, error: { code: "invalid_args" } });

    const pending = relay.openUpload("image.load", {}, new Blob(["x"]).stream());
    await agent.next();
    agent.ws.close(1000);
    expect(await pending).toMatchObject({ ok: false, error: { code: "agent_disconnected" } });
  });
});
