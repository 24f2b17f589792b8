// The HostRelay Durable Object, for real, with a scripted agent on the other end of its WebSocket:
// the agent side is played by the test so that timing and failures can be controlled exactly.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, PING_TEXT, PONG_TEXT } from "#protocol";
import { addMember, call, expectProblem, json, newOwner, type TestAccount, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

async function newHost(owner: TestAccount, name = `h${Math.random().toString(36).slice(2, 8)}`) {
  return json(await call("/api/v1/hosts", { token: owner.token, body: { name } }), 201);
}

describe("HostRelay", () => {
  it("relays a command to the agent and its reply back, and mirrors presence from hello", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    expect(host.status).toBe("never_connected");
    const agent = await ScriptedAgent.connect(host.agent_token);
    const online = await waitForStatus(owner, host.id, "online");
    expect(online).toMatchObject({
      agent_version: "test-agent/1.0",
      engine_version: "20.10.24",
      addresses: ["192.0.2.10"],
      containers: { total: 2, running: 1 },
    });

    const pending = call(`/api/v1/hosts/${host.id}/containers?all=true`, { token: owner.token });
    const cmd = await agent.next();
    expect(cmd).toMatchObject({ op: "container.list", args: { all: true } });
    expect(cmd.deadline).toBeGreaterThan(Date.now());
    agent.reply(cmd.id, [
      {
        Id: "a".repeat(64),
        Names: ["/web"],
        Image: "busybox",
        ImageID: "sha256:x",
        Command: "sh",
        Created: 1700000000,
        State: "running",
        Status: "Up 1 second",
        Ports: [],
        Labels: {},
      },
    ]);
    const body = await json(await pending, 200);
    expect(body.containers).toEqual([
      expect.objectContaining({ id: "a".repeat(64), short_id: "a".repeat(12), name: "web", state: "running" }),
    ]);
    agent.ws.close(1000);
  });

  it("answers heartbeats without the object's code and maps agent errors to statuses", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const agent = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    agent.ws.send(PING_TEXT);
    await agent.received("the pong", (_, text) => text === PONG_TEXT);

    const pending = call(`/api/v1/hosts/${host.id}/containers/nope`, { token: owner.token });
    const cmd = await agent.next();
    agent.fail(cmd.id, { code: "not_found", message: "No such container: nope", status: 404 });
    await expectProblem(await pending, 404, /No such container: nope/);
    agent.ws.close(1000);
  });

  it("fails a command for an offline host at once with 503", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token }), 503, /offline/);
  });

  it("fails a command with no reply by its deadline with a timeout, and drops the late reply", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const agent = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const relay = env.HOST_RELAY.getByName(host.id);
    const outcome = relay.command("container.list", {}, { timeoutMs: 200 });
    const cmd = await agent.next();
    const result = await outcome;
    expect(result).toMatchObject({ ok: false, error: { code: "timeout", http: 504 } });
    // The agent is told to stop working on it.
    await agent.received("the cancel", (m) => m.type === "cancel" && m.id === cmd.id);
    // A late reply finds no one waiting; the next command is unaffected.
    agent.reply(cmd.id, []);
    const next = relay.command("container.list", {});
    const cmd2 = await agent.next();
    agent.reply(cmd2.id, []);
    expect(await next).toEqual({ ok: true, data: [] });
    agent.ws.close(1000);
  });

  it("fails a command the agent does not acknowledge with a 504 and drops the agent; an acknowledged one waits for its reply", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const agent = await ScriptedAgent.connect(host.agent_token, { hello: { acks: true } });
    await waitForStatus(owner, host.id, "online");

    const acked = call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    const first = await agent.next();
    agent.send({ type: "ack", id: first.id });
    agent.reply(first.id, []);
    expect((await acked).status).toBe(200);

    // A frozen agent: the command arrives and nothing comes back, not even the ack.
    const res = await call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    await expectProblem(res, 504, /did not acknowledge the command \(container\.list\) within 5 s; it may be frozen or overloaded/);
    expect((await agent.closing()).code).toBe(CLOSE_CODES.ack_missed);
    await waitForStatus(owner, host.id, "disconnected");
    expect((await call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token })).status).toBe(503);
  });

  it("fails every command in flight at once when the agent drops, and marks the host disconnected", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const agent = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const pending = [
      call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token }),
      call(`/api/v1/hosts/${host.id}/containers/x`, { token: owner.token }),
    ];
    await agent.next();
    await agent.next();
    agent.ws.close(1011, "boom");
    for (const res of pending) await expectProblem(await res, 502, /disconnected/);
    const after = await waitForStatus(owner, host.id, "disconnected");
    expect(after.disconnected_at).toEqual(expect.any(String));
  });

  it("keeps one agent per host: a new connection replaces the old one", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const first = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const second = await ScriptedAgent.connect(host.agent_token);
    expect((await first.closing()).code).toBe(4001);
    const pending = call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token });
    const cmd = await second.next();
    second.reply(cmd.id, []);
    expect(await json(await pending, 200)).toEqual({ containers: [] });
    expect(first.commands).toEqual([]);
    second.ws.close(1000);
  });

  it("refuses a bad, rotated or deleted agent token, and drops the agent on rotation", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const refused = await SELF.fetch("http://pier.test/api/v1/agent/connect", {
      headers: { upgrade: "websocket", authorization: "Bearer pagt_not-a-real-token" },
    });
    expect(refused.status).toBe(401);
    const agent = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const rotated = await json(await call(`/api/v1/hosts/${host.id}/rotate-token`, { method: "POST", token: owner.token }), 200);
    expect(rotated.agent_token).not.toBe(host.agent_token);
    // Disconnected once the rotation has answered, not only once the agent's close arrives.
    expect((await json<{ status: string }>(await call(`/api/v1/hosts/${host.id}`, { token: owner.token }), 200)).status).toBe(
      "disconnected",
    );
    expect((await agent.closing()).code).toBe(4003);
    const old = await SELF.fetch("http://pier.test/api/v1/agent/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${host.agent_token}` },
    });
    expect(old.status).toBe(401);
    const again = await ScriptedAgent.connect(rotated.agent_token);
    again.ws.close(1000);
    expect((await call(`/api/v1/hosts/${host.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    const deleted = await SELF.fetch("http://pier.test/api/v1/agent/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${rotated.agent_token}` },
    });
    expect(deleted.status).toBe(401);
  });

  it("validates arguments before a round trip", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const relay = env.HOST_RELAY.getByName(host.id);
    expect(await relay.command("container.inspect", { id: "" })).toMatchObject({ ok: false, error: { code: "invalid_args", http: 422 } });
    expect(await relay.command("rm -rf", {})).toMatchObject({ ok: false, error: { code: "unknown_op" } });
  });
});

