import {
  decodeTerminalFrame,
  encode,
  encodeTerminalFrame,
  PROTOCOL_VERSION,
  TERMINAL_CAPABILITY,
  TERMINAL_CLOSE_CODES,
  TERMINAL_FRAME_MAX_BYTES,
  TerminalClientMessageSchema,
  type Hello,
  type TerminalMode,
  type TerminalReady,
  type TermExit,
  type TermOpened,
} from "#protocol";
import { sha256Hex } from "../lib/crypto.ts";
import { relayHttpStatus } from "../lib/relay.ts";
import type { Principal } from "../services/principal.ts";

/** What the Worker asks for, in the `x-pier-terminal` header of the upgrade it hands over. */
export interface TerminalRequest extends TerminalOptions {
  organizationId: string;
  userId: string;
  container: string;
  idleTimeoutMs: number;
}

/** What the caller chooses about a session: a shell or a command, as whom, where, and the window's size. */
export interface TerminalOptions {
  mode: TerminalMode;
  cmd?: string[];
  user?: string;
  workdir?: string;
  cols: number;
  rows: number;
}

export const TERMINAL_HEADER = "x-pier-terminal";
export const TERMINAL_TAG = "terminal";
const channelTag = (channel: string) => `${TERMINAL_TAG}:${channel}`;

/** Kept on the client's socket, so it survives hibernation. */
interface TerminalAttachment {
  kind: "terminal";
  channel: string;
  container: string;
  userId: string;
}

/** A terminal between `term_open` and the client's socket being accepted. */
interface Opening {
  settle: (outcome: { ok: true; opened: TermOpened } | { ok: false; exit: TermExit }) => void;
  /** `term_opened` arrived; the client's socket is about to be accepted. */
  opened: boolean;
  /** Output (and an exit) that arrived before the client's socket existed. */
  early: Uint8Array[];
  exit?: TermExit;
}

/** A ticket as stored (under the SHA-256 of its value): who may open which container, until when. */
interface StoredTicket {
  principal: Principal;
  container: string;
  expiresAt: number;
}

const OPEN_TIMEOUT_MS = 25_000;
const TICKET_PREFIX = "terminal-ticket:";
const textEncoder = new TextEncoder();

/**
 * The HostRelay's terminal half (protocol/terminal.ts): accepts the client's socket as a
 * hibernatable WebSocket tagged with its channel, and moves frames between it and the agent.
 * Everything it needs to route a frame is in the socket's tag and attachment, so a relay that
 * hibernated between keystrokes wakes up and carries on.
 */
