import { eq } from "drizzle-orm";
import { createDatabase } from "../db/client.ts";
import { errorText } from "../db/errors.ts";
import { backups } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { decryptStream, encryptStream, HashingStream, organizationBackupKey, verifyingStream } from "../lib/backup-crypto.ts";
import { dockerHumanSize } from "../lib/human-size.ts";
import { nowIso } from "../lib/time.ts";
import { openDestination } from "./backup-destinations.ts";
import { sourceFor } from "./backup-source-registry.ts";
import { type BackupTaskSpec, getBackup, manifestKeyOf, manifestOf, targetOfRecord } from "./backups.ts";
import { uploadStream } from "./backup-store.ts";
import type { TaskPatch } from "./tasks.ts";

// The backup pipeline, run by a TaskRunner off the request path:
//
//   backup:  source (the agent, through the relay) → [encrypt] → SHA-256 + count → upload (multipart)
//            → manifest beside the artifact → record succeeded; on any failure the upload is
//            aborted (no object left) and the record says failed.
//   restore: artifact → SHA-256 checked over the whole artifact first (a corrupted one is refused
//            before anything is touched) → artifact again → SHA-256 → [decrypt] → the source's
//            restore (the agent, through the relay).
//
// Every step streams: memory holds one upload part (5 MiB) and a few relay frames at most.

export interface RunHooks {
  signal: AbortSignal;
  /** Progress for the task row (written at most once a second by the runner). */
  progress: (patch: TaskPatch) => void;
  /** A line of the task's log. */
  log: (line: string) => void;
  /**
   * The multipart upload in progress (null once it is completed or aborted), kept by the runner
   * so that, should it restart mid-upload, it can abort the upload this run can no longer finish.
   */
  multipart?: (open: OpenMultipart | null) => void;
}

export interface OpenMultipart {
  destinationId: string;
  key: string;
  uploadId: string;
}

const aborted = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? "aborted")));

export async function runBackup(env: Bindings, spec: Extract<BackupTaskSpec, { kind: "backup" }>, hooks: RunHooks): Promise<TaskPatch> {
  const db = createDatabase(env);
  const row = await getBackup(db, { organizationId: spec.organizationId }, spec.backupId);
  const fail = async (message: string): Promise<TaskPatch> => {
    await db.update(backups).set({ status: "failed", error: message, finishedAt: nowIso() }).where(eq(backups.id, row.id));
    hooks.log(message);
    return { status: "failed", message, result: { backup_id: row.id } };
  };
  let destination: Awaited<ReturnType<typeof openDestination>>;
  try {
    destination = await openDestination(db, env, spec.organizationId, row.destinationId);
  } catch (error) {
    return fail(`The destination could not be opened: ${errorText(error)}`);
  }
  const source = sourceFor(spec.target.kind);
  hooks.log(`Backing up ${row.label} to ${destination.name} (${destination.store.description}) as ${row.objectKey}`);
  const hashing = new HashingStream((bytes) =>
    hooks.progress({ message: `Uploaded ${dockerHumanSize(bytes)} of ${row.label}`, result: { backup_id: row.id, bytes_done: bytes } }),
  );
  try {
    let stream = await source.open(env, spec.target, {
      db,
      organizationId: spec.organizationId,
      log: hooks.log,
      signal: hooks.signal,
    });
    if (row.encrypted) {
      hooks.log("Encrypting with the organization's key (PIERBK1)");
      stream = stream.pipeThrough(encryptStream(await organizationBackupKey(env.ENCRYPTION_KEY, spec.organizationId)));
    }
    await uploadStream(destination.store, row.objectKey, stream.pipeThrough(hashing), {
      signal: hooks.signal,
      onRetry: (part, error) => hooks.log(`Part ${part} failed (${errorText(error)}); trying it once more`),
      onMultipart: (uploadId) => hooks.multipart?.(uploadId ? { destinationId: destination.id, key: row.objectKey, uploadId } : null),
    });
  } catch (error) {
    if (hooks.signal.aborted) {
      await fail(`Stopped: ${errorText(aborted(hooks.signal))}; nothing was kept in ${destination.name}.`);
      throw aborted(hooks.signal);
    }
    return fail(`The backup failed, and nothing was kept in ${destination.name}: ${errorText(error)}`);
  }
  const finished = { sizeBytes: hashing.bytes, sha256: hashing.hex(), finishedAt: nowIso() };
  try {
    await destination.store.put(
      manifestKeyOf(row.objectKey),
      JSON.stringify(manifestOf({ ...row, ...finished, status: "succeeded" }), null, 2),
      "application/json",
    );
  } catch (error) {
    // An artifact without its manifest would be listed by nobody: it goes too.
    await destination.store.delete(row.objectKey).catch(() => undefined);
    return fail(`The artifact was stored but its manifest could not be written, so it was removed: ${errorText(error)}`);
  }
  await db
    .update(backups)
    .set({ status: "succeeded", ...finished })
    .where(eq(backups.id, row.id));
  const message = `Backed up ${row.label}: ${dockerHumanSize(finished.sizeBytes)} in ${destination.name}, SHA-256 ${finished.sha256.slice(0, 12)}…`;
  hooks.log(message);
  return {
    status: "succeeded",
    progress: 100,
    message,
    result: {
      backup_id: row.id,
      bytes_done: finished.sizeBytes,
      size_bytes: finished.sizeBytes,
      sha256: finished.sha256,
      key: row.objectKey,
    },
  };
}

