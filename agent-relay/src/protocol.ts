/**
 * The relay protocol between a host agent and its HostRelay Durable Object, declared once and
 * imported by both ends. It runs in Node and in workerd, so it imports nothing but zod — `zod/mini`
 * only (biome.json enforces it), whose functional schemas cost the agent little memory; the Worker
 * embeds them in its classic-zod and OpenAPI schemas through `worker/lib/protocol-schema.ts`.
 *
 * Every message is one JSON text frame carrying `v` (the protocol version) and `type`.
 */
import en from "zod/v4/locales/en.js";
import * as z from "zod/mini";
import { DockerEventSchema } from "./protocol/events.ts";
import { HostSampleSchema, MAX_METRICS_BATCH } from "./protocol/metrics.ts";
import { StatsSampleSchema } from "./protocol/sample.ts";
import { TerminalAgentMessages, TerminalServerMessages } from "./protocol/terminal.ts";
import { TransferCreditSchema, TransferEofSchema, TransferStartSchema } from "./protocol/transfer.ts";
import { PROTOCOL_VERSION } from "./protocol/version.ts";

export * from "./protocol/backups.ts";
export * from "./protocol/compose.ts";
export * from "./protocol/container-admin.ts";
export * from "./protocol/deploy.ts";
export * from "./protocol/dumps.ts";
export * from "./protocol/host-files.ts";
export * from "./protocol/events.ts";
export * from "./protocol/firewall.ts";
export * from "./protocol/images.ts";
export * from "./protocol/metrics.ts";
export * from "./protocol/networks.ts";
export * from "./protocol/ops.ts";
export * from "./protocol/refs.ts";
export * from "./protocol/sample.ts";
export * from "./protocol/servers.ts";
export * from "./protocol/system.ts";
export * from "./protocol/terminal.ts";
export * from "./protocol/transfer.ts";
export * from "./protocol/volumes.ts";

export { PROTOCOL_VERSION };

// zod/mini (a fraction of classic zod's memory, which the agent's budget needs) loads no locale by
// itself: without this its issues would all read "Invalid input", where classic zod explains them.
z.config(en());

/**
 * Largest `chunk.data`, in UTF-16 code units. Even if every character were escaped by JSON
 * (6 bytes each) a chunk stays under 1 MiB, far below the platform's 32 MiB message limit.
 */
export const MAX_CHUNK_CHARS = 128 * 1024;

/**
 * Agent heartbeat period, by default; an agent announces its own in `hello.heartbeat_ms`, and the
 * DO counts a host disconnected once one of those is overdue.
 */
export const HEARTBEAT_INTERVAL_MS = 20_000;
/**
 * The heartbeat periods the DO honours: an announcement outside them is clamped. Below the lower
 * bound the relay would be woken for nothing; above the upper one a dead host would show online
 * for minutes.
 */
export const HEARTBEAT_INTERVAL_BOUNDS_MS = { min: 5_000, max: 120_000 } as const;

/**
 * WebSocket close codes with a meaning in this protocol (4000–4999 are free for applications).
 * The agent reacts to them: `replaced` and `revoked` make it wait minutes instead of redialing at
 * once (two agents sharing a token would otherwise take the host from each other forever).
 */
export const CLOSE_CODES = {
  /** Normal shutdown (agent stopping). */
  normal: 1000,
  /** The server is going away (deploy, restart): redial with the usual backoff. */
  going_away: 1001,
  /** A newer connection for the same host took over (server → agent). */
  replaced: 4001,
  /** The server missed the agent's heartbeats (server → agent): redial with the usual backoff. */
  heartbeat_missed: 4002,
  /** The agent token was revoked or rotated, or the host deleted (server → agent). */
  revoked: 4003,
  /** The agent heard nothing for too long and gave up on the link (agent → server). */
  heartbeat_timeout: 4004,
  /** The peer sent something the protocol does not allow (either way). */
  protocol_error: 4005,
  /** The agent did not acknowledge a command in time (server → agent): redial with the usual backoff. */
  ack_missed: 4006,
} as const;

const v = z.literal(PROTOCOL_VERSION);
const commandId = z.string().check(z.minLength(1), z.maxLength(128));