export class TerminalRelay {
  readonly #opening = new Map<string, Opening>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly agentSocket: () => WebSocket | undefined,
  ) {}

  static isTerminal(ctx: DurableObjectState, ws: WebSocket): boolean {
    return ctx.getTags(ws).includes(TERMINAL_TAG);
  }

  // ---- tickets ----------------------------------------------------------------------------

  /** A single-use ticket for one container of this host, for a client that cannot send headers. */
  async issueTicket(principal: Principal, container: string, ttlMs: number): Promise<{ ticket: string; expiresAt: number }> {
    const now = Date.now();
    for (const [key, stored] of this.ctx.storage.kv.list<StoredTicket>({ prefix: TICKET_PREFIX })) {
      if (stored.expiresAt <= now) this.ctx.storage.kv.delete(key);
    }
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const ticket = `ptkt_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    const expiresAt = now + ttlMs;
    this.ctx.storage.kv.put(TICKET_PREFIX + (await sha256Hex(ticket)), { principal, container, expiresAt } satisfies StoredTicket);
    return { ticket, expiresAt };
  }

  /** The ticket's principal if it is live and for this container; it is spent either way. */
  async redeemTicket(ticket: string, container: string): Promise<Principal | null> {
    const key = TICKET_PREFIX + (await sha256Hex(ticket));
    // No await between the read and the delete: two redemptions cannot both see it.
    const stored = this.ctx.storage.kv.get<StoredTicket>(key);
    if (!stored) return null;
    this.ctx.storage.kv.delete(key);
    if (stored.expiresAt <= Date.now() || stored.container !== container) return null;
    return stored.principal;
  }

  // ---- opening ----------------------------------------------------------------------------

  /**
   * Opens the terminal on the host first and only then accepts the client's socket, so a missing
   * container, a stopped one or an offline host is an HTTP status on the upgrade, not a socket
   * that opens and closes.
   */
  async open(request: TerminalRequest, hello: Hello | null): Promise<Response> {
    const socket = this.agentSocket();
    if (!socket) return problem("host_offline", "The host is offline: its agent is not connected. Start the agent and retry.");
    if (hello && !hello.capabilities.includes(TERMINAL_CAPABILITY)) {
      return problem("unknown_op", `This host's agent (${hello.agent_version}) has no terminal support: upgrade the agent.`);
    }
    const channel = crypto.randomUUID();
    const outcome = await new Promise<{ ok: true; opened: TermOpened } | { ok: false; exit: TermExit }>((resolve) => {
      const timer = setTimeout(() => {
        this.#opening.delete(channel);
        this.#sendToAgent(encode({ type: "term_close", id: channel }));
        resolve({ ok: false, exit: failedExit(channel, "timeout", "The host did not open the terminal in time.") });
      }, OPEN_TIMEOUT_MS);
      this.#opening.set(channel, {
        opened: false,
        early: [],
        settle: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
      });
      try {
        socket.send(
          encode({
            type: "term_open",
            id: channel,
            container: request.container,
            mode: request.mode,
            ...(request.cmd ? { cmd: request.cmd } : {}),
            ...(request.user ? { user: request.user } : {}),
            ...(request.workdir ? { workdir: request.workdir } : {}),
            cols: request.cols,
            rows: request.rows,
            idle_timeout_ms: request.idleTimeoutMs,
          }),
        );
      } catch (err) {
        this.#settle(channel, {
          ok: false,
          exit: failedExit(channel, "agent_disconnected", `Could not reach the host's agent: ${String(err)}`),
        });
      }
    });
    const pending = this.#opening.get(channel);
    this.#opening.delete(channel);
    if (!outcome.ok) {
      const error = outcome.exit.error ?? { code: "internal", message: "The terminal ended before it opened." };
      return problem(error.code, error.message);
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [TERMINAL_TAG, channelTag(channel)]);
    server.serializeAttachment({
      kind: "terminal",
      channel,
      container: request.container,
      userId: request.userId,
    } satisfies TerminalAttachment);
    const ready: TerminalReady = { type: "ready", mode: outcome.opened.mode, container: request.container, cmd: outcome.opened.cmd };
    server.send(JSON.stringify(ready));
    for (const frame of pending?.early ?? []) this.#toClient(server, channel, frame);
    // A process that exited before the socket was handed out (a one-shot command): closed once the
    // upgrade has been answered — a close sent before it leaves the client's TCP connection open.
    const exit = pending?.exit;
    if (exit) setTimeout(() => this.#closeClient(server, exit), 0);
    return new Response(null, { status: 101, webSocket: client });
  }

  // ---- from the agent ---------------------------------------------------------------------

  onAgentOpened(message: TermOpened): void {
    const opening = this.#opening.get(message.id);
    if (opening) {
      opening.opened = true;
      opening.settle({ ok: true, opened: message });
    }
    // A channel nobody waits for (the open timed out): end it on the host.
    else if (this.#client(message.id) === undefined) this.#sendToAgent(encode({ type: "term_close", id: message.id }));
  }

  onAgentExit(message: TermExit): void {
    const opening = this.#opening.get(message.id);
    if (opening) {
      // Before `term_opened`: it failed to open. After (the socket is being accepted): keep it for then.
      if (!opening.opened) this.#settle(message.id, { ok: false, exit: message });
      else opening.exit = message;
      return;
    }
    const client = this.#client(message.id);
    if (client) this.#closeClient(client, message);
  }

  /** A binary frame from the agent: one terminal's output. */
  onAgentFrame(raw: ArrayBuffer): void {
    const frame = decodeTerminalFrame(new Uint8Array(raw));
    if (!frame) return;
    const client = this.#client(frame.channel);
    if (client) {
      this.#toClient(client, frame.channel, frame.payload);
      return;
    }
    const opening = this.#opening.get(frame.channel);
    if (opening) opening.early.push(frame.payload.slice());
    else this.#sendToAgent(encode({ type: "term_close", id: frame.channel }));
  }

  /** The agent's socket is gone (or replaced): every terminal on it is over. */
  closeAll(why: string): void {
    for (const [channel] of this.#opening) {
      this.#settle(channel, { ok: false, exit: failedExit(channel, "agent_disconnected", why) });
    }
    for (const client of this.ctx.getWebSockets(TERMINAL_TAG)) {
      try {
        client.close(TERMINAL_CLOSE_CODES.failed, truncateReason(`host agent disconnected: ${why}`));
      } catch {
        // already closing
      }
    }
  }

  // ---- from the client --------------------------------------------------------------------

  onClientMessage(ws: WebSocket, raw: string | ArrayBuffer): void {
    const { channel } = ws.deserializeAttachment() as TerminalAttachment;
    if (typeof raw !== "string") {
      this.#input(channel, new Uint8Array(raw));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = TerminalClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      ws.send(
        JSON.stringify({
          type: "error",
          message:
            'Text frames are JSON control messages ({"type":"resize","cols":80,"rows":24} or {"type":"input","data":"…"}); send keystrokes as binary frames.',
        }),
      );
      return;
    }
    const message = parsed.data;
    if (message.type === "resize") this.#sendToAgent(encode({ type: "term_resize", id: channel, cols: message.cols, rows: message.rows }));
    else this.#input(channel, textEncoder.encode(message.data));
  }

  /** The client closed its socket: the host ends the exec (or detaches). */
  onClientClose(ws: WebSocket): void {
    const { channel } = ws.deserializeAttachment() as TerminalAttachment;
    this.#sendToAgent(encode({ type: "term_close", id: channel }));
    try {
      ws.close(1000, "closed");
    } catch {
      // already closed
    }
  }

  // ---- internals --------------------------------------------------------------------------

  #input(channel: string, bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += TERMINAL_FRAME_MAX_BYTES) {
      this.#sendToAgent(encodeTerminalFrame(channel, bytes.subarray(at, at + TERMINAL_FRAME_MAX_BYTES)));
    }
  }

  #toClient(client: WebSocket, channel: string, payload: Uint8Array): void {
    try {
      client.send(payload);
    } catch {
      return; // the client is going; its close ends the terminal
    }
    this.#sendToAgent(encode({ type: "term_ack", id: channel, bytes: payload.length }));
  }

  #closeClient(client: WebSocket, exit: TermExit): void {
    try {
      if (exit.reason === "exited") client.close(TERMINAL_CLOSE_CODES.exited, JSON.stringify({ exit_code: exit.exit_code }));
      else if (exit.reason === "idle") client.close(TERMINAL_CLOSE_CODES.idle, "idle timeout");
      else client.close(TERMINAL_CLOSE_CODES.failed, truncateReason(exit.error?.message ?? "the terminal failed on the host"));
    } catch {
      // already closed
    }
  }

  #client(channel: string): WebSocket | undefined {
    return this.ctx.getWebSockets(channelTag(channel))[0];
  }

  #settle(channel: string, outcome: Parameters<Opening["settle"]>[0]): void {
    this.#opening.get(channel)?.settle(outcome);
  }

  #sendToAgent(frame: string | Uint8Array): void {
    try {
      this.agentSocket()?.send(frame);
    } catch {
      // the agent is gone; closeAll follows
    }
  }
}

function failedExit(channel: string, code: string, message: string): TermExit {
  return { v: PROTOCOL_VERSION, type: "term_exit", id: channel, reason: "failed", exit_code: null, error: { code, message } };
}

/** A failed open as the Worker reads it: the relay error's HTTP status, with the code and message. */
function problem(code: string, message: string): Response {
  return Response.json({ code, message }, { status: relayHttpStatus(code) });
}

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
function truncateReason(reason: string): string {
  let out = reason;
  while (new TextEncoder().encode(out).length > 123) out = out.slice(0, -1);
  return out;
}
