// Host presence on the organization's event stream: the HostRelay announces a host's agent
// connecting and going away on the EventHub, and /api/v1/events carries it as `host` frames, to
// that organization only, never to Docker-shaped or type-filtered streams.
import { describe, expect, it } from "vitest";
import { SseStream } from "../../test/support/sse.ts";
import { call, json, newOwner, type TestAccount } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

const newHost = async (owner: TestAccount) =>
  json(await call("/api/v1/hosts", { token: owner.token, body: { name: `h${Math.random().toString(36).slice(2, 8)}` } }), 201);

const isHost = (e: { event: string }) => e.event === "host";

describe("host presence events", () => {
  it("announces a host's agent connecting and going away to its own organization's event stream", async () => {
    const owner = await newOwner();
    const stranger = await newOwner("stranger");
    const host = await newHost(owner);
    const ours = new SseStream(await call("/api/v1/events", { token: owner.token }));
    const oneHost = new SseStream(await call(`/api/v1/hosts/${host.id}/events`, { token: owner.token }));
    const containersOnly = new SseStream(await call("/api/v1/events?type=container", { token: owner.token }));
    const theirs = new SseStream(await call("/api/v1/events", { token: stranger.token }));
    await Promise.all([ours.ready(), oneHost.ready(), containersOnly.ready(), theirs.ready()]);

    const agent = await ScriptedAgent.connect(host.agent_token);
    const online = (await ours.until(isHost)).at(-1);
    expect(online).toMatchObject({ event: "host", data: { host_id: host.id, host_name: host.name, status: "online" } });
    expect(Date.parse(online!.data.time)).not.toBeNaN();
    expect((await oneHost.until(isHost)).at(-1)?.data).toMatchObject({ host_id: host.id, status: "online" });
    // Announced after the state is mirrored: a client that reads the host on the event sees it online.
    expect((await json(await call(`/api/v1/hosts/${host.id}`, { token: owner.token }), 200)).status).toBe("online");

    // A Docker event after it: the container-only stream gets that and no presence before it (only
    // the `ready` event a browser can see, which follows the `: ready` comment).
    agent.send({
      type: "event",
      events: [{ type: "container", action: "start", id: "c".repeat(64), attributes: { name: "web" }, time: Date.now() }],
    });
    const docker = await containersOnly.until((e) => e.event === "docker");
    expect(docker.map((e) => e.event)).toEqual(["ready", "docker"]);

    agent.ws.close(1000);
    const gone = (await ours.until((e) => isHost(e) && e.data.status === "disconnected")).at(-1);
    expect(gone?.data).toMatchObject({ host_id: host.id, host_name: host.name, status: "disconnected" });
    expect((await json(await call(`/api/v1/hosts/${host.id}`, { token: owner.token }), 200)).status).toBe("disconnected");

    // The stranger's stream saw none of it: its first host frame is its own host's.
    const theirHost = await newHost(stranger);
    const theirAgent = await ScriptedAgent.connect(theirHost.agent_token);
    const seen = (await theirs.until(isHost)).filter(isHost);
    expect(seen.map((e) => e.data.host_id)).toEqual([theirHost.id]);
    theirAgent.ws.close(1000);
    await Promise.all([ours.close(), oneHost.close(), containersOnly.close(), theirs.close()]);
  });
});
