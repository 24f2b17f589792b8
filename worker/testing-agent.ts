// The agent side of the relay protocol, played by Worker tests over the real HostRelay WebSocket
// (test-only): a scripted peer, so that timing, replies, output and failures are exact. It is not
// a Docker mock — the agent's own tests run against the real engine.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { encode, type AgentMessage, type Cmd, type Hello, type OpName, type Outgoing, type RelayError } from "#protocol";
import { waitFor } from "../test/support/wait.ts";

type RelayMessage = { type: string; id?: string } & Record<string, unknown>;

export interface ScriptedAgentOptions {
  capabilities?: OpName[];
  /** Fields of the `hello` message to override. */
  hello?: Partial<Outgoing<Hello>>;
}

const DEFAULT_CAPABILITIES: OpName[] = [
  "container.list",
  "container.inspect",
  "container.start",
  "container.logs",
  "stats.all",
  "deploy.build",
  "deploy.run",
  "deploy.remove",
];

export class ScriptedAgent {
  /** Commands received and not yet taken by `next()`. */
  readonly commands: Cmd[] = [];
  /** Every message the relay sent, as text, in order. */
  readonly messages: string[] = [];
  /** Ids of the commands the relay cancelled. */
  readonly cancels: string[] = [];
  /** Binary frames the relay sent (terminal input, upload bytes), in order. */
  readonly frames: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #waiters: Array<(cmd: Cmd) => void> = [];
  #binary: Promise<void> = Promise.resolve();

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        // workerd hands binary messages to this end as Blobs: read them in order.
        const data = event.data as Blob | ArrayBuffer;
        this.#binary = this.#binary.then(async () => {
          this.frames.push(new Uint8Array(data instanceof ArrayBuffer ? data : await data.arrayBuffer()));
        });
        return;
      }
      const text = event.data;
      this.messages.push(text);
      const msg = JSON.parse(text) as RelayMessage;
      if (msg.type === "cancel" && msg.id) this.cancels.push(msg.id);
      if (msg.type !== "cmd") return;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(msg as unknown as Cmd);
      else this.commands.push(msg as unknown as Cmd);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  /** Connects with the host's agent token and says hello. */
  static async connect(token: string, options: ScriptedAgentOptions = {}): Promise<ScriptedAgent> {
    const res = await SELF.fetch("http://pier.test/api/v1/agent/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const agent = new ScriptedAgent(ws);
    agent.send({
      type: "hello",
      agent_version: "test-agent/1.0",
      hostname: "scripted",
      engine_version: "20.10.24",
      api_version: "1.41",
      os: "Debian",
      arch: "x86_64",
      addresses: ["192.0.2.10"],
      capabilities: options.capabilities ?? DEFAULT_CAPABILITIES,
      containers: { total: 2, running: 1, paused: 0, stopped: 1 },
      ...options.hello,
    });
    return agent;
  }

  send(message: Outgoing<AgentMessage>): void {
    this.ws.send(encode(message));
  }

  /** The next command from the relay (already received, or still to come). */
  next(): Promise<Cmd> {
    const queued = this.commands.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Waits until the relay has sent a message that `match` accepts, and returns it parsed. */
  received(what: string, match: (msg: RelayMessage, text: string) => boolean): Promise<RelayMessage> {
    return waitFor(what, () => {
      const text = this.messages.find((m) => match(JSON.parse(m), m));
      return text === undefined ? undefined : (JSON.parse(text) as RelayMessage);
    });
  }

  /** Waits until the relay closes the socket, and returns the close code and reason. */
  closing(): Promise<{ code: number; reason: string }> {
    return waitFor("the relay to close the agent's socket", () => this.closed);
  }

  reply(id: string, data: unknown): void {
    this.send({ type: "result", id, ok: true, data });
  }

  fail(id: string, error: RelayError): void {
    this.send({ type: "result", id, ok: false, error });
  }

  chunk(cmd: Cmd, seq: number, data: string): void {
    this.send({ type: "chunk", id: cmd.id, seq, data });
  }

  end(cmd: Cmd, data?: unknown, error?: RelayError): void {
    this.send({ type: "end", id: cmd.id, ...(data !== undefined ? { data } : {}), ...(error ? { error } : {}) });
  }

  /** Plays a successful build and run of a deployment. */
  async succeed(image = "pier/x:1"): Promise<{ build: Cmd; run: Cmd }> {
    const build = await this.next();
    expect(build.op).toBe("deploy.build");
    this.end(build, { image, image_id: "sha256:abc", commit: "a".repeat(40), commit_message: "msg", compose: false });
    const run = await this.next();
    expect(run.op).toBe("deploy.run");
    this.end(run, { container_id: "c".repeat(64), container_name: "x", replaced: [] });
    return { build, run };
  }
}
