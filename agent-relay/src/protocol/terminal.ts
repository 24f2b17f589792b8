import * as z from "zod/mini";
import { ContainerRef } from "./refs.ts";
import { PROTOCOL_VERSION } from "./version.ts";

/**
 * The interactive terminal: `docker exec -it` and `docker attach` relayed between a client's
 * WebSocket (browser, CLI) and a TTY on the host, through the host's HostRelay and the agent's one
 * socket. Several terminals share that socket, each on its own channel (an id the relay picks).
 *
 * Two layers, both declared here:
 *
 * 1. **Client ⇄ HostRelay** (the public WebSocket at `/api/v1/hosts/{hostId}/containers/{id}/terminal`):
 *    - binary frames, both ways: the terminal's raw bytes (keystrokes in, TTY output out);
 *    - text frames are JSON control messages: client → server `{"type":"resize","cols":120,"rows":40}`
 *      (and `{"type":"input","data":"ls\n"}` for clients that can only send text); server → client
 *      `{"type":"ready",…}` once, first, and `{"type":"error","message":…}` for a frame it could not use;
 *    - the end: close code 1000 with reason `{"exit_code":N}` when the process exits (the
 *      container's exit code in attach mode); 4000 after the idle timeout; 1011 when the host's
 *      agent went away or the terminal failed. Closing the socket ends the exec (its process is
 *      killed if still running); in attach mode it only detaches.
 *
 * 2. **HostRelay ⇄ agent** (the agent's relay socket):
 *    - JSON text frames `term_open`, `term_resize`, `term_close`, `term_ack` (server → agent) and
 *      `term_opened`, `term_exit` (agent → server), validated like every other message;
 *    - binary frames carry terminal bytes: `[1 byte: channel id length][channel id, ASCII][payload]`
 *      (see `encodeTerminalFrame`), input towards the agent and output towards the relay.
 *
 * Flow control: the agent stops reading the Docker stream while more than `TERMINAL_WINDOW_BYTES`
 * of output are unacknowledged; the relay acknowledges each frame (`term_ack`) once it has handed
 * it to the client's socket. Acks are per frame, so nothing is lost when the relay hibernates
 * between frames.
 */

/** Advertised in `hello.capabilities` by agents that speak the terminal frames. */
export const TERMINAL_CAPABILITY = "terminal";

/** Unacknowledged output bytes the agent lets through before it pauses the Docker stream. */
export const TERMINAL_WINDOW_BYTES = 1024 * 1024;

/** Largest payload in one binary frame, either way. */
export const TERMINAL_FRAME_MAX_BYTES = 64 * 1024;

/** Default idle timeout (no byte either way for this long ends the terminal). */
export const TERMINAL_IDLE_TIMEOUT_MS = 15 * 60_000;

/** Close codes of the client's WebSocket. */
export const TERMINAL_CLOSE_CODES = {
  /** The process (or, attached, the container) exited; the reason is `{"exit_code":N}`. */
  exited: 1000,
  /** The host's agent disconnected, or the terminal failed on the host; the reason says which. */
  failed: 1011,
  /** Nothing crossed the terminal for the idle timeout. */
  idle: 4000,
} as const;

export const TERMINAL_MODES = ["exec", "attach"] as const;
export type TerminalMode = (typeof TERMINAL_MODES)[number];

const v = z.literal(PROTOCOL_VERSION);
const channelId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, "channel ids are 1–64 characters of [A-Za-z0-9_-]"));
const cols = z.number().check(z.int(), z.gte(1), z.lte(1000));
const rows = z.number().check(z.int(), z.gte(1), z.lte(1000));

/** What a terminal runs: the exec's command, or nothing (attach, or the default shell). */
export const TerminalCommand = z.array(z.string().check(z.minLength(1), z.maxLength(4096))).check(z.minLength(1), z.maxLength(64));

