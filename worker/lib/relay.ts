import { type OpName, type RelayError, type RelayStreamChunk, RelayStreamLineSchema } from "#protocol";
import { ApiError } from "../errors.ts";
import { readNdjson } from "./ndjson.ts";

// The Worker's side of the relay, in one place: what a command returns, how a relay error becomes
// an HTTP status or a sentence, and how a relay stream is read. A leaf module: the HostRelay, the
// services and the Durable Objects that run host work all use it.

export type CommandOutcome = { ok: true; data: unknown } | { ok: false; error: RelayError & { http: number } };

/** Relay error codes → HTTP statuses for the API. */
const HTTP_STATUS: Record<string, number> = {
  bad_request: 400,
  invalid_args: 422,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unknown_op: 501,
  host_offline: 503,
  agent_disconnected: 502,
  docker_unavailable: 502,
  engine_error: 502,
  deadline_exceeded: 504,
  timeout: 504,
  ack_timeout: 504,
  exec_timeout: 504,
  cancelled: 499,
  // The host lacks the program (Docker Compose): nothing the request can change.
  tool_missing: 501,
  compose_invalid: 422,
  // The host cannot enforce firewall rules (no privilege, no iptables): its message says what to fix.
  firewall_unavailable: 409,
  tool_failed: 502,
  // An upload whose body broke on the way in (its client went away mid-request).
  upload_failed: 400,
  internal: 502,
};

export const relayHttpStatus = (code: string): number => HTTP_STATUS[code] ?? 502;

/** A failed outcome, as the HostRelay returns it. */
export const failedOutcome = (code: string, message: string, status?: number): Extract<CommandOutcome, { ok: false }> => ({
  ok: false,
  error: { code, message, ...(status !== undefined ? { status } : {}), http: relayHttpStatus(code) },
});

type Status = ConstructorParameters<typeof ApiError>[0];

/** A relay error as an API error: the engine's (or the relay's) own message, with a fitting status. */
export function relayFailure(error: RelayError): ApiError {
  const http = relayHttpStatus(error.code);
  // A cancelled command is the server's own doing (a shutdown, a newer request): a conflict, not a 499.
  return new ApiError((http === 499 ? 409 : http) as Status, error.message);
}

/** A relay error as a sentence for a task or deployment record, naming the step it interrupted. */
export function describeRelayError(op: OpName, error: RelayError): string {
  switch (error.code) {
    case "host_offline":
      return `The host is offline (its agent is not connected): ${error.message}`;
    case "agent_disconnected":
      return `The host's agent disconnected during ${op}: ${error.message}`;
    default:
      return error.message;
  }
}

export type StreamOutcome = { ok: true; data: unknown } | { ok: false; error: RelayError };

/** What HostRelay.openStream answered: the stream, or why there is none. */
export function openedStream(
  opened: ReadableStream<Uint8Array> | CommandOutcome,
): { ok: true; stream: ReadableStream<Uint8Array> } | { ok: false; error: RelayError } {
  if (opened instanceof ReadableStream) return { ok: true, stream: opened };
  if (!opened.ok) return { ok: false, error: opened.error };
  return { ok: false, error: { code: "internal", message: "The relay answered a stream request without a stream." } };
}

/**
 * Reads a HostRelay stream to its end: `onChunk` sees every chunk in order; the result is the
 * `end` line's outcome. A stream that closes without an `end` (the reader was cancelled, the
 * relay went away) is a failure with code `incomplete`.
 */
export async function readRelayStream(
  stream: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array>,
  onChunk: (chunk: RelayStreamChunk) => void | Promise<void>,
): Promise<StreamOutcome> {
  const reader = stream instanceof ReadableStream ? stream.getReader() : stream;
  for await (const value of readNdjson(reader)) {
    const line = RelayStreamLineSchema.parse(value);
    if (line.type === "chunk") await onChunk(line);
    else return line.error ? { ok: false, error: line.error } : { ok: true, data: line.data };
  }
  return { ok: false, error: { code: "incomplete", message: "The host's stream ended without an outcome." } };
}
