/**
 * A stand-in for the HostRelay Durable Object in agent tests: a real WebSocket server (ws) that
 * checks the bearer token on upgrade, answers heartbeats like `setWebSocketAutoResponse`, records
 * what the agent sends, and sends commands. Node has no WebSocket server of its own.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { CONNECT_PATH } from "../src/config.ts";
import {
  CLOSE_CODES,
  commandTimeoutMs,
  encode,
  parseAgentMessage,
  PING_TEXT,
  PONG_TEXT,
  type AgentMessage,
  type Cmd,
  type OpName,
  type Result,
} from "../src/protocol.ts";

type Waiter = { match: (m: AgentMessage) => boolean; resolve: (m: AgentMessage) => void };

export class FakeRelay {
  readonly messages: AgentMessage[] = [];
  readonly closes: Array<{ code: number; reason: string }> = [];
  /** Upgrade requests seen, with the status they got. */
  readonly upgrades: Array<{ path: string; status: number }> = [];
  connections = 0;
  /** Answer every upgrade with this status instead (401 to play a revoked token). */
  rejectWith: number | undefined;
  invalidMessages: string[] = [];
  #socket: WebSocket | undefined;
  #waiters: Waiter[] = [];
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #token: string;

  private constructor(token: string) {
    this.#token = token;
    this.#server = createServer((_req, res) => res.writeHead(426).end());
    this.#server.on("upgrade", (request, socket, head) => {
      // A client that gives up mid-handshake resets the socket; that is not a test failure.
      socket.on("error", () => {});
      const ok = request.headers.authorization === `Bearer ${this.#token}` && request.url === CONNECT_PATH;
      const status = this.rejectWith ?? (ok ? 101 : 401);
      this.upgrades.push({ path: request.url ?? "", status });
      if (status !== 101) {
        socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
    });
  }

  static async start(token: string): Promise<FakeRelay> {
    const relay = new FakeRelay(token);
    await new Promise<void>((resolve) => relay.#server.listen(0, "127.0.0.1", resolve));
    return relay;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** One agent per host: a new connection replaces the old, as the Durable Object does. */
  #accept(ws: WebSocket): void {
    this.#socket?.close(CLOSE_CODES.replaced, "replaced by a newer connection");
    this.#socket = ws;
    this.connections++;
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString("utf8");
      if (text === PING_TEXT) {
        ws.send(PONG_TEXT);
        return;
      }
      const parsed = parseAgentMessage(text);
      if (!parsed.ok) {
        this.invalidMessages.push(`${parsed.error}: ${text.slice(0, 200)}`);
        return;
      }
      this.messages.push(parsed.message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(parsed.message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(parsed.message);
        }
      }
    });
    ws.on("close", (code, reason) => this.closes.push({ code, reason: reason.toString() }));
  }

  /** The first message (already received or still to come) that matches. */
  waitFor<M extends AgentMessage>(match: (m: AgentMessage) => m is M, what: string, timeoutMs?: number): Promise<M>;
  waitFor(match: (m: AgentMessage) => boolean, what: string, timeoutMs?: number): Promise<AgentMessage>;
  waitFor(match: (m: AgentMessage) => boolean, what: string, timeoutMs = 20_000): Promise<AgentMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return this.#await(match, what, timeoutMs);
  }

  /** The next matching message from now on. */
  next(match: (m: AgentMessage) => boolean, what: string, timeoutMs = 20_000): Promise<AgentMessage> {
    return this.#await(match, what, timeoutMs);
  }

  #await(match: (m: AgentMessage) => boolean, what: string, timeoutMs: number): Promise<AgentMessage> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      // A guard against hanging, not a performance assertion.
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`relay: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  send(message: Parameters<typeof encode>[0]): void {
    if (!this.#socket) throw new Error("relay: no agent connected");
    this.#socket.send(encode(message));
  }

  /** Sends a cmd (deadline from the shared timeout table unless given) and returns its id. */
  sendCommand<O extends OpName>(op: O, args: unknown, options: { deadline?: number; id?: string } = {}): string {
    const id = options.id ?? randomUUID();
    const cmd: Omit<Cmd, "v"> = {
      type: "cmd",
      id,
      op,
      args,
      deadline: options.deadline ?? Date.now() + commandTimeoutMs(op, args),
    };
    this.send(cmd);
    return id;
  }

  /** Sends a cmd and waits for its result. */
  async command<O extends OpName>(op: O, args: unknown, options: { deadline?: number } = {}): Promise<Result> {
    const id = this.sendCommand(op, args, options);
    return (await this.waitFor((m) => m.type === "result" && m.id === id, `result of ${op}`)) as Result;
  }

  /** Kills the TCP connection without a close frame, like a deploy or a network cut. */
  dropAgent(): void {
    this.#socket?.terminate();
    this.#socket = undefined;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
