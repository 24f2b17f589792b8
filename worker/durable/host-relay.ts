import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import {
  CLOSE_CODES,
  commandTimeoutMs,
  encode,
  isOpName,
  isStreaming,
  isTransferFrame,
  transferKind,
  OPS,
  parseAgentMessage,
  PING_TEXT,
  PONG_TEXT,
  type AgentMessage,
  type ContainerCounts,
  type DockerEvent,
  type Hello,
  type OpName,
  type RelayStreamLine,
} from "#protocol";
import { createDatabase } from "../db/client.ts";
import { getMonitoringSettings } from "../services/monitoring-settings.ts";
import { hosts, type HostState } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { HEARTBEAT_WINDOW_MS, heartbeatWindowMs } from "../lib/presence.ts";
import { agentAckTimeoutMs, hostLostAfterMs } from "../settings.ts";
import { type CommandOutcome, failedOutcome as fail } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
import type { HostPresenceEvent } from "./event-hub.ts";
import { HostWatch, quietly } from "./host-watch.ts";
import { errorLogFields } from "../db/errors.ts";
import type { Principal } from "../services/principal.ts";
import { reapplyHostFirewalls } from "../services/firewall.ts";
import { TERMINAL_HEADER, TerminalRelay, type TerminalRequest } from "./terminal-relay.ts";
import { TransferRelay, type DownloadOutcome } from "./transfer-relay.ts";

/** Who this object serves; set by the Worker on the agent's upgrade request, kept in storage. */
export interface HostIdentity {
  id: string;
  organizationId: string;
  name: string;
}

export type { CommandOutcome };

interface SocketAttachment {
  connectionId: string;
  connectedAt: number;
  hello: Hello | null;
}

interface PendingCommand {
  op: string;
  resolve: (outcome: CommandOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Until the agent's `ack` arrives (only for agents that send them). */
  ackTimer?: ReturnType<typeof setTimeout>;
}

interface OpenStream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  timer: ReturnType<typeof setTimeout>;
  ackTimer?: ReturnType<typeof setTimeout>;
}

/** The longest wait between presence checks while an agent is connected. */
const PRESENCE_CHECK_MS = 30_000;
/** A reply this long past its deadline is still waited for, to absorb clock and network skew. */
const DEADLINE_GRACE_MS = 1_000;

const AGENT_TAG = "agent";
const encoder = new TextEncoder();

/**
 * One per host. Owns the agent's WebSocket (Hibernation API), relays commands to it and their
 * replies back, fans its Docker events out to the organization's EventHub, and keeps presence.
 *
 * Commands in flight live in memory: an RPC awaiting a reply keeps the object awake, so nothing is
 * lost to hibernation; when the socket drops, every one of them fails at once.
 */
