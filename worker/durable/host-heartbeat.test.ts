// The presence window follows the heartbeat period the agent announces in hello (bounded, with the
// protocol's default for an agent that does not say), on the real HostRelay with a scripted agent.
// The relay's clock is not the test's to move, so "silent for N seconds" is arranged by setting
// the relay's record of when it last heard the agent, then running its presence alarm.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, HEARTBEAT_INTERVAL_BOUNDS_MS, type Hello, type Outgoing } from "#protocol";
import { heartbeatWindowMs } from "../lib/presence.ts";
import { call, json, newOwner, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

async function connectedHost(hello: Partial<Outgoing<Hello>> = {}) {
  const owner = await newOwner();
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: `hb${Date.now().toString(36)}` } }), 201);
  const agent = await ScriptedAgent.connect(host.agent_token, { hello });
  await waitForStatus(owner, host.id, "online");
  const relay = env.HOST_RELAY.getByName(host.id);
  /** The relay last heard the agent `ms` ago; then its presence check runs. */
  const silentFor = async (ms: number) => {
    await runInDurableObject(relay, (instance, ctx) => {
      const since = Date.now() - ms;
      (instance as unknown as { lastMessageAt: number }).lastMessageAt = since;
      for (const ws of ctx.getWebSockets("agent")) ws.serializeAttachment({ ...ws.deserializeAttachment(), connectedAt: since });
    });
    expect(await runDurableObjectAlarm(relay)).toBe(true);
  };
  const state = async () => (await json(await call(`/api/v1/hosts/${host.id}`, { token: owner.token }), 200)).status as string;
  return { owner, host, agent, relay, silentFor, state };
}

describe("the heartbeat window an agent announces", () => {
  it("keeps a host online through a silence its announced period allows, and disconnects it past that", async () => {
    const { owner, host, agent, relay, silentFor, state } = await connectedHost({ heartbeat_ms: 60_000 });
    // Longer than the default window (20 s + 10 s), shorter than this agent's (60 s + 10 s).
    await silentFor(45_000);
    expect(agent.closed).toBeUndefined();
    expect(await state()).toBe("online");
    // The next look is due when this agent's heartbeat would be overdue (45 s ago + 70 s), where
    // the default window would have it look again within a second.
    const next = await runInDurableObject(relay, (_o, ctx) => ctx.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 20_000);

    await silentFor(75_000);
    expect(await agent.closing()).toMatchObject({ code: CLOSE_CODES.heartbeat_missed });
    await waitForStatus(owner, host.id, "disconnected");
  });

  it("uses the default window for an agent that announces no period", async () => {
    const { owner, host, agent, silentFor } = await connectedHost();
    await silentFor(heartbeatWindowMs() - 5_000);
    expect(agent.closed).toBeUndefined();
    await silentFor(45_000);
    expect(await agent.closing()).toMatchObject({ code: CLOSE_CODES.heartbeat_missed });
    await waitForStatus(owner, host.id, "disconnected");
  });

  it("clamps an announced period to the bounds the relay honours", async () => {
    const slow = await connectedHost({ heartbeat_ms: 3_600_000 });
    const longest = heartbeatWindowMs(HEARTBEAT_INTERVAL_BOUNDS_MS.max);
    await slow.silentFor(longest - 5_000);
    expect(slow.agent.closed).toBeUndefined();
    await slow.silentFor(longest + 5_000);
    expect(await slow.agent.closing()).toMatchObject({ code: CLOSE_CODES.heartbeat_missed });

    // Too fast a beat is not taken at its word either: the window is the shortest honoured one.
    const fast = await connectedHost({ heartbeat_ms: 1 });
    await fast.silentFor(heartbeatWindowMs(HEARTBEAT_INTERVAL_BOUNDS_MS.min) - 2_000);
    expect(fast.agent.closed).toBeUndefined();
    await fast.silentFor(heartbeatWindowMs(HEARTBEAT_INTERVAL_BOUNDS_MS.min) + 2_000);
    expect(await fast.agent.closing()).toMatchObject({ code: CLOSE_CODES.heartbeat_missed });
  });
});
