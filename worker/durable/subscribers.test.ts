// The hub subscription's life: a stream the client closes leaves its hub, so a publish after it
// writes to nobody and the object keeps no subscriber for a client that has gone.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SseStream } from "../../test/support/sse.ts";
import { call, newOwner } from "../testing.ts";

describe("hub subscriptions", () => {
  it("drops a subscriber from the EventHub when its client closes the stream", async () => {
    const owner = await newOwner();
    const hub = env.EVENT_HUB.getByName(owner.organizationId);
    const streams = await Promise.all([1, 2, 3].map(async () => new SseStream(await call("/api/v1/events", { token: owner.token }))));
    await Promise.all(streams.map((s) => s.ready()));
    expect(await hub.subscriberCount()).toBe(3);
    await streams[0]!.close();
    await expect.poll(() => hub.subscriberCount(), { timeout: 10_000 }).toBe(2);
    await Promise.all(streams.slice(1).map((s) => s.close()));
    await expect.poll(() => hub.subscriberCount(), { timeout: 10_000 }).toBe(0);
  });
});
