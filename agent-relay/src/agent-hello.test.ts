// The agent's hello announces the heartbeat period it pings at, so the control plane's presence
// window follows the agent (a real agent, against a WebSocket server standing in for the relay;
// Docker is deliberately unreachable: the agent connects without it and says so).
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type RunningAgent, startAgent } from "./agent.ts";
import { HEARTBEAT_INTERVAL_MS, parseAgentMessage } from "./protocol.ts";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** The first message an agent sends to a fresh server, parsed as the relay parses it. */
async function helloOf(options: { heartbeatMs?: number }) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  await new Promise((resolve) => server.once("listening", resolve));
  const first = new Promise<string>((resolve) =>
    server.once("connection", (socket: WebSocket) => socket.once("message", (data) => resolve(String(data)))),
  );
  const agent: RunningAgent = startAgent({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: "test-token",
    dockerHost: "unix:///nonexistent/pier-agent-hello-test.sock",
    logLevel: "error",
    onLog: () => {},
    events: false,
    statsCache: false,
    metricsIntervalMs: 0,
    ...options,
  });
  stops.push(() => agent.stop());
  const parsed = parseAgentMessage(await first);
  if (!parsed.ok) throw new Error(`the relay would refuse this hello: ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe("the agent's hello", () => {
  it("announces the heartbeat period it was started with", async () => {
    expect(await helloOf({ heartbeatMs: 45_000 })).toMatchObject({ type: "hello", heartbeat_ms: 45_000, acks: true });
  });

  it("announces the default period when none was set", async () => {
    expect(await helloOf({})).toMatchObject({ type: "hello", heartbeat_ms: HEARTBEAT_INTERVAL_MS });
  });
});
