// The agent as a separate process, the way hosts run it: killed mid-command, restarted, revoked,
// and doubled up. Nothing may hang and the host must recover by itself.
import type { ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  pierUrl,
  removeContainers,
  spawnAgent,
  SseStream,
  TEST_IMAGE,
  waitFor,
  waitForStatus,
} from "./client.ts";

const LABEL = `dev.pier.e2e=${process.pid}-lifecycle`;

describe.skipIf(!dockerAvailable())("agent lifecycle", () => {
  let owner: Owner;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    owner = await newOwner();
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });
  afterAll(async () => {
    await removeContainers(LABEL);
  });

  it("fails a command at once when the agent is killed mid-command, and comes back online after a restart", async () => {
    const host = await newHost(owner);
    const first = spawnAgent(host.agent_token);
    children.push(first);
    await waitForStatus(owner, host.id, "online");
    const id = await docker("run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "600");

    // A command that cannot end on its own before its deadline (exec's is 60 s, and a missed
    // deadline is a 504): once it runs on the host, the agent is killed.
    const pending = api(`/api/v1/hosts/${host.id}/containers/${id}/exec`, { token: owner.token, body: { cmd: ["sleep", "3600"] } });
    await waitFor("the exec to run in the container", async () => (await docker("top", id)).includes("sleep 3600"));
    first.kill("SIGKILL");
    const res = await pending;
    // 502 "disconnected", not the deadline's 504: it failed because the agent dropped.
    expect(res.status).toBe(502);
    expect(res.body.detail).toMatch(/disconnected/);
    await waitForStatus(owner, host.id, "disconnected");
    const offline = await api(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    expect(offline.status).toBe(503);

    const second = spawnAgent(host.agent_token);
    children.push(second);
    await waitForStatus(owner, host.id, "online");
    const list = await api(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    expect(list.body.containers.map((c: { id: string }) => c.id)).toContain(id);

    second.kill("SIGTERM");
    const code = await new Promise((r) => second.once("exit", r));
    expect(code).toBe(0);
    expect(second.output()).toMatch(/agent stopped/);
  });

  it("fails commands and streams with a 504 while the agent is frozen, shows the host disconnected, and recovers when it thaws", async () => {
    const host = await newHost(owner);
    const agent = spawnAgent(host.agent_token);
    children.push(agent);
    await waitForStatus(owner, host.id, "online");
    const id = await docker("run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "600");
    const containers = `/api/v1/hosts/${host.id}/containers`;
    expect((await api(containers, { token: owner.token })).status).toBe(200);

    // Frozen, socket open: the command is not acknowledged, so it fails within the ack window
    // (PIER_AGENT_ACK_TIMEOUT_MS: 10 s for this stack, 5 s by default) instead of waiting out its time limit.
    agent.kill("SIGSTOP");
    try {
      const frozen = await api(containers, { token: owner.token });
      expect(frozen.status).toBe(504);
      expect(frozen.headers.get("content-type")).toMatch(/application\/problem\+json/);
      expect(frozen.body.detail).toMatch(
        new RegExp(
          `agent on host ${host.name} did not acknowledge the command \\(container\\.list\\) within 10 s; it may be frozen or overloaded`,
        ),
      );
      // …and the host is disconnected now (not after the heartbeat window): commands answer 503 at once.
      await waitForStatus(owner, host.id, "disconnected");
      expect((await api(containers, { token: owner.token })).status).toBe(503);
    } finally {
      agent.kill("SIGCONT");
    }
    await waitForStatus(owner, host.id, "online");
    expect((await api(containers, { token: owner.token })).body.containers.map((c: { id: string }) => c.id)).toContain(id);

    // A stream's first frame must be acknowledged too: a followed log of a frozen agent ends with the reason.
    agent.kill("SIGSTOP");
    try {
      const res = await fetch(`${pierUrl()}${containers}/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${owner.token}` } });
      expect(res.status).toBe(200);
      const events = await new SseStream(res).until((e) => e.event === "end");
      expect(events.at(-1)).toMatchObject({
        event: "end",
        data: { error: expect.stringMatching(/did not acknowledge the command \(container\.logs\)/) },
      });
      await waitForStatus(owner, host.id, "disconnected");
    } finally {
      agent.kill("SIGCONT");
    }
    await waitForStatus(owner, host.id, "online");
    expect((await api(`${containers}/${id}`, { token: owner.token })).status).toBe(200);
  });

  it("disconnects a frozen agent that is sent nothing once its heartbeat is overdue, and takes it back when it thaws", async () => {
    const host = await newHost(owner);
    const agent = spawnAgent(host.agent_token);
    children.push(agent);
    await waitForStatus(owner, host.id, "online");
    agent.kill("SIGSTOP");
    try {
      // No command to miss an ack: the missed heartbeat alone (one 20 s interval + 10 s) does it.
      await waitFor(
        "the host to be disconnected by its missed heartbeat",
        async () => (await api(`/api/v1/hosts/${host.id}`, { token: owner.token })).body.status === "disconnected",
        { timeout: 90_000, interval: 500 },
      );
    } finally {
      agent.kill("SIGCONT");
    }
    await waitForStatus(owner, host.id, "online");
    expect((await api(`/api/v1/hosts/${host.id}/containers`, { token: owner.token })).status).toBe(200);
  });

  it("refuses a revoked token, and the agent says why in its log", async () => {
    const host = await newHost(owner);
    const agent = spawnAgent(host.agent_token);
    children.push(agent);
    await waitForStatus(owner, host.id, "online");
    const rotated = await api(`/api/v1/hosts/${host.id}/rotate-token`, { method: "POST", token: owner.token });
    expect(rotated.status).toBe(200);
    // Its log line, not any "401": the agent's log names the control plane's URL, whose port can hold those digits.
    await waitFor("the agent to report the rejected token", async () => /agent token was rejected/.test(agent.output()));
    expect(agent.output()).toMatch(/rotate-token/);
    expect(agent.output()).not.toContain(host.agent_token);
    const status = await api(`/api/v1/hosts/${host.id}`, { token: owner.token });
    expect(status.body.status).toBe("disconnected");
  });

  it("keeps the newest of two agents with the same token", async () => {
    const host = await newHost(owner);
    const a = attachAgent(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const b = attachAgent(host.agent_token, { hostname: "second-agent" });
    await waitFor("the second agent's hello", async () => {
      const res = await api(`/api/v1/hosts/${host.id}`, { token: owner.token });
      return res.body.hostname === "second-agent";
    });
    const list = await api(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    expect(list.status).toBe(200);
    await a.agent.stop();
    await b.agent.stop();
  });
});
