import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../src/agent.ts";
import type { LogRecord } from "../src/log.ts";
import { ACK_AFTER_MS, type Chunk, type End, type EventMessage, type Hello, type Result, type StatsSample } from "../src/protocol.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";
import { FakeRelay } from "./relay-server.ts";
import { waitFor } from "../../test/support/wait.ts";

const docker = await requireDocker("agent-relay/test/agent.test.ts");
const run = promisify(execFile);
const dockerCli = async (...args: string[]) => (await run("docker", args, { timeout: 60_000 })).stdout.trim();

describe.skipIf(!docker.available)("agent against a stand-in relay and the real engine", () => {
  const token = `tok-${randomUUID()}`;
  const prefix = `pier-test-agent-${randomUUID().slice(0, 8)}`;
  const containers: string[] = [];
  const logs: LogRecord[] = [];
  let relay: FakeRelay;
  let agent: RunningAgent;
  let sleeperId = "";

  const runContainer = async (name: string, ...cmd: string[]) => {
    containers.push(name);
    return dockerCli("run", "-d", "--name", name, "--label", "dev.pier.test=agent", TEST_IMAGE, ...cmd);
  };

  beforeAll(async () => {
    sleeperId = await runContainer(`${prefix}-sleeper`, "sleep", "300");
    relay = await FakeRelay.start(token);
    agent = startAgent({
      url: relay.url,
      token,
      onLog: (record) => logs.push(record),
      logLevel: "debug",
      backoff: { baseMs: 20, capMs: 200 },
      eventFlushMs: 50,
      statsResyncMs: 1_000,
      statsPushMs: 0,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await relay?.close();
    if (containers.length) await run("docker", ["rm", "-f", ...containers]).catch(() => {});
  });

  it("says hello with the engine's versions and its capabilities", async () => {
    const hello = await relay.waitFor((m): m is Hello => m.type === "hello", "hello");
    expect(hello.engine_version).toBe(await dockerCli("version", "--format", "{{.Server.Version}}"));
    expect(hello.api_version).toMatch(/^1\.\d+$/);
    expect(hello.agent_version).toBe(agent.version);
    expect(hello.capabilities).toEqual(expect.arrayContaining(["container.list", "container.exec", "stats.all"]));
    expect(hello.hostname).not.toBe("");
    expect(hello.acks).toBe(true);
    expect(relay.upgrades[0]).toEqual({ path: "/api/v1/agent/connect", status: 101 });
  });

  it("lists the containers `docker ps` shows", async () => {
    // Other suites may start or remove containers meanwhile: compare against ps before and after.
    const before = new Set((await dockerCli("ps", "-q", "--no-trunc")).split("\n").filter(Boolean));
    const result = await relay.command("container.list", {});
    const after = new Set((await dockerCli("ps", "-q", "--no-trunc")).split("\n").filter(Boolean));
    expect(result.ok).toBe(true);
    const listed = (result as Extract<Result, { ok: true }>).data as Array<{ Id: string }>;
    const ids = new Set(listed.map((c) => c.Id));
    for (const id of before) if (after.has(id)) expect(ids).toContain(id);
    for (const id of ids) expect(before.has(id) || after.has(id)).toBe(true);
    expect(ids).toContain(sleeperId);
  });

  it("acknowledges a command still running after ACK_AFTER_MS, before its reply", async () => {
    const id = relay.sendCommand("container.exec", { id: sleeperId, cmd: ["sleep", "1"] }, { deadline: Date.now() + 30_000 });
    await relay.waitFor((m) => m.type === "result" && m.id === id, "result of a one-second exec");
    const mine = relay.messages.filter((m) => "id" in m && m.id === id).map((m) => m.type);
    expect(mine).toEqual(["ack", "result"]);
  });

  it("lets the reply of a command it answers at once be its acknowledgement: one message, not two", async () => {
    const id = relay.sendCommand("container.nope" as never, { id: sleeperId }, { deadline: Date.now() + 10_000 });
    await relay.waitFor((m) => m.type === "result" && m.id === id, "result of an unknown op");
    // Past ACK_AFTER_MS: an ack sent late would be here by now.
    await new Promise((resolve) => setTimeout(resolve, ACK_AFTER_MS + 250));
    const mine = relay.messages.filter((m) => "id" in m && m.id === id).map((m) => m.type);
    expect(mine).toEqual(["result"]);
  });

  it("answers an expired deadline with an error instead of running it", async () => {
    const result = await relay.command("container.inspect", { id: sleeperId }, { deadline: Date.now() - 1_000 });
    expect(result).toMatchObject({ ok: false, error: { code: "deadline_exceeded" } });
  });

  it("aborts the Docker call when the deadline passes mid-command", async () => {
    const result = await relay.command("container.exec", { id: sleeperId, cmd: ["sleep", "30"] }, { deadline: Date.now() + 300 });
    expect(result).toMatchObject({ ok: false, error: { code: "deadline_exceeded" } });
    expect(agent.status().inflight).toBe(0);
  });

  it("passes the engine's 404 through with its message", async () => {
    const result = await relay.command("container.inspect", { id: `${prefix}-missing` });
    expect(result).toMatchObject({
      ok: false,
      error: { code: "not_found", status: 404, message: `No such container: ${prefix}-missing` },
    });
  });

  it("rejects unknown ops and bad arguments", async () => {
    const unknown = await relay.command("container.nope" as never, {}, { deadline: Date.now() + 10_000 });
    expect(unknown).toMatchObject({ ok: false, error: { code: "unknown_op" } });
    const invalid = await relay.command("container.exec", { id: sleeperId, cmd: [] });
    expect(invalid).toMatchObject({ ok: false, error: { code: "invalid_args" } });
  });

  it("runs exec and returns exit code and output", async () => {
    const result = await relay.command("container.exec", { id: sleeperId, cmd: ["sh", "-c", "echo hi; exit 3"] });
    expect(result).toMatchObject({ ok: true, data: { exit_code: 3, stdout: "hi\n", stderr: "" } });
  });

  it("creates and starts a labelled container, then removes it", async () => {
    const name = `${prefix}-created`;
    containers.push(name);
    const created = await relay.command("container.create", {
      name,
      image: TEST_IMAGE,
      cmd: ["sleep", "300"],
      env: { MODE: "test" },
      labels: { "dev.pier.test": "agent" },
      start: true,
    });
    expect(created).toMatchObject({ ok: true, data: { name, started: true } });
    const labels = JSON.parse(await dockerCli("inspect", "--format", "{{json .Config.Labels}}", name));
    expect(labels).toMatchObject({ "dev.pier.managed": "true", "dev.pier.test": "agent" });
    const again = await relay.command("container.start", { id: name });
    expect(again).toMatchObject({ ok: true, data: { changed: false, note: "container already started" } });
    const refused = await relay.command("container.remove", { id: name });
    expect(refused).toMatchObject({ ok: false, error: { code: "conflict", status: 409 } });
    const removed = await relay.command("container.remove", { id: name, force: true });
    expect(removed).toMatchObject({ ok: true, data: { removed: true } });
  });

  it("answers stats.all from its live cache", async () => {
    const sample = await waitFor("a cached sample of the sleeper", async () => {
      const result = await relay.command("stats.all", {});
      if (!result.ok) throw new Error(result.error.message);
      const data = result.data as { samples: StatsSample[] };
      return data.samples.find((s) => s.id === sleeperId);
    });
    expect(sample.name).toBe(`${prefix}-sleeper`);
    expect(sample.memory_limit).toBeGreaterThan(0);
    expect(agent.status().statsFollowing).toBeGreaterThanOrEqual(1);
  });

  it("forwards a Docker event for a container started with the docker CLI", async () => {
    await agent.eventsReady;
    const name = `${prefix}-evented`;
    const id = await runContainer(name, "sleep", "300");
    const message = (await relay.waitFor(
      (m) => m.type === "event" && m.events.some((e) => e.id === id && e.action === "start"),
      `start event of ${name}`,
    )) as EventMessage;
    const event = message.events.find((e) => e.id === id && e.action === "start")!;
    expect(event).toMatchObject({ type: "container", attributes: { name, image: TEST_IMAGE } });
  });

  it("streams followed logs as chunks and ends the stream on cancel", async () => {
    const name = `${prefix}-chatty`;
    await runContainer(name, "sh", "-c", "echo first; echo oops >&2; while true; do echo tick; sleep 0.2; done");
    const id = relay.sendCommand("container.logs", { id: name, follow: true });
    const chunks: Chunk[] = [];
    await waitFor("log chunks", () => {
      chunks.splice(0, chunks.length, ...relay.messages.filter((m): m is Chunk => m.type === "chunk" && m.id === id));
      const text = (stream: string) =>
        chunks
          .filter((c) => c.stream === stream)
          .map((c) => c.data)
          .join("");
      // Docker copies stdout and stderr separately, so their relative order is not guaranteed.
      return text("stdout").startsWith("first\ntick\n") && text("stderr") === "oops\n" ? true : undefined;
    });
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    relay.send({ type: "cancel", id });
    const end = (await relay.waitFor((m) => m.type === "end" && m.id === id, "end of the log stream")) as End;
    expect(end.error).toMatchObject({ code: "cancelled" });
  });

  it("reconnects by itself after the server drops the socket", async () => {
    const hellos = relay.messages.filter((m) => m.type === "hello").length;
    relay.dropAgent();
    await relay.next((m) => m.type === "hello", "hello after the drop");
    expect(relay.messages.filter((m) => m.type === "hello")).toHaveLength(hellos + 1);
    expect(agent.status().connection).toMatchObject({ phase: "open", connections: 2 });
    const result = await relay.command("system.version", {});
    expect(result.ok).toBe(true);
  });

  it("backs off for minutes, and says why, when the token is refused (401)", async () => {
    const rejected: LogRecord[] = [];
    const refused = startAgent({
      url: relay.url,
      token: "not-the-token",
      onLog: (record) => rejected.push(record),
      events: false,
      statsCache: false,
    });
    try {
      const record = await waitFor("the rejection log", () =>
        rejected.find((r) => r.level === "error" && /token was rejected/.test(r.event)),
      );
      expect(record).toMatchObject({ status: 401, retry_in_ms: 300_000 });
      expect(record.event).toContain("POST /api/v1/hosts/:id/rotate-token");
      expect(refused.status().connection).toMatchObject({
        phase: "waiting",
        authRejected: true,
        nextDelayMs: 300_000,
        lastUpgradeStatus: 401,
      });
      expect(JSON.stringify(rejected)).not.toContain("not-the-token");
    } finally {
      await refused.stop();
    }
  });

  // Last in this suite: it leaves the main agent waiting out its long backoff.
  it("yields to a newer agent with the same token instead of fighting for the host", async () => {
    const newer = startAgent({ url: relay.url, token, onLog: () => {}, events: false, statsCache: false });
    try {
      const connections = relay.connections;
      await waitFor("the takeover", () => (agent.status().connection.replaced ? true : undefined));
      expect(agent.status().connection).toMatchObject({ phase: "waiting", nextDelayMs: 300_000, lastCloseCode: 4001 });
      expect(newer.status().connection.phase).toBe("open");
      // Only the newer agent connected; the replaced one did not come straight back.
      expect(relay.connections).toBe(connections + 1);
      expect(logs.some((r) => r.level === "warn" && /replaced this one/.test(r.event))).toBe(true);
    } finally {
      await newer.stop();
    }
  });

  it("never logs its token", () => {
    expect(JSON.stringify(logs)).not.toContain(token);
  });
});

describe.skipIf(!docker.available)("the agent process", () => {
  it("closes the socket with 1000 and exits 0 on SIGTERM", async () => {
    const token = `tok-${randomUUID()}`;
    const relay = await FakeRelay.start(token);
    const main = join(dirname(fileURLToPath(import.meta.url)), "../src/main.ts");
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, PIER_URL: relay.url, PIER_AGENT_TOKEN: token, PIER_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (piece: Buffer) => (stdout += piece.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await relay.waitFor((m) => m.type === "hello", "hello from the agent process");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await waitFor("the close frame", () => (relay.closes.length > 0 ? true : undefined));
      expect(relay.closes[0]).toEqual({ code: 1000, reason: "agent shutting down" });
      const lines = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as LogRecord);
      expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(["connected", "agent stopped"]));
      expect(stdout).not.toContain(token);
    } finally {
      child.kill("SIGKILL");
      await relay.close();
    }
  });
});
