import { WebSocket, type Dispatcher } from "undici";
import { backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from "./backoff.ts";
import { withDefaults } from "./defaults.ts";
import type { Logger } from "./log.ts";
import { CLOSE_CODES, HEARTBEAT_INTERVAL_MS, parseServerMessage, PING_TEXT, PONG_TEXT, type ServerMessage } from "./protocol.ts";
import { createUpgradeStatusDispatcher } from "./upgrade-status.ts";

export type ConnectionPhase = "connecting" | "open" | "waiting" | "stopped";

export interface ConnectionStatus {
  phase: ConnectionPhase;
  /** Failed attempts since the last stable connection (drives the backoff). */
  attempt: number;
  /** Delay chosen before the next attempt, while `waiting`. */
  nextDelayMs?: number;
  /** The control plane refused this token (401/403) or revoked it; retries are slowed to minutes. */
  authRejected: boolean;
  /** Another agent connected with the same token and the server kept the newer one. */
  replaced: boolean;
  /** HTTP status of the last upgrade response (101 when it succeeded). */
  lastUpgradeStatus?: number;
  lastCloseCode?: number;
  /** Successful connections so far. */
  connections: number;
}

export interface RelayConnectionOptions {
  /** The ws:// or wss:// connect URL. */
  url: string;
  token: string;
  userAgent: string;
  log: Logger;
  onOpen(): void;
  onMessage(message: ServerMessage): void;
  /** A binary frame: terminal input (protocol/terminal.ts) or upload bytes (protocol/transfer.ts). */
  onBinary?(frame: Uint8Array): void;
  onClose(): void;
  heartbeatMs?: number;
  backoff?: BackoffPolicy;
  /** Wait after the token is rejected or the connection was taken over (default 5 minutes). */
  longBackoffMs?: number;
  /** A connection that stays up this long resets the backoff. */
  stableAfterMs?: number;
  random?: () => number;
}

const REJECTED_STATUSES = new Set([401, 403]);

/**
 * Owns the one WebSocket to the control plane: dials out, heartbeats, notices a dead link, and
 * redials with capped exponential backoff and full jitter. Dropped connections are routine — the
 * platform closes every Durable Object WebSocket on each deploy.
 */
export class RelayConnection {
  readonly #o: Required<Omit<RelayConnectionOptions, "random" | "onBinary">> &
    Pick<RelayConnectionOptions, "onBinary"> & { random: () => number };
  readonly #dispatcher: Dispatcher;
  #socket: WebSocket | undefined;
  #status: ConnectionStatus = { phase: "waiting", attempt: 0, authRejected: false, replaced: false, connections: 0 };
  #upgradeStatus: number | undefined;
  #upgradeError: string | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #lastHeard = 0;
  #stopping = false;
  #closed: (() => void) | undefined;

  constructor(options: RelayConnectionOptions) {
    this.#o = withDefaults(
      {
        heartbeatMs: HEARTBEAT_INTERVAL_MS,
        backoff: RECONNECT_BACKOFF,
        longBackoffMs: 5 * 60_000,
        stableAfterMs: 30_000,
        random: Math.random,
      },
      options,
    );
    this.#dispatcher = createUpgradeStatusDispatcher({
      onStatus: (status) => (this.#upgradeStatus = status),
      onError: (error) => (this.#upgradeError = describe(error)),
    });
  }

  get status(): ConnectionStatus {
    return { ...this.#status };
  }

  /** The ping period in use, which hello announces so the server's presence window matches it. */
  get heartbeatMs(): number {
    return this.#o.heartbeatMs;
  }

  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
  }

  start(): void {
    this.#connect();
  }

  /** Sends one frame if the socket is open. */
  send(text: string): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(text);
    return true;
  }

  /** Sends one binary frame (terminal output, download bytes) if the socket is open. */
  sendBinary(frame: Uint8Array): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(frame);
    return true;
  }

  /** Closes with 1000 and stops redialing. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    this.#clearConnectionTimers();
    this.#status.phase = "stopped";
    const socket = this.#socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => (this.#closed = resolve));
      socket.close(1000, "agent shutting down");
      // A dead peer never answers the close frame; do not hold shutdown hostage to it.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3_000).unref?.())]);
    }
    await this.#dispatcher.close().catch(() => {});
  }

  #connect(): void {
    if (this.#stopping) return;
    this.#status.phase = "connecting";
    this.#status.nextDelayMs = undefined;
    this.#upgradeStatus = undefined;
    this.#upgradeError = undefined;
    const socket = new WebSocket(this.#o.url, {
      headers: { authorization: `Bearer ${this.#o.token}`, "user-agent": this.#o.userAgent },
      dispatcher: this.#dispatcher,
    });
    // Terminal input arrives in binary frames; an ArrayBuffer is read without a Blob round trip.
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    let opened = false;

    socket.addEventListener("open", () => {
      if (this.#socket !== socket) return;
      opened = true;
      this.#status.phase = "open";
      this.#status.connections++;
      this.#status.authRejected = false;
      this.#status.replaced = false;
      this.#status.lastUpgradeStatus = this.#upgradeStatus ?? 101;
      this.#o.log.info("connected", { url: this.#o.url, connection: this.#status.connections });
      this.#lastHeard = Date.now();
      this.#heartbeat = setInterval(() => this.#beat(socket), this.#o.heartbeatMs);
      this.#stableTimer = setTimeout(() => (this.#status.attempt = 0), this.#o.stableAfterMs);
      this.#o.onOpen();
    });

    socket.addEventListener("message", (event) => {
      if (this.#socket !== socket) return;
      this.#lastHeard = Date.now();
      if (typeof event.data !== "string") {
        if (this.#o.onBinary && event.data instanceof ArrayBuffer) this.#o.onBinary(new Uint8Array(event.data));
        else this.#o.log.warn("binary frame ignored: this connection carries no terminals or transfers");
        return;
      }
      if (event.data === PING_TEXT) {
        socket.send(PONG_TEXT);
        return;
      }
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) {
        this.#o.log.warn("invalid message from server", { error: parsed.error });
        return;
      }
      if (parsed.message.type !== "pong") this.#o.onMessage(parsed.message);
    });

    socket.addEventListener("error", (event) => {
      if (this.#socket !== socket) return;
      this.#o.log.debug("websocket error", { message: (event as { message?: string }).message });
    });

    socket.addEventListener("close", (event) => {
      this.#closed?.();
      if (this.#socket !== socket) return;
      this.#clearConnectionTimers();
      this.#status.lastCloseCode = event.code;
      if (!opened) this.#status.lastUpgradeStatus = this.#upgradeStatus;
      if (opened) {
        this.#o.log.info("disconnected", { code: event.code, reason: event.reason });
        this.#o.onClose();
      }
      if (!this.#stopping) this.#scheduleReconnect(opened, event.code, event.reason);
    });
  }

  #scheduleReconnect(opened: boolean, code: number, reason: string): void {
    let delay: number;
    const status = this.#upgradeStatus;
    if (!opened && status !== undefined && REJECTED_STATUSES.has(status)) {
      this.#status.authRejected = true;
      delay = this.#o.longBackoffMs;
      this.#o.log.error("agent token was rejected: rotate it with POST /api/v1/hosts/:id/rotate-token", {
        status,
        retry_in_ms: delay,
        fix: "put the new agent_token in PIER_AGENT_TOKEN (e.g. /etc/pier/agent.env) and restart the agent",
      });
    } else if (opened && code === CLOSE_CODES.revoked) {
      this.#status.authRejected = true;
      delay = this.#o.longBackoffMs;
      this.#o.log.error("agent token was rejected: the control plane revoked it (rotated, or the host was deleted)", {
        reason,
        retry_in_ms: delay,
        fix: "get a new token with POST /api/v1/hosts/:id/rotate-token, put it in PIER_AGENT_TOKEN and restart the agent",
      });
    } else if (opened && code === CLOSE_CODES.replaced) {
      this.#status.replaced = true;
      delay = this.#o.longBackoffMs;
      this.#o.log.warn("another agent connected with this host's token and replaced this one", {
        reason,
        retry_in_ms: delay,
        fix: "run one agent per host, or register the second host separately",
      });
    } else {
      delay = backoffDelay(this.#status.attempt, this.#o.backoff, this.#o.random);
      this.#status.attempt++;
      const fields = {
        attempt: this.#status.attempt,
        retry_in_ms: delay,
        code,
        upgrade_status: status,
        // fetch-based WebSockets refuse a few "bad ports" (6000, 6665–6669, …) without a request.
        error: opened ? undefined : (this.#upgradeError ?? (status === undefined ? "no request was made" : undefined)),
      };
      if (opened) this.#o.log.info("reconnecting", fields);
      else this.#o.log.warn("connection attempt failed", fields);
    }
    this.#status.phase = "waiting";
    this.#status.nextDelayMs = delay;
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Sends a heartbeat, and gives up on a link that has been silent for too long. */
  #beat(socket: WebSocket): void {
    if (Date.now() - this.#lastHeard > this.#o.heartbeatMs * 2.5) {
      this.#o.log.warn("no heartbeat reply; dropping the connection", { silent_ms: Date.now() - this.#lastHeard });
      // close() waits for the peer's close frame, which a dead link never sends: detach and redial now.
      this.#socket = undefined;
      this.#clearConnectionTimers();
      socket.close(CLOSE_CODES.heartbeat_timeout, "heartbeat timeout");
      this.#o.onClose();
      this.#scheduleReconnect(true, 1006, "heartbeat timeout");
      return;
    }
    socket.send(PING_TEXT);
  }

  #clearConnectionTimers(): void {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#stableTimer);
    this.#heartbeat = undefined;
    this.#stableTimer = undefined;
  }
}

function describe(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: string } | undefined)?.code ?? (error as { code?: string }).code;
  return [error.message, cause?.message, code].filter(Boolean).join(": ");
}