export async function runRestore(env: Bindings, spec: Extract<BackupTaskSpec, { kind: "restore" }>, hooks: RunHooks): Promise<TaskPatch> {
  const db = createDatabase(env);
  const row = await getBackup(db, { organizationId: spec.organizationId }, spec.backupId);
  const destination = await openDestination(db, env, spec.organizationId, row.destinationId);
  const expected = row.sha256 ?? "";
  const size = row.sizeBytes ?? 0;
  const fraction = (done: number, pass: 0 | 1) => Math.min(99, Math.floor(((pass * size + done) / Math.max(1, 2 * size)) * 100));
  const open = async () => {
    const object = await destination.store.get(row.objectKey);
    if (!object) throw new Error(`The artifact is no longer in ${destination.name} (${row.objectKey}).`);
    return object.body;
  };

  // First pass: the whole artifact against its SHA-256, before the target is touched.
  hooks.log(`Checking the artifact's SHA-256 (${dockerHumanSize(size)} in ${destination.name})`);
  try {
    const check = (await open()).pipeThrough(
      verifyingStream(expected, (bytes) =>
        hooks.progress({
          progress: fraction(bytes, 0),
          message: `Checking ${dockerHumanSize(bytes)} of ${dockerHumanSize(size)}`,
          result: { backup_id: row.id, bytes_done: bytes },
        }),
      ),
    );
    const reader = check.getReader();
    const stop = () => void reader.cancel(aborted(hooks.signal)).catch(() => undefined);
    hooks.signal.addEventListener("abort", stop, { once: true });
    try {
      while (!(await reader.read()).done) if (hooks.signal.aborted) throw aborted(hooks.signal);
    } finally {
      hooks.signal.removeEventListener("abort", stop);
    }
  } catch (error) {
    if (hooks.signal.aborted) throw aborted(hooks.signal);
    const message = `Refused: ${errorText(error)} Nothing was restored.`;
    hooks.log(message);
    return { status: "failed", message, result: { backup_id: row.id } };
  }
  if (hooks.signal.aborted) throw aborted(hooks.signal);
  hooks.log("The artifact matches its SHA-256");

  // Second pass: into the target. Checked again as it streams (the object could change between
  // the passes); a mismatch fails the stream, and the source puts the previous data back.
  let body = (await open()).pipeThrough(
    verifyingStream(expected, (bytes) =>
      hooks.progress({
        progress: fraction(bytes, 1),
        message: `Restoring ${dockerHumanSize(bytes)} of ${dockerHumanSize(size)}`,
        result: { backup_id: row.id, bytes_done: bytes },
      }),
    ),
  );
  if (row.encrypted) body = body.pipeThrough(decryptStream(await organizationBackupKey(env.ENCRYPTION_KEY, row.organizationId)));
  const target = targetOfRecord(row);
  try {
    const result = await sourceFor(target.kind).restore(env, target, spec.into, body, {
      db,
      organizationId: spec.organizationId,
      actor: {
        ip: null,
        userAgent: "pier backup restore",
        principal: {
          kind: "session",
          userId: spec.actor.userId ?? "",
          username: spec.actor.username,
          organizationId: spec.organizationId,
          // Only admins start restores (backups.ts startRestore); older specs carry no role.
          role: spec.actor.role ?? "admin",
        },
      },
      log: hooks.log,
      signal: hooks.signal,
      format: row.format,
      engineVersion: row.engineVersion,
    });
    const message = `Restored ${row.label} from backup ${row.id}${spec.into.kind === "new" ? ` into ${spec.into.name}` : ""}.`;
    hooks.log(message);
    return { status: "succeeded", progress: 100, message, result: { backup_id: row.id, bytes_done: size, restored: result } };
  } catch (error) {
    if (hooks.signal.aborted) throw aborted(hooks.signal);
    const message = errorText(error);
    hooks.log(message);
    return { status: "failed", message, result: { backup_id: row.id } };
  }
}

/**
 * Aborts a multipart upload a backup left open when its runner restarted mid-way (the runner kept
 * its id: RunHooks.multipart), so its parts do not linger in the store until its lifecycle rule.
 */
export async function abortLeftUpload(env: Bindings, organizationId: string, open: OpenMultipart): Promise<void> {
  const destination = await openDestination(createDatabase(env), env, organizationId, open.destinationId);
  await destination.store.abortMultipart(open.key, open.uploadId);
}
