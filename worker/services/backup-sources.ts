import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import type { DownloadOutcome } from "../durable/transfer-relay.ts";
import type { CommandOutcome } from "../lib/relay.ts";
import { downloadBody } from "../lib/transfer.ts";
import { getHost } from "./hosts.ts";
import type { Actor, Principal } from "./principal.ts";

// What can be backed up, as plug-ins of the backup pipeline (services/backup-run.ts): each target
// kind says what its artifact is, streams it out of its host, and restores one into a target. The
// pipeline does the rest (encryption, SHA-256, multipart upload, records, manifest, progress), so
// a new kind is one entry in SOURCES and nothing else.

export type VolumeTarget = {
  kind: "volume";
  hostId: string;
  name: string;
  /** Stop the running containers that use the volume while it is read (and start them again after). */
  stopContainers?: boolean;
};
export type DatabaseTarget = { kind: "database"; databaseId: string };
export type ContainerTarget = { kind: "container"; hostId: string; id: string };
export type ServerTarget = { kind: "server"; serverId: string };
export type BackupTarget = VolumeTarget | DatabaseTarget | ContainerTarget | ServerTarget;

/**
 * Where a restore goes: over the backed-up target itself, into a new one (on another host, too),
 * or, for a server's backup, over another server's data (the documents' target_server_id).
 */
export type RestoreInto = { kind: "same" } | { kind: "new"; name: string; hostId?: string } | { kind: "server"; serverId: string };

/** What a source needs besides the target: whose it is, where to say what it does, when to stop. */
export interface SourceContext {
  db: Database;
  organizationId: string;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Who started the task: a restore creates what it creates (a new service) as them. */
  actor?: Actor & { principal: Principal };
}

export interface Described {
  /** The host the artifact is taken on (and a `same` restore goes to). */
  hostId: string;
  /** What restore expects: `tar`, `pg_dump`, … (recorded with the backup). */
  format: string;
  /** The artifact's file extension (before `.enc` when encrypted). */
  ext: string;
  /** For people: `volume app-data on host-a`. */
  label: string;
  /** The target's id in records and keys: a volume's name, a database's id, a container's id. */
  targetId: string;
  /** The engine's version where it matters for restore (PostgreSQL 15.8); null otherwise. */
  engineVersion?: string | null;
}

export interface BackupSource<T extends BackupTarget = BackupTarget> {
  /** Checks the target exists in the organization (404 otherwise) and describes its artifact. */
  describe(env: Bindings, target: T, ctx: Pick<SourceContext, "db" | "organizationId">): Promise<Described>;
  /** The artifact's bytes, streamed out of the host. */
  open(env: Bindings, target: T, ctx: SourceContext): Promise<ReadableStream<Uint8Array>>;
  /**
   * Restores an artifact (`body`, already decrypted and checked against its SHA-256 once) into
   * `into`; resolves with what the result should say, throws with a sentence when it failed.
   */
  restore(
    env: Bindings,
    target: T,
    into: RestoreInto,
    body: ReadableStream<Uint8Array>,
    ctx: SourceContext & { format: string; engineVersion: string | null },
  ): Promise<Record<string, unknown>>;
}

/** Thrown by sources: the task's message, as it is. */
export class BackupStepError extends Error {
  override name = "BackupStepError";
}

// ---- volumes ----------------------------------------------------------------------------------

export const volumeSource: BackupSource<VolumeTarget> = {
  async describe(_env, target, { db, organizationId }) {
    const host = await getHost(db, organizationId, target.hostId);
    return { hostId: host.id, format: "tar", ext: "tar", label: `volume ${target.name} on ${host.name}`, targetId: target.name };
  },

  async open(env, target, ctx) {
    const relay = env.HOST_RELAY.getByName(target.hostId);
    const opened = (await relay.openDownload("volume.export", {
      name: target.name,
      stop_containers: target.stopContainers ?? false,
    })) as DownloadOutcome;
    if (!opened.ok) throw new BackupStepError(`The volume could not be read: ${opened.error.message}`);
    ctx.log(`Reading volume ${target.name} as a tar${target.stopContainers ? " (its running containers stopped meanwhile)" : ""}`);
    // Cancelling it (the upload failed, the task was cancelled) stops the engine read on the host.
    return downloadBody(relay, opened);
  },

  async restore(env, target, into, body, ctx) {
    const hostId = into.kind === "new" ? (into.hostId ?? target.hostId) : target.hostId;
    if (hostId !== target.hostId) await getHost(ctx.db, ctx.organizationId, hostId);
    const name = into.kind === "new" ? into.name : target.name;
    ctx.log(
      into.kind === "same"
        ? `Restoring into volume ${name} (its current data kept as a safety copy until the restore succeeds)`
        : `Restoring into a new volume ${name}${hostId !== target.hostId ? ` on host ${hostId}` : ""}`,
    );
    const outcome = (await env.HOST_RELAY.getByName(hostId).openUpload(
      "volume.import",
      { name, mode: into.kind === "same" ? "replace" : "create", stop_containers: target.stopContainers ?? false },
      body,
    )) as CommandOutcome;
    if (!outcome.ok) throw new BackupStepError(`The restore into volume ${name} failed: ${outcome.error.message}`);
    return { host_id: hostId, ...(outcome.data as Record<string, unknown>) };
  },
};

/** A target as records and keys name it: the kind and the id it is found by. */
export function targetIdOf(target: BackupTarget): string {
  switch (target.kind) {
    case "volume":
      return target.name;
    case "database":
      return target.databaseId;
    case "container":
      return target.id;
    case "server":
      return target.serverId;
  }
}