export const ErrorSchema = z.object({
  /** One of ERROR_CODES, left open so a newer agent can add codes. */
  code: z.string(),
  message: z.string(),
  /** The Docker Engine's HTTP status when the error came from the engine. */
  status: z.optional(z.number().check(z.int())),
});
export type RelayError = z.infer<typeof ErrorSchema>;

export const ERROR_CODES = {
  /** The engine answered 400. */
  bad_request: "bad_request",
  /** The engine answered 404 (no such container/image/exec). */
  not_found: "not_found",
  /** The engine answered 409 (running container removed without force, name in use, not running). */
  conflict: "conflict",
  /** The engine answered 5xx or another unexpected status. */
  engine_error: "engine_error",
  /** The agent cannot reach the Docker socket. */
  docker_unavailable: "docker_unavailable",
  /** `args` failed the op's schema. */
  invalid_args: "invalid_args",
  /** The agent does not implement the op (see `hello.capabilities`). */
  unknown_op: "unknown_op",
  /** The deadline passed before or while the agent worked on it. */
  deadline_exceeded: "deadline_exceeded",
  /** The server sent `cancel`. */
  cancelled: "cancelled",
  /** `container.exec` ran past `timeout_ms`. */
  exec_timeout: "exec_timeout",
  /** A deployment step failed (build, pull, health check, missing build tool); the message says why. */
  deploy_failed: "deploy_failed",
  /** A program the op runs is not installed on the host (Docker Compose); the message says what to install. */
  tool_missing: "tool_missing",
  /** A compose file (or project) Compose refuses; the message is Compose's. */
  compose_invalid: "compose_invalid",
  /** The engine refused a change it does not allow (a read-only root filesystem); its message says which. */
  forbidden: "forbidden",
  /** A program the op ran failed; the message carries its exit code and last output. */
  tool_failed: "tool_failed",
  /**
   * The host cannot enforce firewall rules: the agent is not root (or lacks NET_ADMIN), iptables is
   * not installed, or the engine runs without its DOCKER-USER chain. The message says which.
   */
  firewall_unavailable: "firewall_unavailable",
  /** A bug or an unexpected failure in the agent. */
  internal: "internal",
  /** Set by the HostRelay, never by an agent: no agent is connected for the host. */
  host_offline: "host_offline",
  /** Set by the HostRelay: the agent's socket dropped while the command was in flight. */
  agent_disconnected: "agent_disconnected",
  /** Set by the HostRelay: no reply arrived by the command's deadline. */
  timeout: "timeout",
  /** Set by the HostRelay: the agent did not acknowledge the command in time (frozen or overloaded). */
  ack_timeout: "ack_timeout",
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export const ContainerCountsSchema = z.object({
  total: z.number().check(z.int()),
  running: z.number().check(z.int()),
  paused: z.number().check(z.int()),
  stopped: z.number().check(z.int()),
});
export type ContainerCounts = z.infer<typeof ContainerCountsSchema>;

// ---- agent → server ----

export const HelloSchema = z.object({
  v,
  type: z.literal("hello"),
  agent_version: z.string(),
  hostname: z.string(),
  /** Null when the agent could not reach Docker; it connects anyway and says so. */
  engine_version: z.nullable(z.string()),
  /** The Engine API version the agent speaks to Docker ("1.41"). */
  api_version: z.nullable(z.string()),
  /** "Debian GNU/Linux 12 (bookworm)" from the engine, else the Node platform. */
  os: z.string(),
  arch: z.string(),
  /** Non-loopback IP addresses of the host (Docker bridges left out). */
  addresses: z.array(z.string()),
  /** Op names the agent implements. */
  capabilities: z.array(z.string()),
  kernel_version: z.optional(z.string()),
  cpus: z.optional(z.number().check(z.int())),
  memory_bytes: z.optional(z.number()),
  containers: z.optional(ContainerCountsSchema),
  /** The agent's clock (epoch ms) when it sent hello; lets the DO spot clock skew against deadlines. */
  time: z.optional(z.number()),
  /**
   * The agent answers every `cmd` with an `ack` at once. Only then does the server fail a command
   * whose ack does not come in time (an older agent never sends one and must not be failed for it).
   */
  acks: z.optional(z.boolean()),
  /**
   * How often this agent pings (ms). The DO derives the host's presence window from it, within
   * HEARTBEAT_INTERVAL_BOUNDS_MS; an agent that does not say is taken to ping every
   * HEARTBEAT_INTERVAL_MS.
   */
  heartbeat_ms: z.optional(z.number().check(z.int(), z.gte(1))),
});

/**
 * The agent's proof that it is alive and reading its socket: a process that is stopped (SIGSTOP, a
 * frozen VM) keeps its socket open and its heartbeats answered by nobody; without acks a command to
 * it would wait out its whole time limit. (The server's wait: PIER_AGENT_ACK_TIMEOUT_MS, 5 s,
 * worker/settings.ts.) A command's reply acknowledges it too, so the agent sends an ack only for a
 * command still running ACK_AFTER_MS after it arrived: a quick command is one message back, not
 * two (each costs the relay's Durable Object an event; bench/runtime measures ~1.5 ms locally).
 */
export const ACK_AFTER_MS = 250;
export const AckSchema = z.object({ v, type: z.literal("ack"), id: commandId });

export const ResultSchema = z.discriminatedUnion("ok", [
  z.object({ v, type: z.literal("result"), id: commandId, ok: z.literal(true), data: z.unknown() }),
  z.object({ v, type: z.literal("result"), id: commandId, ok: z.literal(false), error: ErrorSchema }),
]);

export const ChunkSchema = z.object({
  v,
  type: z.literal("chunk"),
  id: commandId,
  /** 0, 1, 2, … per command, so the receiver can spot a gap. */
  seq: z.number().check(z.int(), z.gte(0)),
  data: z.string().check(z.maxLength(MAX_CHUNK_CHARS)),
  /** For log and exec output: which stream the text came from. */
  stream: z.optional(z.enum(["stdout", "stderr"])),
});

export const EndSchema = z.object({
  v,
  type: z.literal("end"),
  id: commandId,
  error: z.optional(ErrorSchema),
  /** A streaming command's outcome when it has one (`deploy.build`, `deploy.run`). */
  data: z.optional(z.unknown()),
});

/**
 * A line of what HostRelay.openStream returns to the Worker (newline-delimited JSON): the agent's
 * `chunk`s as they arrive, then exactly one `end` — with `error` when the command failed (the
 * agent's error, or the relay's: host offline, agent disconnected, time limit), `data` when it has
 * an outcome. Read it with the Worker's `readRelayStream()`.
 */
export const RelayStreamLineSchema = z.discriminatedUnion("type", [
  z.omit(ChunkSchema, { v: true, id: true }),
  z.omit(EndSchema, { v: true, id: true }),
]);
export type RelayStreamLine = z.infer<typeof RelayStreamLineSchema>;
export type RelayStreamChunk = Extract<RelayStreamLine, { type: "chunk" }>;

export const EventMessageSchema = z.object({
  v,
  type: z.literal("event"),
  events: z.array(DockerEventSchema).check(z.minLength(1)),
});

export const StatsMessageSchema = z.object({
  v,
  type: z.literal("stats"),
  /** Agent clock, epoch ms. */
  at: z.number(),
  samples: z.array(StatsSampleSchema),
  containers: z.optional(ContainerCountsSchema),
});

/** Host samples, batched: sent every `PIER_METRICS_FLUSH_MS`, and kept while the link is down. */
export const MetricsMessageSchema = z.object({
  v,
  type: z.literal("metrics"),
  /** Agent clock (epoch ms) when sent: the server corrects the samples' times by its skew. */
  sent_at: z.number(),
  samples: z.array(HostSampleSchema).check(z.minLength(1), z.maxLength(MAX_METRICS_BATCH)),
});

// ---- server → agent ----

export const CmdSchema = z.object({
  v,
  type: z.literal("cmd"),
  id: commandId,
  /** An OpName; a plain string here so the agent can answer `unknown_op` instead of dropping it. */
  op: z.string().check(z.minLength(1)),
  /** Checked against OPS[op].args by the agent. */
  args: z.optional(z.unknown()),
  /** Epoch ms; the agent aborts the Docker call when it passes. */
  deadline: z.number(),
});

export const CancelSchema = z.object({ v, type: z.literal("cancel"), id: commandId });

// ---- both ways ----

export const PingSchema = z.object({ v, type: z.literal("ping") });
export const PongSchema = z.object({ v, type: z.literal("pong") });

/**
 * The exact heartbeat texts. The DO registers them with `setWebSocketAutoResponse`, which matches
 * the whole frame byte for byte, so a heartbeat must never carry anything else (no timestamp).
 */
export const PING_TEXT = JSON.stringify({ v: PROTOCOL_VERSION, type: "ping" });
export const PONG_TEXT = JSON.stringify({ v: PROTOCOL_VERSION, type: "pong" });

export const AgentMessageSchema = z.discriminatedUnion("type", [
  HelloSchema,
  AckSchema,
  ResultSchema,
  ChunkSchema,
  EndSchema,
  EventMessageSchema,
  StatsMessageSchema,
  MetricsMessageSchema,
  PingSchema,
  PongSchema,
  ...TerminalAgentMessages,
  TransferStartSchema,
  TransferCreditSchema,
]);
export const ServerMessageSchema = z.discriminatedUnion("type", [
  CmdSchema,
  CancelSchema,
  PingSchema,
  PongSchema,
  ...TerminalServerMessages,
  TransferCreditSchema,
  TransferEofSchema,
]);
export const MessageSchema = z.discriminatedUnion("type", [
  HelloSchema,
  AckSchema,
  ResultSchema,
  ChunkSchema,
  EndSchema,
  EventMessageSchema,
  StatsMessageSchema,
  MetricsMessageSchema,
  CmdSchema,
  CancelSchema,
  PingSchema,
  PongSchema,
  ...TerminalAgentMessages,
  ...TerminalServerMessages,
  TransferStartSchema,
  TransferCreditSchema,
  TransferEofSchema,
]);

export type Hello = z.infer<typeof HelloSchema>;
export type Ack = z.infer<typeof AckSchema>;
export type Result = z.infer<typeof ResultSchema>;
export type Chunk = z.infer<typeof ChunkSchema>;
export type End = z.infer<typeof EndSchema>;
export type EventMessage = z.infer<typeof EventMessageSchema>;
export type StatsMessage = z.infer<typeof StatsMessageSchema>;
export type MetricsMessage = z.infer<typeof MetricsMessageSchema>;
export type Cmd = z.infer<typeof CmdSchema>;
export type Cancel = z.infer<typeof CancelSchema>;
export type Ping = z.infer<typeof PingSchema>;
export type Pong = z.infer<typeof PongSchema>;
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type Message = z.infer<typeof MessageSchema>;

/** A message to build: everything but `v`, which `encode` fills in. */
export type Outgoing<M extends { v: number }> = M extends unknown ? Omit<M, "v"> : never;

export type ParseResult<M> = { ok: true; message: M } | { ok: false; error: string };

function parseWith<M>(schema: z.ZodMiniType<M>, text: string): ParseResult<M> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  if (typeof json === "object" && json !== null && "v" in json && json.v !== PROTOCOL_VERSION) {
    return { ok: false, error: `unsupported protocol version ${String(json.v)} (this end speaks v${PROTOCOL_VERSION})` };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, error: z.prettifyError(parsed.error) };
}

/** Validates any protocol message; never throws. */
export function parseMessage(text: string): ParseResult<Message> {
  return parseWith(MessageSchema, text);
}

/** For the DO: validates what an agent may send. */
export function parseAgentMessage(text: string): ParseResult<AgentMessage> {
  return parseWith(AgentMessageSchema, text);
}

/** For the agent: validates what a server may send. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  return parseWith(ServerMessageSchema, text);
}

/** Serializes a message, stamping the protocol version. */
export function encode(message: Outgoing<Message>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...message });
}

/** The error body a non-streaming command fails with, or a stream ends with. */
export function relayError(code: ErrorCode, message: string, status?: number): RelayError {
  return status === undefined ? { code, message } : { code, message, status };
}
