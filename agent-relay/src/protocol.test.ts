import { describe, expect, it } from "vitest";
import {
  commandTimeoutMs,
  encode,
  isOpName,
  isStreaming,
  MAX_CHUNK_CHARS,
  OP_NAMES,
  OPS,
  parseAgentMessage,
  parseMessage,
  parseServerMessage,
  PING_TEXT,
  PONG_TEXT,
} from "./protocol.ts";
import { CONTAINER_AND_IMAGE_OPS } from "../test/docker-ops.ts";

const hello = {
  v: 1,
  type: "hello",
  agent_version: "0.1.0",
  hostname: "box",
  engine_version: "20.10.24",
  api_version: "1.41",
  os: "Debian GNU/Linux 12 (bookworm)",
  arch: "x86_64",
  addresses: ["10.0.0.5"],
  capabilities: ["container.list"],
};

describe("parseMessage", () => {
  it("accepts every message type", () => {
    const valid = [
      hello,
      { v: 1, type: "cmd", id: "c1", op: "container.list", args: { all: true }, deadline: 1_700_000_000_000 },
      { v: 1, type: "result", id: "c1", ok: true, data: [{ Id: "abc" }] },
      { v: 1, type: "result", id: "c1", ok: false, error: { code: "not_found", message: "No such container: x", status: 404 } },
      { v: 1, type: "chunk", id: "c2", seq: 0, data: "line\n", stream: "stderr" },
      { v: 1, type: "end", id: "c2" },
      { v: 1, type: "end", id: "c2", error: { code: "cancelled", message: "cancelled by the server" } },
      { v: 1, type: "cancel", id: "c2" },
      {
        v: 1,
        type: "event",
        events: [{ type: "container", action: "start", id: "abc", attributes: { name: "web" }, time: 1 }],
      },
      { v: 1, type: "stats", at: 1, samples: [], containers: { total: 1, running: 1, paused: 0, stopped: 0 } },
      { v: 1, type: "ping" },
      { v: 1, type: "pong" },
    ];
    for (const message of valid) {
      const parsed = parseMessage(JSON.stringify(message));
      expect(parsed, JSON.stringify(message)).toEqual({ ok: true, message });
    }
  });

  it("rejects malformed messages with a reason", () => {
    const invalid: Array<[unknown, RegExp]> = [
      [{ v: 1, type: "nope" }, /type/],
      [{ v: 2, type: "ping" }, /unsupported protocol version 2/],
      [{ type: "ping" }, /v/],
      [{ ...hello, addresses: "10.0.0.5" }, /addresses/],
      [{ v: 1, type: "cmd", id: "", op: "container.list", deadline: 1 }, /id/],
      [{ v: 1, type: "cmd", id: "c1", op: "container.list" }, /deadline/],
      [{ v: 1, type: "result", id: "c1", ok: false }, /error/],
      [{ v: 1, type: "chunk", id: "c1", seq: -1, data: "" }, /seq/],
      [{ v: 1, type: "chunk", id: "c1", seq: 0, data: "x".repeat(MAX_CHUNK_CHARS + 1) }, /data/],
      [{ v: 1, type: "event", events: [] }, /events/],
    ];
    for (const [message, reason] of invalid) {
      const parsed = parseMessage(JSON.stringify(message));
      expect(parsed.ok, JSON.stringify(message).slice(0, 80)).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(reason);
    }
    expect(parseMessage("{not json")).toEqual({ ok: false, error: "not JSON" });
  });

  it("keeps each direction to its own messages", () => {
    expect(parseServerMessage(JSON.stringify(hello)).ok).toBe(false);
    expect(parseAgentMessage(JSON.stringify(hello)).ok).toBe(true);
    const cancel = JSON.stringify({ v: 1, type: "cancel", id: "c1" });
    expect(parseServerMessage(cancel).ok).toBe(true);
    expect(parseAgentMessage(cancel).ok).toBe(false);
  });
});

describe("encode", () => {
  it("stamps the version and matches the fixed heartbeat texts", () => {
    expect(encode({ type: "ping" })).toBe(PING_TEXT);
    expect(encode({ type: "pong" })).toBe(PONG_TEXT);
    expect(PING_TEXT).toBe('{"v":1,"type":"ping"}');
    expect(JSON.parse(encode({ type: "end", id: "x" }))).toEqual({ v: 1, type: "end", id: "x" });
  });
});

describe("OPS", () => {
  it("covers the documented operations with sane defaults", () => {
    expect(OP_NAMES).toEqual(expect.arrayContaining([...CONTAINER_AND_IMAGE_OPS, "stats.all", "system.info", "system.version"]));
    for (const name of OP_NAMES) expect(OPS[name].timeoutMs).toBeGreaterThan(0);
    expect(isOpName("container.list")).toBe(true);
    expect(isOpName("toString")).toBe(false);
  });

  it("validates arguments", () => {
    expect(OPS["container.create"].args.safeParse({ image: "busybox", memory: 1024 }).success).toBe(false);
    expect(OPS["container.create"].args.safeParse({ image: "busybox", name: "bad name" }).success).toBe(false);
    expect(OPS["container.exec"].args.safeParse({ id: "x", cmd: [] }).success).toBe(false);
    expect(OPS["container.logs"].args.safeParse({ id: "x", tail: "all", since: "2024-01-01T00:00:00Z" }).success).toBe(true);
    expect(OPS["container.logs"].args.safeParse({ id: "x", tail: -1 }).success).toBe(false);
  });

  it("streams logs only when following, and stretches time budgets that Docker waits out", () => {
    expect(isStreaming("container.logs", { id: "x" })).toBe(false);
    expect(isStreaming("container.logs", { id: "x", follow: true })).toBe(true);
    expect(isStreaming("container.list", {})).toBe(false);
    expect(commandTimeoutMs("container.list", {})).toBe(15_000);
    expect(commandTimeoutMs("container.stop", { id: "x", timeout: 60 })).toBe(90_000);
    expect(commandTimeoutMs("container.exec", { id: "x", cmd: ["ls"], timeout_ms: 1_000 })).toBe(6_000);
    expect(commandTimeoutMs("container.logs", { id: "x", follow: true })).toBe(3_600_000);
  });
});