describe("container secrets and host access by role", () => {
  it("masks environment values in inspect below admin, and keeps host bind mounts for admins", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const host = await newHost(owner);
    const agent = await ScriptedAgent.connect(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    const doc = { Id: "c".repeat(64), Name: "/app", Config: { Env: ["DATABASE_PASSWORD=hunter22", "PORT=8080"] } };

    const asMember = call(`/api/v1/hosts/${host.id}/containers/app`, { token: member.token });
    agent.reply((await agent.next()).id, doc);
    expect((await json(await asMember, 200)).Config.Env).toEqual(["DATABASE_PASSWORD=********", "PORT=********"]);
    const asOwner = call(`/api/v1/hosts/${host.id}/containers/app`, { token: owner.token });
    agent.reply((await agent.next()).id, doc);
    expect((await json(await asOwner, 200)).Config.Env).toEqual(doc.Config.Env);

    const bind = { image: "busybox", volumes: [{ source: "/var/run/docker.sock", target: "/var/run/docker.sock" }] };
    await expectProblem(await call(`/api/v1/hosts/${host.id}/containers`, { token: member.token, body: bind }), 403, /bind-mount/);
    expect(agent.commands).toEqual([]);
    agent.ws.close(1000);
  });

  it("takes only access tokens, never API keys, in the query string", async () => {
    const owner = await newOwner();
    const key = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "k" } }), 201);
    await expectProblem(await call(`/api/v1/events?access_token=${key.key}`), 401, /not accepted in the URL/);
  });
});

