import { describe, expect, it } from "vitest";
import { connectUrl, loadConfig } from "./config.ts";

describe("connectUrl", () => {
  it("derives ws/wss from http/https and appends the connect path", () => {
    expect(connectUrl("http://127.0.0.1:8787")).toBe("ws://127.0.0.1:8787/api/v1/agent/connect");
    expect(connectUrl("https://pier.example.com/")).toBe("wss://pier.example.com/api/v1/agent/connect");
    expect(connectUrl("https://example.com/pier/")).toBe("wss://example.com/pier/api/v1/agent/connect");
    expect(connectUrl("wss://example.com")).toBe("wss://example.com/api/v1/agent/connect");
  });
});

describe("loadConfig", () => {
  it("reads the environment", () => {
    expect(loadConfig({ PIER_URL: "http://localhost:8787", PIER_AGENT_TOKEN: " tok ", PIER_LOG_LEVEL: "debug" })).toEqual({
      url: "http://localhost:8787",
      token: "tok",
      dockerHost: undefined,
      logLevel: "debug",
      statsPushMs: undefined,
    });
  });

  it("reads the heartbeat period the agent announces, within the bounds the control plane honours", () => {
    const base = { PIER_URL: "http://localhost:8787", PIER_AGENT_TOKEN: "tok" };
    expect(loadConfig({ ...base, PIER_HEARTBEAT_MS: "45000" }).heartbeatMs).toBe(45_000);
    expect(loadConfig(base).heartbeatMs).toBeUndefined();
    expect(() => loadConfig({ ...base, PIER_HEARTBEAT_MS: "1000" })).toThrow(/PIER_HEARTBEAT_MS must be at least 5000/);
    expect(() => loadConfig({ ...base, PIER_HEARTBEAT_MS: "600000" })).toThrow(/PIER_HEARTBEAT_MS must be at most 120000/);
  });

  it("says what to fix", () => {
    expect(() => loadConfig({})).toThrow(/PIER_URL is not set.*PIER_AGENT_TOKEN is not set/);
    expect(() => loadConfig({ PIER_URL: "localhost:8787", PIER_AGENT_TOKEN: "x" })).toThrow(/must start with http/);
  });
});