export const TermOpenSchema = z.object({
  v,
  type: z.literal("term_open"),
  id: channelId,
  container: ContainerRef,
  mode: z.enum(TERMINAL_MODES),
  /** exec only; absent: /bin/bash if the container has it, else /bin/sh. */
  cmd: z.optional(TerminalCommand),
  user: z.optional(z.string().check(z.maxLength(256))),
  workdir: z.optional(z.string().check(z.startsWith("/"), z.maxLength(4096))),
  cols,
  rows,
  idle_timeout_ms: z.number().check(z.int(), z.positive()),
});

export const TermResizeSchema = z.object({ v, type: z.literal("term_resize"), id: channelId, cols, rows });

/** The client went away: end the exec (kill its process if it still runs), or detach. */
export const TermCloseSchema = z.object({ v, type: z.literal("term_close"), id: channelId });

/** The relay handed `bytes` of this channel's output to the client. */
export const TermAckSchema = z.object({ v, type: z.literal("term_ack"), id: channelId, bytes: z.number().check(z.int(), z.gte(0)) });

export const TermOpenedSchema = z.object({
  v,
  type: z.literal("term_opened"),
  id: channelId,
  mode: z.enum(TERMINAL_MODES),
  /** The command the exec runs (null when attached). */
  cmd: z.nullable(z.array(z.string())),
  exec_id: z.nullable(z.string()),
});

export const TermExitSchema = z.object({
  v,
  type: z.literal("term_exit"),
  id: channelId,
  /** `exited`: the process ended; `idle`: the idle timeout; `failed`: the terminal could not open or broke. */
  reason: z.enum(["exited", "idle", "failed"]),
  exit_code: z.nullable(z.number().check(z.int())),
  error: z.optional(z.object({ code: z.string(), message: z.string(), status: z.optional(z.number().check(z.int())) })),
});

export const TerminalServerMessages = [TermOpenSchema, TermResizeSchema, TermCloseSchema, TermAckSchema] as const;
export const TerminalAgentMessages = [TermOpenedSchema, TermExitSchema] as const;

export type TermOpen = z.infer<typeof TermOpenSchema>;
export type TermResize = z.infer<typeof TermResizeSchema>;
export type TermClose = z.infer<typeof TermCloseSchema>;
export type TermAck = z.infer<typeof TermAckSchema>;
export type TermOpened = z.infer<typeof TermOpenedSchema>;
export type TermExit = z.infer<typeof TermExitSchema>;

// ---- the client's control frames (text) ----

export const TerminalClientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("resize"), cols, rows }),
  z.object({ type: z.literal("input"), data: z.string().check(z.maxLength(TERMINAL_FRAME_MAX_BYTES)) }),
]);
export type TerminalClientMessage = z.infer<typeof TerminalClientMessageSchema>;

/** The first text frame a client receives. */
export interface TerminalReady {
  type: "ready";
  mode: TerminalMode;
  container: string;
  cmd: string[] | null;
}

// ---- binary frames between the relay and the agent ----

const ascii = new TextEncoder();
const asciiDecoder = new TextDecoder();

/** `[len][channel id][payload]`: one terminal's bytes on the shared agent socket. */
export function encodeTerminalFrame(channel: string, payload: Uint8Array): Uint8Array {
  const id = ascii.encode(channel);
  if (id.length === 0 || id.length > 64) throw new Error(`terminal channel id must be 1–64 bytes, got ${id.length}`);
  const frame = new Uint8Array(1 + id.length + payload.length);
  frame[0] = id.length;
  frame.set(id, 1);
  frame.set(payload, 1 + id.length);
  return frame;
}

/** The inverse of `encodeTerminalFrame`; null for a frame too short to hold its header. */
export function decodeTerminalFrame(frame: Uint8Array): { channel: string; payload: Uint8Array } | null {
  const length = frame[0];
  if (length === undefined || length === 0 || frame.length < 1 + length) return null;
  return { channel: asciiDecoder.decode(frame.subarray(1, 1 + length)), payload: frame.subarray(1 + length) };
}
