import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { DockerEvent } from "#protocol";
import { call, json, newOwner, unique, type TestAccount } from "../testing.ts";
import { HostWatch, type WatchedHost } from "./host-watch.ts";

async function watched(owner: TestAccount): Promise<WatchedHost> {
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
  return { id: host.id, organizationId: owner.organizationId, name: host.name };
}

/** Runs `work` with a HostWatch on the storage of a fresh Durable Object (the relay's own kind). */
function withWatch<T>(work: (watch: HostWatch) => Promise<T>): Promise<T> {
  const stub = env.HOST_RELAY.get(env.HOST_RELAY.newUniqueId());
  return runInDurableObject(stub, (_instance, state) => work(new HostWatch(state.storage, env)));
}

const event = (action: string, id: string, time: number, attributes: Record<string, string> = {}): DockerEvent => ({
  type: "container",
  action,
  id,
  time,
  attributes: { name: `c-${id}`, image: "busybox", ...attributes },
});

const kinds = async (owner: TestAccount) =>
  (await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications.map((n: any) =>
    `${n.kind} ${n.data?.container_name ?? n.data?.host_name ?? ""}`.trim(),
  );

describe("host watch", () => {
  it("tells unexpected deaths from stops someone asked for, and spots restart loops", async () => {
    const owner = await newOwner();
    const host = await watched(owner);
    const t = Date.now();
    await withWatch(async (watch) => {
      // docker stop: kill (SIGTERM), die 143, stop. docker kill: kill, die 137. Not news.
      await watch.containerEvents(host, [
        event("kill", "a", t, { signal: "15" }),
        event("die", "a", t + 100, { exitCode: "143" }),
        event("stop", "a", t + 110),
      ]);
      await watch.containerEvents(host, [event("kill", "b", t, { signal: "9" }), event("die", "b", t + 50, { exitCode: "137" })]);
      // A clean exit on its own: not news either.
      await watch.containerEvents(host, [event("die", "c", t, { exitCode: "0" })]);
      // A failing `RUN` step of a docker build (its container runs an image id): a failed build, not news here.
      await watch.containerEvents(host, [event("die", "build", t, { exitCode: "3", image: "sha256:634d5cd6c678" })]);
      // A crash, and an OOM kill (which Docker reports with a kill-like 137): news.
      await watch.containerEvents(host, [event("die", "d", t, { exitCode: "2" })]);
      await watch.containerEvents(host, [event("oom", "e", t), event("die", "e", t + 10, { exitCode: "137" })]);
      // A kill long before the death does not excuse it.
      await watch.containerEvents(host, [event("kill", "f", t - 120_000), event("die", "f", t, { exitCode: "1" })]);
      // Three crashes within minutes: one loop notice, then quiet.
      for (let i = 0; i < 5; i++)
        await watch.containerEvents(host, [event("die", "g", t + i * 1000, { exitCode: "1" }), event("start", "g", t + i * 1000 + 100)]);
    });
    const seen = await kinds(owner);
    expect(seen.sort()).toEqual(
      [
        "container.died c-d",
        "container.died c-e",
        "container.died c-f",
        "container.died c-g",
        "container.died c-g",
        "container.restart_loop c-g",
      ].sort(),
    );
    const oom = (await json(await call("/api/v1/notifications?kind=container.died", { token: owner.token }), 200)).notifications.find(
      (n: any) => n.data.container_name === "c-e",
    );
    expect(oom).toMatchObject({ data: { oom: true, exit_code: 137 }, message: expect.stringContaining("out of memory") });
  });

  it("announces a disconnect only after the notice delay, a lost host once, and the return", async () => {
    const owner = await newOwner();
    const host = await watched(owner);
    const lostAfter = 5 * 60_000;
    await withWatch(async (watch) => {
      // Just dropped (a deploy of the Worker drops every agent): not yet news; look again at the notice time.
      const now = Date.now();
      const next = await watch.offline(host, { state: "disconnected", disconnectedAt: new Date(now - 1000).toISOString() }, lostAfter);
      expect(next).toBeGreaterThan(now);
      expect(next).toBeLessThanOrEqual(now - 1000 + watch.disconnectNoticeMs);
      // Reconnected in time: nothing to say.
      await watch.online(host);
      expect(await kinds(owner)).toEqual([]);

      const since = new Date(Date.now() - watch.disconnectNoticeMs - 1000).toISOString();
      const lostAt = await watch.offline(host, { state: "disconnected", disconnectedAt: since }, lostAfter);
      expect(lostAt).toBe(Date.parse(since) + lostAfter);
      await watch.offline(host, { state: "disconnected", disconnectedAt: since }, lostAfter);
      expect(await watch.offline(host, { state: "lost", disconnectedAt: since }, lostAfter)).toBeNull();
      await watch.offline(host, { state: "lost", disconnectedAt: since }, lostAfter);
      await watch.online(host);
      await watch.online(host);
    });
    expect(await kinds(owner)).toEqual([`host.online ${host.name}`, `host.lost ${host.name}`, `host.disconnected ${host.name}`]);
  });
});
