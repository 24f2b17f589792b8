// The agent's terminal sessions against the real engine, driven directly (no control plane): the
// frames it would put on the relay socket are captured here. What the end-to-end test cannot
// reach cheaply lives here: the idle timeout, and the flow-control window holding output back
// until the relay acknowledges it.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerClient } from "../src/docker/client.ts";
import { createLogger } from "../src/log.ts";
import {
  decodeTerminalFrame,
  encodeTerminalFrame,
  parseAgentMessage,
  TERMINAL_WINDOW_BYTES,
  type AgentMessage,
  type TermOpen,
} from "../src/protocol.ts";
import { Terminals } from "../src/terminal.ts";
import { waitFor } from "../../test/support/wait.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const available = await requireDocker("agent-relay/test/terminal.test.ts");
const cli = (...args: string[]) => exec("docker", args).then((r) => r.stdout.trim());

describe.skipIf(!available.available)("terminal sessions on the real engine", () => {
  const tag = randomUUID().slice(0, 8);
  const container = `pier-term-${tag}`;
  const docker = new DockerClient({ host: process.env.DOCKER_HOST });
  const messages: AgentMessage[] = [];
  const output = new Map<string, number>();
  const text = new Map<string, string>();
  const terminals = new Terminals({
    docker,
    send: (raw) => {
      const parsed = parseAgentMessage(raw);
      if (!parsed.ok) throw new Error(parsed.error);
      messages.push(parsed.message);
      return true;
    },
    sendBinary: (frame) => {
      const decoded = decodeTerminalFrame(frame);
      if (!decoded) throw new Error("undecodable frame");
      output.set(decoded.channel, (output.get(decoded.channel) ?? 0) + decoded.payload.length);
      text.set(decoded.channel, (text.get(decoded.channel) ?? "") + Buffer.from(decoded.payload).toString("latin1"));
      return true;
    },
    log: createLogger({ level: "error" }),
    // Only the in-container signal: this process may be root in the host's PID namespace, which
    // a systemd (DynamicUser) or containerized agent is not.
    signalHostPids: false,
  });
  const open = (id: string, extra: Partial<TermOpen> = {}): TermOpen => ({
    v: 1,
    type: "term_open",
    id,
    container,
    mode: "exec",
    cols: 80,
    rows: 24,
    idle_timeout_ms: 60_000,
    ...extra,
  });
  const exitOf = (id: string) => messages.find((m) => m.type === "term_exit" && m.id === id);

  beforeAll(async () => {
    await docker.negotiateApiVersion(AbortSignal.timeout(10_000));
    await cli("run", "-d", "--label", `dev.pier.test=${tag}`, "--name", container, TEST_IMAGE, "sleep", "3600");
  });
  afterAll(async () => {
    await terminals.closeAll();
    await cli("rm", "-f", container).catch(() => undefined);
    await docker.close();
  });

  it("ends a terminal nobody uses after the idle timeout: term_exit idle, and the shell is gone", async () => {
    await terminals.start(open("idle", { cmd: ["/bin/sh", "-c", "echo idle-start; sleep 4343"], idle_timeout_ms: 500 }));
    expect(messages).toContainEqual(expect.objectContaining({ type: "term_opened", id: "idle" }));
    await waitFor("sleep 4343 in docker top", async () => (await cli("top", container)).includes("sleep 4343"));
    await waitFor("the idle exit", () => exitOf("idle"));
    expect(exitOf("idle")).toMatchObject({ reason: "idle", exit_code: null });
    await waitFor("the process to end", async () => !(await cli("top", container)).includes("sleep 4343"));
  });

  it("holds output back once a window's worth is unacknowledged, and lets it flow as acks come", async () => {
    // 4 window's worth of output, far more than a socket buffer: only acks let it all through.
    const total = TERMINAL_WINDOW_BYTES * 4;
    await terminals.start(open("flow", { cmd: ["/bin/sh", "-c", `head -c ${total} /dev/zero | tr '\\0' 'x'; exit 0`] }));
    await waitFor("the window to fill", () => (output.get("flow") ?? 0) >= TERMINAL_WINDOW_BYTES);
    // The agent paused: what arrived stays within the window plus the pieces already read.
    const held = output.get("flow") ?? 0;
    expect(held).toBeLessThan(TERMINAL_WINDOW_BYTES * 2);
    expect(exitOf("flow")).toBeUndefined();

    let acked = 0;
    await waitFor(
      "all output, acknowledged as it arrives",
      () => {
        const seen = output.get("flow") ?? 0;
        if (seen > acked) {
          terminals.ack("flow", seen - acked);
          acked = seen;
        }
        return exitOf("flow");
      },
      { interval: 10 },
    );
    expect(exitOf("flow")).toMatchObject({ reason: "exited", exit_code: 0 });
    // A TTY turns nothing into CRLF here (no newlines), so the byte count is exact.
    expect(output.get("flow")).toBe(total);
  });

  it("writes input frames to the process and resizes its TTY", async () => {
    await terminals.start(open("io", { cmd: ["/bin/sh"] }));
    await terminals.resize("io", 132, 43);
    terminals.input(encodeTerminalFrame("io", new TextEncoder().encode("stty size; exit 4\n")));
    await waitFor("the exit", () => exitOf("io"));
    expect(text.get("io")).toContain("43 132");
    expect(exitOf("io")).toMatchObject({ reason: "exited", exit_code: 4 });
  });

  it("fails to open with the engine's reason: no such container, no shell, not running", async () => {
    await terminals.start(open("missing", { container: `no-such-${tag}` }));
    expect(exitOf("missing")).toMatchObject({ reason: "failed", error: { code: "not_found", status: 404 } });

    await terminals.start(open("noexec", { cmd: ["/no/such/binary"] }));
    // The engine starts the exec and its runtime fails it: the terminal opens and exits at once.
    await waitFor("the exit", () => exitOf("noexec"));
    expect(exitOf("noexec")).toMatchObject({ reason: "exited" });
    expect((exitOf("noexec") as { exit_code: number }).exit_code).not.toBe(0);

    await cli("stop", "-t", "0", container);
    await terminals.start(open("stopped"));
    expect(exitOf("stopped")).toMatchObject({ reason: "failed", error: { code: "conflict", status: 409 } });
    await terminals.start(open("stopped-attach", { mode: "attach" }));
    expect(exitOf("stopped-attach")).toMatchObject({ reason: "failed", error: { code: "conflict" } });
  });
});
