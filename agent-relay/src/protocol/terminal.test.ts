import { describe, expect, it } from "vitest";
import { parseAgentMessage, parseServerMessage } from "../protocol.ts";
import { decodeTerminalFrame, encodeTerminalFrame, TerminalClientMessageSchema } from "./terminal.ts";

describe("terminal frames", () => {
  it("carry a channel id and any bytes, and decode to the same", () => {
    const payload = new Uint8Array([0, 255, 10, 13, 27]);
    const frame = encodeTerminalFrame("3f2a-b", payload);
    expect(frame[0]).toBe(6);
    const decoded = decodeTerminalFrame(frame);
    expect(decoded?.channel).toBe("3f2a-b");
    expect([...(decoded?.payload ?? [])]).toEqual([...payload]);
    expect(decodeTerminalFrame(encodeTerminalFrame("c", new Uint8Array()))).toMatchObject({ channel: "c" });
  });

  it("refuse headers that cannot be right", () => {
    expect(decodeTerminalFrame(new Uint8Array())).toBeNull();
    expect(decodeTerminalFrame(new Uint8Array([0, 1]))).toBeNull();
    expect(decodeTerminalFrame(new Uint8Array([9, 97]))).toBeNull();
    expect(() => encodeTerminalFrame("", new Uint8Array())).toThrow();
    expect(() => encodeTerminalFrame("x".repeat(65), new Uint8Array())).toThrow();
  });

  it("control messages are validated like every other relay message", () => {
    expect(parseServerMessage('{"v":1,"type":"term_resize","id":"a","cols":80,"rows":24}').ok).toBe(true);
    expect(parseServerMessage('{"v":1,"type":"term_resize","id":"a","cols":0,"rows":24}').ok).toBe(false);
    expect(
      parseServerMessage('{"v":1,"type":"term_open","id":"a/b","container":"c","mode":"exec","cols":1,"rows":1,"idle_timeout_ms":1}').ok,
    ).toBe(false);
    expect(parseAgentMessage('{"v":1,"type":"term_exit","id":"a","reason":"exited","exit_code":0}').ok).toBe(true);
    expect(
      parseAgentMessage('{"v":1,"type":"term_open","id":"a","container":"c","mode":"exec","cols":1,"rows":1,"idle_timeout_ms":1}').ok,
    ).toBe(false);
  });

  it("the client's text frames are resize or input", () => {
    expect(TerminalClientMessageSchema.safeParse({ type: "resize", cols: 120, rows: 40 }).success).toBe(true);
    expect(TerminalClientMessageSchema.safeParse({ type: "resize", cols: 120 }).success).toBe(false);
    expect(TerminalClientMessageSchema.safeParse({ type: "input", data: "ls\n" }).success).toBe(true);
    expect(TerminalClientMessageSchema.safeParse({ type: "paste" }).success).toBe(false);
  });
});