export class HostRelay extends DurableObject<Bindings> {
  private pending = new Map<string, PendingCommand>();
  private streams = new Map<string, OpenStream>();
  private lastMessageAt = 0;
  /** Connections whose end was already handled (see onAgentGone). */
  private readonly settled = new Set<string>();
  /** Notifications and metrics (issue 5): presence, container deaths, host samples. */
  private readonly watch: HostWatch;
  /** Interactive terminals (issue 15): client sockets, relayed to the agent on channels. */
  private readonly terminals: TerminalRelay;
  /** Byte transfers (images, container files, backups): credit-controlled binary frames. */
  private readonly transfers: TransferRelay;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.watch = new HostWatch(ctx.storage, env);
    this.terminals = new TerminalRelay(ctx, () => this.agentSocket());
    this.transfers = new TransferRelay(() => this.agentSocket());
    // Heartbeats are answered by the runtime without waking the object (exact text match).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    // Every wake re-arms presence: after a restart of the control plane the agent's socket is
    // gone while the database may still say online, and only an alarm settles that.
    void ctx.blockConcurrencyWhile(() => this.armPresence());
  }

  // ---- agent connection --------------------------------------------------------------------

  /**
   * A WebSocket upgrade forwarded by the Worker once it has authenticated the caller: the agent's
   * (with `x-pier-host`, after its token checked out) or a terminal client's (with
   * `x-pier-terminal`, after the user's credential or ticket and role checked out).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const terminal = request.headers.get(TERMINAL_HEADER);
    if (terminal !== null) return this.openTerminal(JSON.parse(terminal) as TerminalRequest);
    const identity = JSON.parse(request.headers.get("x-pier-host") ?? "null") as HostIdentity | null;
    if (!identity) return new Response("missing host identity", { status: 400 });
    this.ctx.storage.kv.put("identity", identity);

    // One agent per host: the newest connection wins, and commands on the old one fail now.
    for (const old of this.ctx.getWebSockets(AGENT_TAG)) {
      this.failInFlight("agent_disconnected", "The agent reconnected (a newer connection replaced this one); retry the command.");
      this.terminals.closeAll("the agent reconnected");
      old.close(CLOSE_CODES.replaced, "replaced by a newer connection");
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [AGENT_TAG]);
    const attachment: SocketAttachment = { connectionId: crypto.randomUUID(), connectedAt: Date.now(), hello: null };
    server.serializeAttachment(attachment);
    this.lastMessageAt = Date.now();
    await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_WINDOW_MS);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    if (TerminalRelay.isTerminal(this.ctx, ws)) return this.terminals.onClientMessage(ws, raw);
    this.lastMessageAt = Date.now();
    // The agent's binary frames are download bytes or terminal output; the rest is JSON text.
    if (typeof raw !== "string") {
      const bytes = new Uint8Array(raw);
      return isTransferFrame(bytes) ? this.transfers.onFrame(bytes) : this.terminals.onAgentFrame(raw);
    }
    const text = typeof raw === "string" ? raw : new TextDecoder().decode(raw);
    const parsed = parseAgentMessage(text);
    if (!parsed.ok) {
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "relay: invalid agent message dropped",
          host: this.identity()?.id,
          error: parsed.error.slice(0, 300),
        }),
      );
      return;
    }
    await this.onAgentMessage(ws, parsed.message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (TerminalRelay.isTerminal(this.ctx, ws)) return this.terminals.onClientClose(ws);
    await this.onAgentGone(ws, `the agent connection closed (${code}${reason ? `: ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    if (TerminalRelay.isTerminal(this.ctx, ws)) return this.terminals.onClientClose(ws);
    await this.onAgentGone(ws, `the agent connection failed (${String(error)})`);
  }

  private async onAgentMessage(ws: WebSocket, message: AgentMessage): Promise<void> {
    switch (message.type) {
      case "hello": {
        const attachment = ws.deserializeAttachment() as SocketAttachment;
        ws.serializeAttachment({ ...attachment, hello: message });
        await this.mirror({
          state: "online",
          lastSeenAt: nowIso(),
          connectedAt: new Date(attachment.connectedAt).toISOString(),
          agentVersion: message.agent_version,
          engineVersion: message.engine_version,
          hostname: message.hostname,
          os: message.os,
          arch: message.arch,
          addresses: message.addresses,
          ...(message.containers ? { containers: message.containers } : {}),
          // Unknown (null) when the agent could not ask its engine: limits are then not checked up front.
          cpus: message.cpus ?? null,
        });
        await this.publishPresence("online");
        const identity = this.identity();
        if (identity) {
          await quietly("online notice", identity.id, () => this.watch.online(identity));
          // The agent follows servers' rulesets in memory only: after its restart, push them again.
          const run = (_host: string, op: OpName, args: unknown) => this.command(op, args);
          this.ctx.waitUntil(
            quietly("firewall re-push", identity.id, () => reapplyHostFirewalls(createDatabase(this.env), run, identity.id)),
          );
          // The organization's sampling interval, which this agent (new, or restarted) does not know.
          // Not awaited: the command's reply arrives as a later message on this very socket.
          if (message.capabilities.includes("metrics.configure"))
            this.ctx.waitUntil(
              quietly("sampling interval", identity.id, async () => {
                const { sampleIntervalSeconds } = await getMonitoringSettings(createDatabase(this.env), identity.organizationId);
                if (sampleIntervalSeconds !== null) await this.command("metrics.configure", { interval_ms: sampleIntervalSeconds * 1000 });
              }),
            );
        }
        return;
      }
      case "ack": {
        const waiting = this.pending.get(message.id) ?? this.streams.get(message.id);
        if (waiting) clearTimeout(waiting.ackTimer);
        else this.transfers.onAck(message.id);
        return;
      }
      case "result": {
        if (this.transfers.onResult(message)) return;
        const pending = this.pending.get(message.id);
        // A reply after its deadline (or for a cancelled command) has no one waiting: dropped.
        if (!pending) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        clearTimeout(pending.ackTimer);
        pending.resolve(
          message.ok ? { ok: true, data: message.data } : fail(message.error.code, message.error.message, message.error.status),
        );
        return;
      }
      case "chunk": {
        const stream = this.streams.get(message.id);
        if (!stream) return this.sendCancel(message.id);
        stream.controller.enqueue(HostRelay.line({ type: "chunk", seq: message.seq, data: message.data, stream: message.stream }));
        return;
      }
      case "end": {
        const stream = this.streams.get(message.id);
        if (!stream) return;
        this.closeStream(message.id, message.error, message.data);
        return;
      }
      case "event": {
        // Started first: the watch's bookkeeping is synchronous, so batches are seen in order.
        const identity = this.identity();
        const watching = identity
          ? quietly("container events", identity.id, () => this.watch.containerEvents(identity, message.events))
          : undefined;
        await this.publishEvents(message.events);
        await watching;
        return;
      }
      case "metrics": {
        const identity = this.identity();
        if (identity) await quietly("metrics", identity.id, () => this.watch.metrics(identity, message.samples, message.sent_at));
        return;
      }
      case "stats":
        if (message.containers) await this.mirror({ containers: message.containers, lastSeenAt: nowIso() });
        return;
      case "ping":
        // A ping that is not byte-identical to PING_TEXT still gets its answer.
        ws.send(PONG_TEXT);
        return;
      case "pong":
        return;
      case "term_opened":
        return this.terminals.onAgentOpened(message);
      case "term_exit":
        return this.terminals.onAgentExit(message);
      case "transfer_start":
        return this.transfers.onStart(message);
      case "transfer_credit":
        return this.transfers.onCredit(message.id, message.bytes);
    }
  }

  private async onAgentGone(ws: WebSocket, why: string): Promise<void> {
    // A socket the relay dropped itself (missed heartbeat or ack) closes for real later, when the
    // thawed agent answers the close: it was settled then, and its disconnect time stays.
    const { connectionId } = ws.deserializeAttachment() as SocketAttachment;
    if (this.settled.has(connectionId)) return;
    this.settled.add(connectionId);
    const current = this.ctx.getWebSockets(AGENT_TAG).filter((s) => s !== ws && s.readyState === WebSocket.OPEN);
    if (current.length > 0) return; // a replaced socket closing: the new one carries on
    this.failInFlight("agent_disconnected", `The host's agent disconnected while the command ran: ${why}.`);
    this.terminals.closeAll(why);
    try {
      ws.close(1000, "closing");
    } catch {
      // already closed
    }
    await this.mirror({ state: "disconnected", disconnectedAt: nowIso() });
    await this.publishPresence("disconnected");
    await this.ctx.storage.setAlarm(Date.now() + Math.min(hostLostAfterMs(this.env), this.watch.disconnectNoticeMs));
  }

  /** Presence checks: a missed heartbeat window disconnects; a long absence marks the host lost. */
  override async alarm(): Promise<void> {
    const socket = this.agentSocket();
    if (!socket) {
      // No socket while the mirror says online: the agent went away unseen (the control plane
      // restarted, or the close never reached this object). Disconnected as of now.
      const row = await this.hostRow();
      if (row?.state === "online") {
        this.failInFlight("agent_disconnected", "The host's agent is no longer connected.");
        await this.mirror({ state: "disconnected", disconnectedAt: nowIso() });
        await this.publishPresence("disconnected");
      }
    }
    if (socket) {
      const lastSeen = this.lastSeen(socket);
      const windowMs = this.heartbeatWindow(socket);
      if (Date.now() - lastSeen > windowMs) {
        socket.close(CLOSE_CODES.heartbeat_missed, "heartbeat missed");
        await this.onAgentGone(socket, "no heartbeat within the window");
        return;
      }
      await this.mirror({ lastSeenAt: new Date(lastSeen).toISOString() });
      // Next look: the moment the next heartbeat would be overdue, so a silent agent is caught
      // within seconds of its window, not a whole check period later.
      await this.ctx.storage.setAlarm(Math.max(Date.now() + 1_000, Math.min(lastSeen + windowMs + 1_000, Date.now() + PRESENCE_CHECK_MS)));
      return;
    }
    const row = await this.hostRow();
    if (
      row &&
      row.state === "disconnected" &&
      row.disconnectedAt &&
      Date.now() - Date.parse(row.disconnectedAt) >= hostLostAfterMs(this.env) - 1000
    ) {
      await this.mirror({ state: "lost" });
      await this.publishPresence("lost");
      row.state = "lost";
    }
    const identity = this.identity();
    if (row && identity) {
      await quietly("presence notice", identity.id, async () => {
        const next = await this.watch.offline(identity, row, hostLostAfterMs(this.env));
        if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 1000));
      });
    }
  }

  // ---- RPC: used by the Worker ----------------------------------------------------------------

  /**
   * The presence sweep (the cron trigger) wakes a relay whose host looks stale; waking re-arms the
   * alarm (constructor), and this settles the state now rather than at the next check.
   */
  async settlePresence(): Promise<void> {
    await this.alarm();
  }

  /**
   * Runs one non-streaming command on the host's agent and returns its outcome (never throws).
   * With `organizationId`, the caller has not looked the host up: the command runs only if this
   * object serves a host of that organization, and `unknown_host` (no identity, or another
   * organization's host — the caller cannot tell which) sends the caller to the database.
   */
  async command(op: string, args: unknown = {}, options: { timeoutMs?: number; organizationId?: string } = {}): Promise<CommandOutcome> {
    if (options.organizationId !== undefined && this.identity()?.organizationId !== options.organizationId) {
      return fail("unknown_host", "This relay serves no host of that organization.");
    }
    const ready = this.prepare(op, args);
    if (!ready.ok) return ready;
    const { socket, args: parsedArgs } = ready;
    if (isStreaming(ready.op, parsedArgs)) return fail("invalid_args", `${op} with these arguments streams: use openStream.`);
    if (transferKind(ready.op)) return fail("invalid_args", `${op} moves bytes: use openDownload or openUpload.`);

    const timeoutMs = options.timeoutMs ?? commandTimeoutMs(ready.op, parsedArgs);
    const id = crypto.randomUUID();
    const deadline = Date.now() + timeoutMs;
    return new Promise<CommandOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.sendCancel(id);
        resolve(fail("timeout", `The host did not answer ${op} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs + DEADLINE_GRACE_MS);
      this.pending.set(id, { op, resolve, timer, ackTimer: this.awaitAck(socket, id, op) });
      try {
        socket.send(encode({ type: "cmd", id, op, args: parsedArgs, deadline }));
      } catch (err) {
        clearTimeout(timer);
        clearTimeout(this.pending.get(id)?.ackTimer);
        this.pending.delete(id);
        resolve(fail("agent_disconnected", `Could not send to the host's agent: ${String(err)}.`));
      }
    });
  }

  /**
   * Starts a streaming command (a followed log) and returns its output as newline-delimited JSON:
   * `{"type":"chunk",…}` lines, then one `{"type":"end"}` (with `error` if it failed). Cancelling
   * the stream cancels the command on the host.
   */
  async openStream(op: string, args: unknown = {}, options: { id?: string } = {}): Promise<ReadableStream<Uint8Array> | CommandOutcome> {
    const ready = this.prepare(op, args);
    if (!ready.ok) return ready;
    const { socket, args: parsedArgs } = ready;
    if (transferKind(ready.op)) return fail("invalid_args", `${op} moves bytes: use openDownload or openUpload.`);
    const id = options.id ?? crypto.randomUUID();
    const timeoutMs = commandTimeoutMs(ready.op, parsedArgs);
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        const timer = setTimeout(
          () => this.closeStream(id, { code: "timeout", message: "The stream reached its time limit; reconnect to continue." }),
          timeoutMs,
        );
        this.streams.set(id, { controller, timer, ackTimer: this.awaitAck(socket, id, op) });
        socket.send(encode({ type: "cmd", id, op, args: parsedArgs, deadline: Date.now() + timeoutMs }));
      },
      cancel: () => {
        const stream = this.streams.get(id);
        if (stream) {
          clearTimeout(stream.timer);
          clearTimeout(stream.ackTimer);
        }
        this.streams.delete(id);
        this.sendCancel(id);
      },
    });
  }

  /**
   * Cancels a stream opened with a caller-chosen id: the agent is told to stop and the stream ends
   * with `cancelled`. (Cancelling the returned stream across an RPC boundary does not reach
   * `cancel` above promptly, so callers that must abort — the DeployQueue — say so here.)
   */
  async cancelStream(id: string): Promise<void> {
    this.sendCancel(id);
    this.closeStream(id, { code: "cancelled", message: "cancelled by the server" });
  }

  /**
   * Starts a download (an op with `transfer: "download"`, protocol/transfer.ts) and answers once
   * the host has: its metadata and a stream of its bytes, or why there are none (the engine's 404,
   * an offline host, …). The stream's reads pace the agent: a slow consumer stops the engine read,
   * and cancelling the stream (or `cancelTransfer(id)`) stops it on the host. With
   * `organizationId`, only for a host of that organization (`unknown_host` otherwise, as `command`).
   */
  async openDownload(
    op: string,
    args: unknown = {},
    options: { id?: string; timeoutMs?: number; organizationId?: string } = {},
  ): Promise<DownloadOutcome> {
    const ready = this.prepareTransfer(op, args, "download", options.organizationId);
    if (!ready.ok) return ready;
    const id = options.id ?? crypto.randomUUID();
    const timeoutMs = options.timeoutMs ?? commandTimeoutMs(ready.op, ready.args);
    return this.transfers.download(ready.socket, {
      id,
      op,
      args: ready.args,
      timeoutMs,
      awaitAck: () => this.awaitAck(ready.socket, id, op),
    });
  }

  /**
   * Runs an upload (an op with `transfer: "upload"`): `body` is read only as fast as the agent
   * hands it to the engine. Resolves with the op's outcome; a body that fails (its client went
   * away) cancels the op on the host and fails with `upload_failed`.
   */
  async openUpload(
    op: string,
    args: unknown,
    body: ReadableStream<Uint8Array>,
    options: { id?: string; timeoutMs?: number; organizationId?: string } = {},
  ): Promise<CommandOutcome> {
    const ready = this.prepareTransfer(op, args, "upload", options.organizationId);
    if (!ready.ok) {
      await body.cancel().catch(() => {});
      return ready;
    }
    const id = options.id ?? crypto.randomUUID();
    const timeoutMs = options.timeoutMs ?? commandTimeoutMs(ready.op, ready.args);
    return this.transfers.upload(
      ready.socket,
      { id, op, args: ready.args, timeoutMs, awaitAck: () => this.awaitAck(ready.socket, id, op) },
      body,
    );
  }

  /**
   * Stops a transfer: the host is told to stop, a download's stream errors, an upload fails with
   * `cancelled`. (A stream cancelled across an RPC boundary may not reach the relay promptly, so
   * callers that must stop the host say so here.)
   */
  async cancelTransfer(id: string): Promise<void> {
    this.transfers.cancel(id);
  }

  /** Whether a transfer is in flight here (for tests: a cancelled download is gone). */
  async transferOpen(id: string): Promise<boolean> {
    return this.transfers.has(id);
  }

  /**
   * Drops the agent (its token was rotated or the host deleted); it cannot come back with the old
   * token. A host that stays is disconnected as of now, before the caller answers, rather than
   * when the agent's close arrives: the agent may well have been refused again by then.
   */
  async disconnect(reason: string, forget = false): Promise<void> {
    for (const socket of this.ctx.getWebSockets(AGENT_TAG)) {
      this.failInFlight("agent_disconnected", `The agent was disconnected: ${reason}.`);
      this.terminals.closeAll(reason);
      socket.close(CLOSE_CODES.revoked, reason.slice(0, 120));
      if (!forget) await this.onAgentGone(socket, reason);
    }
    if (forget) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    }
  }

  /** A single-use ticket to open a terminal on one container of this host (browsers cannot send headers). */
  async issueTerminalTicket(principal: Principal, container: string, ttlMs: number): Promise<{ ticket: string; expiresAt: number }> {
    return this.terminals.issueTicket(principal, container, ttlMs);
  }

  /** Spends a ticket: its principal if it is live and for this container, else null. */
  async redeemTerminalTicket(ticket: string, container: string): Promise<Principal | null> {
    return this.terminals.redeemTicket(ticket, container);
  }

  // ---- internals ----------------------------------------------------------------------------

  /** A terminal for a host of the caller's organization only; `unknown_host` sends the Worker to the database. */
  private async openTerminal(request: TerminalRequest): Promise<Response> {
    if (this.identity()?.organizationId !== request.organizationId) {
      return Response.json({ code: "unknown_host", message: "This relay serves no host of that organization." }, { status: 404 });
    }
    const socket = this.agentSocket();
    const hello = socket ? (socket.deserializeAttachment() as SocketAttachment).hello : null;
    return this.terminals.open(request, hello);
  }

  /** An alarm is always pending while this object serves a host: the presence check, or the notices after it. */
  private async armPresence(): Promise<void> {
    if (!this.identity()) return;
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    const socket = this.agentSocket();
    await this.ctx.storage.setAlarm(Date.now() + (socket ? this.heartbeatWindow(socket) : 1_000));
  }

  /**
   * Starts the wait for the agent's `ack` of command `id` (agents that said `acks` in hello). A
   * live agent acknowledges within ACK_AFTER_MS, whatever the command (by its reply, or by an ack
   * while the command runs on); one that does not within the setting's few seconds is frozen
   * (SIGSTOP, a paused VM) or drowning. Its command fails now with a 504 instead of waiting out
   * its time limit, and the socket is dropped, so the host shows disconnected at once and later
   * commands answer 503 without waiting; a thawed agent sees the close and redials.
   */
  private awaitAck(socket: WebSocket, id: string, op: string): ReturnType<typeof setTimeout> | undefined {
    const hello = (socket.deserializeAttachment() as SocketAttachment).hello;
    if (!hello?.acks) return undefined;
    const waitMs = agentAckTimeoutMs(this.env);
    return setTimeout(() => {
      const seconds = Number((waitMs / 1000).toFixed(1));
      const message = `The agent on host ${this.identity()?.name ?? "?"} did not acknowledge the command (${op}) within ${seconds} s; it may be frozen or overloaded. The host counts as disconnected until the agent is heard from again.`;
      const pending = this.pending.get(id);
      if (pending) {
        this.pending.delete(id);
        clearTimeout(pending.timer);
        pending.resolve(fail("ack_timeout", message));
      }
      this.closeStream(id, { code: "ack_timeout", message });
      this.transfers.fail(id, "ack_timeout", message);
      if (socket.readyState !== WebSocket.OPEN) return;
      try {
        socket.close(CLOSE_CODES.ack_missed, "command not acknowledged");
      } catch {
        // already closing
      }
      void this.onAgentGone(socket, `the agent did not acknowledge a command within ${seconds} s`);
    }, waitMs);
  }

  /**
   * What every command and stream checks before it is sent: a known op, arguments that pass its
   * schema, a connected agent, and an agent that supports the op (an agent that does not know it
   * would answer with a `result` a stream never sees).
   */
  private prepare(
    op: string,
    args: unknown,
  ): { ok: true; op: OpName; args: Record<string, unknown>; socket: WebSocket } | Extract<CommandOutcome, { ok: false }> {
    if (!isOpName(op)) return fail("unknown_op", `Unknown operation ${op}.`);
    const parsed = OPS[op].args.safeParse(args);
    if (!parsed.success)
      return fail(
        "invalid_args",
        `Invalid arguments for ${op}: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      );
    const socket = this.agentSocket();
    if (!socket) {
      void this.armPresence();
      return fail(
        "host_offline",
        "The host is offline: its agent is not connected. Start the agent (see the host's install commands) and retry.",
      );
    }
    const hello = (socket.deserializeAttachment() as SocketAttachment).hello;
    if (hello && !hello.capabilities.includes(op))
      return fail("unknown_op", `This host's agent (${hello.agent_version}) does not support ${op}: upgrade the agent.`);
    return { ok: true, op, args: parsed.data as Record<string, unknown>, socket };
  }

  private prepareTransfer(op: string, args: unknown, kind: "download" | "upload", organizationId: string | undefined) {
    if (organizationId !== undefined && this.identity()?.organizationId !== organizationId) {
      return fail("unknown_host", "This relay serves no host of that organization.");
    }
    const ready = this.prepare(op, args);
    if (!ready.ok) return ready;
    if (transferKind(ready.op) !== kind) return fail("invalid_args", `${op} is not a${kind === "upload" ? "n" : ""} ${kind}.`);
    return ready;
  }

  /** One line of a stream's output (see RelayStreamLineSchema in the protocol). */
  private static line(line: RelayStreamLine): Uint8Array {
    return encoder.encode(`${JSON.stringify(line)}\n`);
  }

  private identity(): HostIdentity | undefined {
    return this.ctx.storage.kv.get<HostIdentity>("identity");
  }

  private agentSocket(): WebSocket | undefined {
    return this.ctx.getWebSockets(AGENT_TAG).find((s) => s.readyState === WebSocket.OPEN);
  }

  /** The agent's presence window, from the heartbeat period its hello announced (lib/presence.ts). */
  private heartbeatWindow(socket: WebSocket): number {
    return heartbeatWindowMs((socket.deserializeAttachment() as SocketAttachment).hello?.heartbeat_ms);
  }

  private lastSeen(socket: WebSocket): number {
    const heartbeat = this.ctx.getWebSocketAutoResponseTimestamp(socket)?.getTime() ?? 0;
    const connectedAt = (socket.deserializeAttachment() as SocketAttachment).connectedAt;
    return Math.max(heartbeat, this.lastMessageAt, connectedAt);
  }

  private sendCancel(id: string): void {
    try {
      this.agentSocket()?.send(encode({ type: "cancel", id }));
    } catch {
      // the socket is gone; nothing to cancel
    }
  }

  private closeStream(id: string, error?: { code: string; message: string }, data?: unknown): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    clearTimeout(stream.timer);
    clearTimeout(stream.ackTimer);
    try {
      stream.controller.enqueue(HostRelay.line({ type: "end", ...(error ? { error } : {}), ...(data !== undefined ? { data } : {}) }));
      stream.controller.close();
    } catch {
      // the reader went away
    }
  }

  private failInFlight(code: string, message: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      clearTimeout(pending.ackTimer);
      pending.resolve(fail(code, message));
      this.pending.delete(id);
    }
    for (const id of [...this.streams.keys()]) this.closeStream(id, { code, message });
    this.transfers.failAll(code, message);
  }

  private async publishEvents(events: DockerEvent[]): Promise<void> {
    const identity = this.identity();
    if (!identity) return;
    const hub = this.env.EVENT_HUB.getByName(identity.organizationId);
    await hub.publish(events.map((event) => ({ host_id: identity.id, host_name: identity.name, ...event })));
  }

  /** Tells the organization's live streams that the host's presence changed (after it is mirrored). */
  private async publishPresence(action: HostPresenceEvent["action"]): Promise<void> {
    const identity = this.identity();
    if (!identity) return;
    const hub = this.env.EVENT_HUB.getByName(identity.organizationId);
    await quietly("presence event", identity.id, () =>
      hub.publish([{ type: "host", action, host_id: identity.id, host_name: identity.name, time: Date.now() }]),
    );
  }

  private async hostRow() {
    const identity = this.identity();
    if (!identity) return undefined;
    const [row] = await createDatabase(this.env).select().from(hosts).where(eq(hosts.id, identity.id)).limit(1);
    return row;
  }

  /** Mirrors presence into the database so that host lists are one query. */
  private async mirror(
    fields: Partial<{
      state: HostState;
      lastSeenAt: string;
      connectedAt: string;
      disconnectedAt: string;
      agentVersion: string;
      engineVersion: string | null;
      hostname: string;
      os: string;
      arch: string;
      addresses: string[];
      containers: ContainerCounts;
      cpus: number | null;
    }>,
  ): Promise<void> {
    const identity = this.identity();
    if (!identity) return;
    try {
      await createDatabase(this.env).update(hosts).set(fields).where(eq(hosts.id, identity.id));
    } catch (err) {
      // Presence is re-mirrored on the next heartbeat check; a database hiccup must not drop the agent.
      console.error(JSON.stringify({ level: "error", msg: "relay: presence mirror failed", host: identity.id, ...errorLogFields(err) }));
    }
  }
}
