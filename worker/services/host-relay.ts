import type { OpName, OpResult } from "../../agent-relay/src/protocol.ts";
import type { CommandOutcome } from "../durable/host-relay.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";

type Status = ConstructorParameters<typeof ApiError>[0];

export const relayStub = (env: Bindings, hostId: string) => env.HOST_RELAY.get(env.HOST_RELAY.idFromName(hostId));

/** A failed relay outcome as an API error: the engine's own message, with a fitting status. */
export function relayFailure(outcome: Extract<CommandOutcome, { ok: false }>): ApiError {
  const { error } = outcome;
  const status = (error.http === 499 ? 409 : error.http) as Status;
  return new ApiError(status, error.message);
}

/** Runs an operation on a host through its HostRelay and returns the agent's data, or throws. */
export async function runOnHost<O extends OpName>(env: Bindings, hostId: string, op: O, args: unknown, options?: { timeoutMs?: number }): Promise<OpResult<O>> {
  const outcome = (await relayStub(env, hostId).command(op, args, options)) as CommandOutcome;
  if (!outcome.ok) throw relayFailure(outcome);
  return outcome.data as OpResult<O>;
}

/**
 * Opens a streaming operation; the stream yields NDJSON `chunk` lines and one `end` line. Call
 * `cancel` when the reader goes away: cancelling a stream across the RPC boundary does not reach
 * the relay promptly, and the host would go on streaming (a followed log, for up to an hour).
 */
export async function streamFromHost(env: Bindings, hostId: string, op: OpName, args: unknown): Promise<{ stream: ReadableStream<Uint8Array>; cancel: () => Promise<void> }> {
  const id = crypto.randomUUID();
  const relay = relayStub(env, hostId);
  const result = (await relay.openStream(op, args, { id })) as ReadableStream<Uint8Array> | CommandOutcome;
  if (result instanceof ReadableStream) return { stream: result, cancel: () => relay.cancelStream(id) };
  if (!result.ok) throw relayFailure(result);
  throw new ApiError(502, "The relay answered a stream request without a stream.");
}
