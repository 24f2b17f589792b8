import type { OpArgs, OpName, OpResult, RelayStreamChunk } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Role } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { type CommandOutcome, openedStream, readRelayStream, relayFailure } from "../lib/relay.ts";
import { recordAudit } from "./audit.ts";
import { getHost } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

/** Runs an operation on a host through its HostRelay and returns the agent's data, or throws. */
export async function runOnHost<O extends OpName>(
  env: Bindings,
  hostId: string,
  op: O,
  args: unknown,
  options?: { timeoutMs?: number },
): Promise<OpResult<O>> {
  const outcome = (await env.HOST_RELAY.getByName(hostId).command(op, args, options)) as CommandOutcome;
  if (!outcome.ok) throw relayFailure(outcome.error);
  return outcome.data as OpResult<O>;
}

const HOST_ID = /^hst_[0-9a-z]{20}$/;

/**
 * Runs an operation on a host of the organization without reading the database first: the host's
 * HostRelay checks the organization against the identity its agent connected with, which saves a
 * database round trip on every container command. Only when the relay knows no such host (never
 * connected, deleted, or another organization's) does the database decide between 404 and 503, so
 * another organization's host still looks exactly like a missing one.
 */
export async function runOnOrgHost<O extends OpName>(
  db: Database,
  env: Bindings,
  organizationId: string,
  hostId: string,
  op: O,
  args: unknown,
): Promise<OpResult<O>> {
  if (!HOST_ID.test(hostId)) throw notFound(`Host ${hostId}`);
  const outcome = (await env.HOST_RELAY.getByName(hostId).command(op, args, { organizationId })) as CommandOutcome;
  if (outcome.ok) return outcome.data as OpResult<O>;
  if (outcome.error.code !== "unknown_host") throw relayFailure(outcome.error);
  const host = await getHost(db, organizationId, hostId);
  throw new ApiError(
    503,
    `Host ${host.name} is offline: its agent has not connected yet. Start the agent (see the host's install commands) and retry.`,
  );
}

/** Who may change a host's Docker objects, and what the audit log keeps of one change. */
export interface HostChange<O extends OpName> {
  role: Role;
  /** Finishes "Your role does not allow you to …". */
  what: string;
  /** The audit entry's metadata, from the operation's result (never secrets). */
  metadata: (result: OpResult<O>) => Record<string, unknown>;
}

/**
 * A change to a host's Docker objects (create, remove, connect, prune…): checks the caller's role,
 * runs the operation as `runOnOrgHost` does, and records it in the audit log (action = the
 * operation's name, target = the host).
 */
export async function changeOnHost<O extends OpName>(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  hostId: string,
  op: O,
  args: OpArgs<O>,
  change: HostChange<O>,
): Promise<OpResult<O>> {
  const { principal } = actor;
  requireRole(principal, change.role, change.what);
  const result = await runOnOrgHost(db, env, principal.organizationId, hostId, op, args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: op,
    targetType: "host",
    targetId: hostId,
    metadata: change.metadata(result),
  });
  return result;
}

/**
 * Opens a streaming operation; read it with `readRelayStream` (lib/relay.ts). Call
 * `cancel` when the reader goes away: cancelling a stream across the RPC boundary does not reach
 * the relay promptly, and the host would go on streaming (a followed log, for up to an hour).
 */
export async function streamFromHost(
  env: Bindings,
  hostId: string,
  op: OpName,
  args: unknown,
): Promise<{ stream: ReadableStream<Uint8Array>; cancel: () => Promise<void> }> {
  const id = crypto.randomUUID();
  const relay = env.HOST_RELAY.getByName(hostId);
  const opened = openedStream((await relay.openStream(op, args, { id })) as ReadableStream<Uint8Array> | CommandOutcome);
  if (!opened.ok) throw relayFailure(opened.error);
  return { stream: opened.stream, cancel: () => relay.cancelStream(id) };
}

/**
 * Runs a streaming operation to its end on the request path and returns its outcome (a relay
 * error thrown as the API's); `onChunk` sees its output as it comes. The stream is cancelled
 * however the reading ends.
 */
export async function runStreamOnHost<O extends OpName>(
  env: Bindings,
  hostId: string,
  op: O,
  args: OpArgs<O>,
  onChunk: (chunk: RelayStreamChunk) => void = () => undefined,
): Promise<OpResult<O>> {
  const { stream, cancel } = await streamFromHost(env, hostId, op, args);
  try {
    const outcome = await readRelayStream(stream, onChunk);
    if (!outcome.ok) throw relayFailure(outcome.error);
    return outcome.data as OpResult<O>;
  } finally {
    await cancel().catch(() => undefined);
  }
}
