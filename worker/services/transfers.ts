import type { OpName, OpResult, TransferMeta } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import { type CommandOutcome, relayFailure } from "../lib/relay.ts";
import { limitBody, looksLikeArchive, peekBody } from "../lib/tar-sniff.ts";
import { downloadBody } from "../lib/transfer.ts";
import { maxUploadBytes } from "../settings.ts";
import { recordAudit } from "./audit.ts";
import { getHost } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// Tars in and out of a host through the relay's byte transfer (protocol/transfer.ts), for the
// canonical API: `docker save` / `docker load`, and a container's files (`docker cp`). Members
// and up; every transfer is audited. Nothing is buffered here: the client's pace is the host's.

type Authed = Actor & { principal: Principal };

const HOST_ID = /^hst_[0-9a-z]{20}$/;

/** `unknown_host` from the relay: the database decides between 404 and 503 (as runOnOrgHost). */
async function failure(db: Database, organizationId: string, hostId: string, error: { code: string; message: string }): Promise<never> {
  if (error.code !== "unknown_host") throw relayFailure(error as Parameters<typeof relayFailure>[0]);
  const host = await getHost(db, organizationId, hostId);
  throw new ApiError(503, `Host ${host.name} is offline: its agent has not connected yet. Start the agent and retry.`);
}

export interface Download {
  meta: TransferMeta;
  body: ReadableStream<Uint8Array>;
}

/** Opens a download on a host of the caller's organization; the engine's refusal (404…) is thrown before any byte. */
export async function openHostDownload(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  op: OpName,
  args: Record<string, unknown>,
  audit: { action: string; targetType: string; targetId: string; metadata: Record<string, unknown> },
): Promise<Download> {
  const { principal } = actor;
  requireRole(principal, "member", "copy files or images out of a host");
  if (!HOST_ID.test(hostId)) throw new ApiError(404, `Host ${hostId} was not found.`);
  const relay = env.HOST_RELAY.getByName(hostId);
  const opened = (await relay.openDownload(op, args, { organizationId: principal.organizationId })) as
    | { ok: true; id: string; meta: TransferMeta; stream: ReadableStream<Uint8Array> }
    | Extract<CommandOutcome, { ok: false }>;
  if (!opened.ok) return failure(db, principal.organizationId, hostId, opened.error);
  await recordAudit(db, actor, { organizationId: principal.organizationId, ...audit, metadata: { host_id: hostId, ...audit.metadata } });
  return { meta: opened.meta, body: downloadBody(relay, opened) };
}

/**
 * Runs an upload of a tar to a host: refuses what is not a tar (400) before the host sees a
 * byte, and a body past PIER_MAX_UPLOAD_BYTES (413, by its Content-Length or as it streams).
 */
export async function runHostUpload<O extends OpName>(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  op: O,
  args: Record<string, unknown>,
  request: { body: ReadableStream<Uint8Array> | null; contentLength: string | undefined },
  audit: { action: string; targetType: string; targetId: string; metadata: (result: OpResult<O>) => Record<string, unknown> },
): Promise<OpResult<O>> {
  const { principal } = actor;
  requireRole(principal, "member", "copy files or images into a host");
  if (!HOST_ID.test(hostId)) throw new ApiError(404, `Host ${hostId} was not found.`);
  const max = maxUploadBytes(env);
  const declared = request.contentLength === undefined ? Number.NaN : Number(request.contentLength);
  if (declared > max) throw new ApiError(413, `The tar is ${declared} bytes; this Pier takes at most ${max} (PIER_MAX_UPLOAD_BYTES).`);
  if (!request.body) throw new ApiError(400, "Send the tar as the request body (Content-Type: application/x-tar).");
  const peeked = await peekBody(request.body);
  if (looksLikeArchive(peeked.head) === null) {
    await peeked.body.cancel().catch(() => {});
    throw new ApiError(400, "The body is not a tar archive (nor a gzip, bzip2, xz or zstd compressed one).");
  }
  const limited = limitBody(peeked.body, max);
  const outcome = (await env.HOST_RELAY.getByName(hostId).openUpload(op, args, limited.body, {
    organizationId: principal.organizationId,
  })) as CommandOutcome;
  if (limited.exceeded()) throw new ApiError(413, `The tar is larger than ${max} bytes (PIER_MAX_UPLOAD_BYTES).`);
  if (!outcome.ok) return failure(db, principal.organizationId, hostId, outcome.error);
  const result = outcome.data as OpResult<O>;
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: audit.action,
    targetType: audit.targetType,
    targetId: audit.targetId,
    metadata: { host_id: hostId, ...audit.metadata(result) },
  });
  return result;
}