describe("hosts API", () => {
  it("registers hosts with unique names, install commands and a one-time token; viewers cannot", async () => {
    const owner = await newOwner();
    const host = await newHost(owner, "119server");
    expect(host.agent_token).toMatch(/^pagt_/);
    expect(host.install.npm).toContain(`PIER_AGENT_TOKEN=${host.agent_token} npm run agent`);
    expect(host.install.docker).toContain("-v /var/run/docker.sock:/var/run/docker.sock");
    expect(host.is_default).toBe(true);
    await expectProblem(await call("/api/v1/hosts", { token: owner.token, body: { name: "119server" } }), 409);
    await expectProblem(await call("/api/v1/hosts", { token: owner.token, body: { name: "bad name!" } }), 422);
    const list = await json(await call("/api/v1/hosts", { token: owner.token }), 200);
    expect(JSON.stringify(list)).not.toContain(host.agent_token);
    const second = await newHost(owner);
    expect(second.is_default).toBe(false);
    const viewer = await addMember(owner, "viewer");
    await expectProblem(await call("/api/v1/hosts", { token: viewer.token, body: { name: "nope" } }), 403);
    await json(await call(`/api/v1/hosts/${host.id}`, { token: viewer.token }), 200);
  });

  it("makes another organization's hosts and containers look missing", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    const host = await newHost(b);
    for (const [method, path] of [
      ["GET", `/api/v1/hosts/${host.id}`],
      ["DELETE", `/api/v1/hosts/${host.id}`],
      ["POST", `/api/v1/hosts/${host.id}/rotate-token`],
      ["GET", `/api/v1/hosts/${host.id}/containers`],
      ["POST", `/api/v1/hosts/${host.id}/containers/x/start`],
      ["GET", `/api/v1/hosts/${host.id}/stats`],
      ["GET", `/api/v1/hosts/${host.id}/events`],
    ] as const) {
      await expectProblem(await call(path, { method, token: a.token }), 404);
    }
    const list = await json(await call("/api/v1/hosts", { token: a.token }), 200);
    expect(list.hosts).toEqual([]);

    // Connected, its relay answers commands without a database read — and still only to its own
    // organization: to another, it looks exactly like a host that does not exist.
    const agent = await ScriptedAgent.connect(host.agent_token);
    const missing = `hst_${"0".repeat(20)}`;
    for (const [method, path] of [
      ["GET", "/containers"],
      ["GET", "/containers/x"],
      ["POST", "/containers/x/stop"],
      ["GET", "/stats"],
      ["GET", "/images"],
      ["DELETE", "/images/busybox"],
    ] as const) {
      const theirs = await expectProblem(await call(`/api/v1/hosts/${host.id}${path}`, { method, token: a.token }), 404);
      const none = await expectProblem(await call(`/api/v1/hosts/${missing}${path}`, { method, token: a.token }), 404);
      expect(theirs.detail.replace(host.id, "ID")).toBe(none.detail.replace(missing, "ID"));
    }
    await expectProblem(await call("/api/v1/hosts/not-a-host-id/containers", { token: a.token }), 404);
    expect(agent.commands).toEqual([]);
    agent.ws.close(1000);
  });

  it("answers 503 for a host whose agent never connected", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/containers`, { token: owner.token }), 503, /has not connected yet/);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/containers/x/start`, { method: "POST", token: owner.token }), 503);
  });
});
