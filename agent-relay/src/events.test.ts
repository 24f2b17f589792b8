import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DockerClient } from "./docker/client.ts";
import { EventForwarder } from "./events.ts";
import { createLogger } from "./log.ts";
import type { DockerEvent } from "./protocol.ts";

const log = createLogger({ level: "error", sink: () => undefined });

/** A feed the test writes raw engine events into, as the engine's `/events` stream would. */
function fakeFeed() {
  const waiting: Array<(raw: Record<string, unknown>) => void> = [];
  const queued: Array<Record<string, unknown>> = [];
  let n = 0;
  const docker = {
    async events(_options: unknown, signal: AbortSignal) {
      // Fails when the forwarder stops, as the engine's stream does when its request is aborted.
      const aborted = new Promise<null>((resolve) => signal.addEventListener("abort", () => resolve(null), { once: true }));
      return (async function* () {
        while (true) {
          const raw =
            queued.shift() ?? (await Promise.race([new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve)), aborted]));
          if (!raw || signal.aborted) throw signal.reason;
          yield raw;
        }
      })();
    },
  } as unknown as DockerClient;
  const emit = (action: string) => {
    n++;
    const raw = { Type: "container", Action: action, Actor: { ID: `c${n}`, Attributes: {} }, time: 1, timeNano: n };
    const next = waiting.shift();
    if (next) next(raw);
    else queued.push(raw);
  };
  return { docker, emit };
}

describe("EventForwarder batching", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const start = async (options: { up?: () => boolean } = {}) => {
    const batches: DockerEvent[][] = [];
    const { docker, emit } = fakeFeed();
    const forwarder = new EventForwarder(docker, log, {
      send: (batch) => (options.up?.() ?? true) && batches.push(batch.map((e) => ({ ...e }))) > 0,
      flushMs: 250,
      batchMax: 100,
    });
    forwarder.start();
    await forwarder.subscribed;
    // Lets the feed's iterator deliver what was emitted (microtasks only; no time passes).
    const settle = () => vi.advanceTimersByTimeAsync(0);
    return { forwarder, batches, emit, settle, actions: () => batches.map((b) => b.map((e) => e.action)) };
  };

  it("sends an event after a quiet spell at once, without waiting for the window", async () => {
    const { forwarder, emit, settle, actions } = await start();
    emit("start");
    await settle();
    expect(actions()).toEqual([["start"]]);
    // Quiet for longer than the window: the next lone event leaves at once too.
    await vi.advanceTimersByTimeAsync(1_000);
    emit("die");
    await settle();
    expect(actions()).toEqual([["start"], ["die"]]);
    await forwarder.stop();
  });

  it("coalesces what follows the first event within the window into one batch when it ends", async () => {
    const { forwarder, emit, settle, actions } = await start();
    emit("create");
    await settle();
    emit("attach");
    emit("start");
    await settle();
    expect(actions()).toEqual([["create"]]);
    await vi.advanceTimersByTimeAsync(249);
    expect(actions()).toEqual([["create"]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(actions()).toEqual([["create"], ["attach", "start"]]);
    await forwarder.stop();
  });

  it("keeps at most one batch per window under a steady burst", async () => {
    const { forwarder, emit, settle, batches } = await start();
    // 40 events, one every 25 ms, over one second.
    for (let i = 0; i < 40; i++) {
      emit(`e${i}`);
      await settle();
      await vi.advanceTimersByTimeAsync(25);
    }
    await vi.advanceTimersByTimeAsync(250);
    const all = batches.flat().map((e) => e.action);
    expect(all).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`));
    // The leading event, then one batch per 250 ms window over the 1 s burst, and the tail.
    expect(batches.length).toBeLessThanOrEqual(1 + 1_000 / 250 + 1);
    expect(batches[0]?.map((e) => e.action)).toEqual(["e0"]);
    // After the burst the window closes: the next lone event is not held.
    await vi.advanceTimersByTimeAsync(1_000);
    const before = batches.length;
    emit("lone");
    await settle();
    expect(batches.length).toBe(before + 1);
    expect(batches.at(-1)?.map((e) => e.action)).toEqual(["lone"]);
    await forwarder.stop();
  });

  it("sends a full batch at once, inside a window too", async () => {
    const { forwarder, emit, settle, batches } = await start();
    emit("first");
    await settle();
    for (let i = 0; i < 100; i++) emit(`e${i}`);
    await settle();
    expect(batches.map((b) => b.length)).toEqual([1, 100]);
    await forwarder.stop();
  });

  it("keeps events while the link is down and sends them when flushed after reconnecting", async () => {
    let up = false;
    const { forwarder, emit, settle, actions } = await start({ up: () => up });
    emit("start");
    emit("die");
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(actions()).toEqual([]);
    expect(forwarder.buffered).toBe(2);
    up = true;
    forwarder.flush();
    expect(actions()).toEqual([["start", "die"]]);
    expect(forwarder.buffered).toBe(0);
    // The flush opened a window: an event right after it waits for the window's end.
    emit("destroy");
    await settle();
    expect(actions()).toEqual([["start", "die"]]);
    await vi.advanceTimersByTimeAsync(250);
    expect(actions()).toEqual([["start", "die"], ["destroy"]]);
    await forwarder.stop();
  });
});
