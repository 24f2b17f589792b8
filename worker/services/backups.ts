import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { createDatabase, type Database } from "../db/client.ts";
import { errorText } from "../db/errors.ts";
import { BACKUP_TARGET_KINDS, type BackupStatus, type BackupTargetKind, backups, tasks } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, forbidden, notFound } from "../errors.ts";
import { BackupIntegrityError, decryptStream, organizationBackupKey, verifyingStream } from "../lib/backup-crypto.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { recordAudit } from "./audit.ts";
import { DEFAULT_DESTINATION, openDestination } from "./backup-destinations.ts";
import { sourceFor } from "./backup-source-registry.ts";
import { type BackupTarget, type RestoreInto, targetIdOf } from "./backup-sources.ts";
import { getDatabaseService } from "./databases.ts";
import { getServer } from "./servers.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal, Viewer } from "./principal.ts";
import { backupTargetInScope } from "./project-lookup.ts";
import { createTask, type TaskRow, updateTask } from "./tasks.ts";

// Backups: the records of artifacts in destinations, on-demand backups and restores as tasks (run
// by a TaskRunner: services/backup-run.ts), downloads for admins, and the scan that finds
// artifacts in a destination Pier has no record of (from the manifest beside each one).

type Authed = Actor & { principal: Principal };
export type BackupRow = typeof backups.$inferSelect;

/** A backup or a restore gets this long before its runner fails it. */
export const BACKUP_TASK_TIMEOUT_MS = 6 * 60 * 60_000;

export type BackupTaskSpec = {
  taskId: string;
  organizationId: string;
  /** The host whose relay the task talks to first (the source's; a restore's target host may differ). */
  hostId: string;
  timeoutMs: number;
  backupId: string;
} & ({ kind: "backup"; target: BackupTarget } | { kind: "restore"; into: RestoreInto; actor: RestoreActor });

/** Who started a restore: what it creates (a new database service) is theirs. */
export type RestoreActor = { userId: string | null; username: string; role?: Principal["role"] };

// ---- request shapes -------------------------------------------------------------------------

const Name = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a Docker object name: letters, digits, _ . - (starting with a letter or digit)");
const Id = z.string().min(1).max(128);

export const BackupTargetInput = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("volume"),
    host_id: Id,
    name: Name,
    stop_containers: z.boolean().optional(),
  }),
  z.object({ kind: z.literal("database"), database_id: Id }),
  z.object({ kind: z.literal("container"), host_id: Id, id: Id }),
  z.object({ kind: z.literal("server"), server_id: Id }),
]);
export type BackupTargetInput = z.infer<typeof BackupTargetInput>;

export const BackupCreate = z.object({
  target: BackupTargetInput,
  /** `default` (the R2 bucket) when left out. */
  destination_id: Id.optional(),
  /** Encrypt with the organization's key; the destination's setting when left out. */
  encrypt: z.boolean().optional(),
});
export type BackupCreate = z.infer<typeof BackupCreate>;

export const RestoreRequest = z.object({
  into: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("same") }),
    z.object({ kind: z.literal("new"), name: Name, host_id: Id.optional() }),
    z.object({ kind: z.literal("server"), server_id: Id }),
  ]),
});
export type RestoreRequest = z.infer<typeof RestoreRequest>;

export function targetFromInput(input: BackupTargetInput): BackupTarget {
  switch (input.kind) {
    case "volume":
      return { kind: "volume", hostId: input.host_id, name: input.name, stopContainers: input.stop_containers };
    case "database":
      return { kind: "database", databaseId: input.database_id };
    case "container":
      return { kind: "container", hostId: input.host_id, id: input.id };
    case "server":
      return { kind: "server", serverId: input.server_id };
  }
}

/** The target a recorded backup was taken of. */
export function targetOfRecord(row: Pick<BackupRow, "targetKind" | "targetId" | "hostId">): BackupTarget {
  switch (row.targetKind) {
    case "volume":
      return { kind: "volume", hostId: row.hostId ?? "", name: row.targetId };
    case "database":
      return { kind: "database", databaseId: row.targetId };
    case "container":
      return { kind: "container", hostId: row.hostId ?? "", id: row.targetId };
    case "server":
      return { kind: "server", serverId: row.targetId };
  }
}

// ---- views ----------------------------------------------------------------------------------

export interface BackupView {
  id: string;
  status: BackupStatus;
  target: { kind: BackupTargetKind; id: string; host_id: string | null; label: string };
  destination_id: string;
  policy_id: string | null;
  format: string;
  key: string;
  size_bytes: number | null;
  sha256: string | null;
  encrypted: boolean;
  engine_version: string | null;
  task_id: string | null;
  error: string | null;
  imported: boolean;
  created_at: string;
  finished_at: string | null;
}

export const toBackupView = (r: BackupRow): BackupView => ({
  id: r.id,
  status: r.status,
  target: { kind: r.targetKind, id: r.targetId, host_id: r.hostId, label: r.label },
  destination_id: r.destinationId,
  policy_id: r.policyId,
  format: r.format,
  key: r.objectKey,
  size_bytes: r.sizeBytes,
  sha256: r.sha256,
  encrypted: r.encrypted,
  engine_version: r.engineVersion,
  task_id: r.taskId,
  error: r.error,
  imported: r.imported,
  created_at: r.createdAt,
  finished_at: r.finishedAt,
});

// ---- keys and manifests ------------------------------------------------------------------------

/** Where an organization's artifacts live in a destination: `<prefix>/pier/<org id>/`. */
export const organizationPrefix = (prefix: string, organizationId: string) => `${prefix ? `${prefix}/` : ""}pier/${organizationId}/`;

/** `20261130T081500Z`: ISO 8601's basic format, so keys hold no colons and sort by time. */
const compactIso = (iso: string) => iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

export function objectKeyFor(input: {
  prefix: string;
  organizationId: string;
  kind: BackupTargetKind;
  targetId: string;
  createdAt: string;
  backupId: string;
  ext: string;
}): string {
  const segment = input.targetId.replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${organizationPrefix(input.prefix, input.organizationId)}${input.kind}/${segment}/${compactIso(input.createdAt)}-${input.backupId}.${input.ext}`;
}

export const manifestKeyOf = (objectKey: string) => `${objectKey}.manifest.json`;

/** Written beside every good artifact, so a destination can be scanned for backups Pier lost track of. */
export const Manifest = z.object({
  pier_backup: z.literal(1),
  id: z.string(),
  organization_id: z.string(),
  target: z.object({
    kind: z.enum(BACKUP_TARGET_KINDS),
    id: z.string(),
    host_id: z.string().nullable(),
    label: z.string(),
  }),
  format: z.string(),
  engine_version: z.string().nullable(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  encryption: z.enum(["none", "PIERBK1"]),
  created: z.string(),
  finished: z.string(),
});
export type Manifest = z.infer<typeof Manifest>;

export const manifestOf = (row: BackupRow): Manifest => ({
  pier_backup: 1,
  id: row.id,
  organization_id: row.organizationId,
  target: { kind: row.targetKind, id: row.targetId, host_id: row.hostId, label: row.label },
  format: row.format,
  engine_version: row.engineVersion,
  size: row.sizeBytes ?? 0,
  sha256: row.sha256 ?? "",
  encryption: row.encrypted ? "PIERBK1" : "none",
  created: row.createdAt,
  finished: row.finishedAt ?? nowIso(),
});

// ---- reads ------------------------------------------------------------------------------------

export interface BackupFilter {
  target_kind?: BackupTargetKind;
  target_id?: string;
  host_id?: string;
  destination_id?: string;
  policy_id?: string;
  status?: BackupStatus;
}

/** What a project-scoped member sees of backups: those of their projects' databases and servers. */
const backupScope = (db: Database, viewer: Viewer) => backupTargetInScope(db, { kind: backups.targetKind, id: backups.targetId }, viewer);

export async function listBackups(db: Database, principal: Principal, filter: BackupFilter, page: PageQuery) {
  return newestFirstPage(
    db.select().from(backups).$dynamic(),
    backups,
    page,
    eq(backups.organizationId, principal.organizationId),
    backupScope(db, principal),
    filter.target_kind ? eq(backups.targetKind, filter.target_kind) : undefined,
    filter.target_id ? eq(backups.targetId, filter.target_id) : undefined,
    filter.host_id ? eq(backups.hostId, filter.host_id) : undefined,
    filter.destination_id ? eq(backups.destinationId, filter.destination_id) : undefined,
    filter.policy_id ? eq(backups.policyId, filter.policy_id) : undefined,
    filter.status ? eq(backups.status, filter.status) : undefined,
  );
}

export async function getBackup(db: Database, viewer: Viewer, id: string): Promise<BackupRow> {
  const [row] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.organizationId, viewer.organizationId), eq(backups.id, id), backupScope(db, viewer)))
    .limit(1);
  if (!row) throw notFound(`Backup ${id}`);
  return row;
}

// ---- backup -----------------------------------------------------------------------------------

/** A project-scoped member backs up their projects' databases and servers only (another's looks missing). */
async function assertTargetInScope(db: Database, viewer: Viewer, target: BackupTarget): Promise<void> {
  if (!viewer.projectScope) return;
  if (target.kind === "database") await getDatabaseService(db, viewer, target.databaseId);
  else if (target.kind === "server") await getServer(db, viewer.organizationId, target.serverId, { projectIds: viewer.projectScope });
  else throw forbidden(`Backing up a ${target.kind} is not available to project-scoped members: it belongs to a host, not a project.`);
}

/**
 * Records a backup of `target` (status running) and starts its task; the caller answers 202 with
 * both. Members and up; a policy's runs come with the policy's actor.
 */
export async function startBackup(
  env: Bindings,
  actor: Authed,
  input: { target: BackupTarget; destinationId?: string; policyId?: string; encrypt?: boolean },
): Promise<{ task: TaskRow; backup: BackupRow }> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  const db = createDatabase(env);
  await assertTargetInScope(db, principal, input.target);
  const source = sourceFor(input.target.kind);
  const described = await source.describe(env, input.target, { db, organizationId: principal.organizationId });
  const destination = await openDestination(db, env, principal.organizationId, input.destinationId);
  const encrypted = input.encrypt ?? destination.encrypt;
  const now = nowIso();
  const id = newId("bak");
  const objectKey = objectKeyFor({
    prefix: destination.prefix,
    organizationId: principal.organizationId,
    kind: input.target.kind,
    targetId: described.targetId,
    createdAt: now,
    backupId: id,
    ext: encrypted ? `${described.ext}.enc` : described.ext,
  });
  const createdBy = principal.userId || null;
  const task = await createTask(db, {
    organizationId: principal.organizationId,
    kind: "backup",
    targetType: "backup",
    targetId: id,
    message: `Back up ${described.label} to ${destination.name}`,
    createdBy,
  });
  const row: BackupRow = {
    id,
    organizationId: principal.organizationId,
    destinationId: destination.id,
    policyId: input.policyId ?? null,
    targetKind: input.target.kind,
    targetId: described.targetId,
    hostId: described.hostId,
    label: described.label,
    format: described.format,
    objectKey,
    status: "running",
    sizeBytes: null,
    sha256: null,
    encrypted,
    engineVersion: described.engineVersion ?? null,
    taskId: task.id,
    error: null,
    imported: false,
    createdBy,
    createdAt: now,
    finishedAt: null,
  };
  await db.insert(backups).values(row);
  // The target as given (with its options: stop_containers) rides in the task's spec.
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup.start",
    targetType: "backup",
    targetId: id,
    metadata: { target: described.label, destination_id: destination.id, policy_id: row.policyId, encrypted, task_id: task.id },
  });
  try {
    await env.TASK_RUNNER.getByName(task.id).start({
      kind: "backup",
      taskId: task.id,
      organizationId: principal.organizationId,
      hostId: described.hostId,
      timeoutMs: BACKUP_TASK_TIMEOUT_MS,
      backupId: id,
      target: input.target,
    });
  } catch (error) {
    const message = `Could not start the backup's task: ${errorText(error)}`;
    await updateTask(db, task.id, { status: "failed", message });
    await db.update(backups).set({ status: "failed", error: message, finishedAt: nowIso() }).where(eq(backups.id, id));
    throw new ApiError(503, "The backup could not be started; retry.");
  }
  return { task, backup: row };
}

// ---- restore ----------------------------------------------------------------------------------

/** Restores a good backup into its own target or a new one, as a task. Admins and up. */
export async function startRestore(
  env: Bindings,
  actor: Authed,
  input: { backupId: string; into: RestoreInto },
): Promise<{ task: TaskRow }> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const db = createDatabase(env);
  const row = await getBackup(db, principal, input.backupId);
  if (row.status !== "succeeded")
    throw conflict(`Backup ${row.id} is ${row.status}${row.error ? ` (${row.error})` : ""}: only a succeeded backup can be restored.`);
  sourceFor(row.targetKind);
  // The destination must still be there (a 404 now, not in the task).
  await openDestination(db, env, principal.organizationId, row.destinationId);
  const into = input.into;
  if (into.kind === "server" && row.targetKind !== "server")
    throw new ApiError(422, `Backup ${row.id} is of a ${row.targetKind}: only a server's backup can be restored over a server.`, {
      errors: [{ pointer: "/body/into/kind", detail: "server applies to server backups only" }],
    });
  if (into.kind === "new" && into.hostId)
    await import("./hosts.ts").then(({ getHost }) => getHost(db, principal.organizationId, into.hostId!));
  const task = await createTask(db, {
    organizationId: principal.organizationId,
    kind: "restore",
    targetType: "backup",
    targetId: row.id,
    message:
      into.kind === "same"
        ? `Restore ${row.label} from backup ${row.id}`
        : into.kind === "server"
          ? `Restore backup ${row.id} of ${row.label} over server ${into.serverId}`
          : `Restore backup ${row.id} of ${row.label} into a new ${row.targetKind === "server" ? "volume" : row.targetKind} ${into.name}`,
    createdBy: principal.userId || null,
  });
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup.restore",
    targetType: "backup",
    targetId: row.id,
    metadata: { target: row.label, into, task_id: task.id },
  });
  try {
    await env.TASK_RUNNER.getByName(task.id).start({
      kind: "restore",
      taskId: task.id,
      organizationId: principal.organizationId,
      hostId: into.kind === "new" && into.hostId ? into.hostId : (row.hostId ?? ""),
      timeoutMs: BACKUP_TASK_TIMEOUT_MS,
      backupId: row.id,
      into,
      actor: { userId: principal.userId || null, username: principal.username, role: principal.role },
    });
  } catch (error) {
    await updateTask(db, task.id, { status: "failed", message: `Could not start the restore's task: ${errorText(error)}` });
    throw new ApiError(503, "The restore could not be started; retry.");
  }
  return { task };
}

// ---- download and delete ---------------------------------------------------------------------------

/**
 * A good backup's artifact, decrypted, for an admin. A corrupted artifact (its SHA-256 is not the
 * recorded one) is a 409 before anything is sent.
 */
export async function downloadBackup(
  env: Bindings,
  actor: Authed,
  id: string,
): Promise<{ stream: ReadableStream<Uint8Array>; filename: string; size: number | null }> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const db = createDatabase(env);
  const row = await getBackup(db, principal, id);
  if (row.status !== "succeeded") throw conflict(`Backup ${row.id} is ${row.status}: only a succeeded backup can be downloaded.`);
  const destination = await openDestination(db, env, principal.organizationId, row.destinationId);
  const missing = () => new ApiError(404, `Backup ${row.id}'s artifact is no longer in ${destination.name} (${row.objectKey}).`);
  // Checked in full before a byte is sent: once a response's status has gone out, a failure at the
  // end of the body does not reliably reach an HTTP client (behind wrangler dev the connection
  // stayed open and the client waited), so a corrupted artifact is refused up front. The artifact
  // is read twice; the second read is checked again, in case it was replaced in between.
  const first = await destination.store.get(row.objectKey);
  if (!first) throw missing();
  try {
    await first.body.pipeThrough(verifyingStream(row.sha256 ?? "")).pipeTo(new WritableStream());
  } catch (error) {
    if (error instanceof BackupIntegrityError) throw conflict(`Backup ${row.id} cannot be downloaded: ${error.message}`);
    throw error;
  }
  const object = await destination.store.get(row.objectKey);
  if (!object) throw missing();
  let stream = object.body.pipeThrough(verifyingStream(row.sha256 ?? ""));
  if (row.encrypted) stream = stream.pipeThrough(decryptStream(await organizationBackupKey(env.ENCRYPTION_KEY, row.organizationId)));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup.download",
    targetType: "backup",
    targetId: row.id,
    metadata: { target: row.label },
  });
  const base = row.objectKey
    .split("/")
    .pop()!
    .replace(/\.enc$/, "");
  return { stream, filename: base, size: row.encrypted ? null : row.sizeBytes };
}

/**
 * Deletes a backup: its artifact and manifest from the destination, then its record. Admins and
 * up (a policy's retention comes with the policy's actor). A running backup cannot be deleted.
 */
export async function deleteBackup(env: Bindings, actor: Authed, id: string): Promise<void> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const db = createDatabase(env);
  const row = await getBackup(db, principal, id);
  if (row.status === "running") throw conflict(`Backup ${row.id} is still running: cancel its task (${row.taskId}) first.`);
  // A restore reads the artifact as it goes: deleting it under one would leave its target half restored.
  const [restoring] = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(
      and(
        eq(tasks.targetType, "backup"),
        eq(tasks.targetId, row.id),
        eq(tasks.kind, "restore"),
        inArray(tasks.status, ["queued", "running"]),
      ),
    )
    .limit(1);
  if (restoring) throw conflict(`Backup ${row.id} is being restored (task ${restoring.id}): delete it once the restore has ended.`);
  const destination = await openDestination(db, env, principal.organizationId, row.destinationId).catch((error) => {
    // The destination's row is gone: nothing can be deleted there, the record goes anyway.
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  });
  if (destination) {
    try {
      await destination.store.delete(manifestKeyOf(row.objectKey));
      await destination.store.delete(row.objectKey);
    } catch (error) {
      throw new ApiError(502, `The backup's artifact could not be deleted from ${destination.name}: ${errorText(error)}`);
    }
  }
  await db.delete(backups).where(eq(backups.id, row.id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup.delete",
    targetType: "backup",
    targetId: row.id,
    metadata: { target: row.label, destination_id: row.destinationId, key: row.objectKey, policy_id: row.policyId },
  });
}

// ---- scan -----------------------------------------------------------------------------------

/**
 * Reads the manifests under the organization's prefix in a destination and records the backups
 * Pier has no record of (imported, succeeded). A manifest whose artifact is missing, whose size
 * differs, or that names another organization is skipped with the reason.
 */
export async function scanDestination(
  env: Bindings,
  actor: Authed,
  destinationId: string,
): Promise<{ imported: BackupRow[]; known: number; skipped: Array<{ key: string; reason: string }> }> {
  const { principal } = actor;
  assertPermission(principal, "manage_backups");
  assertPermission(principal, "admin_access");
  const db = createDatabase(env);
  const destination = await openDestination(db, env, principal.organizationId, destinationId);
  const prefix = organizationPrefix(destination.prefix, principal.organizationId);
  const sizes = new Map<string, number>();
  let cursor: string | undefined;
  try {
    do {
      const page = await destination.store.list(prefix, cursor);
      for (const o of page.objects) sizes.set(o.key, o.size);
      cursor = page.cursor;
    } while (cursor);
  } catch (error) {
    throw new ApiError(502, `Could not list ${destination.name}: ${errorText(error)}`);
  }
  const recorded = new Set(
    (
      await db
        .select({ key: backups.objectKey })
        .from(backups)
        .where(and(eq(backups.organizationId, principal.organizationId), eq(backups.destinationId, destination.id)))
    ).map((r) => r.key),
  );
  const imported: BackupRow[] = [];
  const skipped: Array<{ key: string; reason: string }> = [];
  let known = 0;
  for (const key of sizes.keys()) {
    if (!key.endsWith(".manifest.json")) continue;
    const objectKey = key.slice(0, -".manifest.json".length);
    if (recorded.has(objectKey)) {
      known++;
      continue;
    }
    const read = await destination.store.get(key);
    const parsed = Manifest.safeParse(read ? await new Response(read.body).json().catch(() => null) : null);
    if (!parsed.success) {
      skipped.push({ key, reason: "not a Pier backup manifest" });
      continue;
    }
    const m = parsed.data;
    if (m.organization_id !== principal.organizationId) {
      skipped.push({ key, reason: "made for another organization" });
      continue;
    }
    const size = sizes.get(objectKey);
    if (size === undefined) {
      skipped.push({ key, reason: "its artifact is missing" });
      continue;
    }
    if (size !== m.size) {
      skipped.push({ key, reason: `its artifact is ${size} bytes, the manifest says ${m.size}` });
      continue;
    }
    const row: BackupRow = {
      // The manifest's id unless this organization already uses it (a copy of a recorded backup).
      id: (await db.select({ id: backups.id }).from(backups).where(eq(backups.id, m.id)).limit(1)).length ? newId("bak") : m.id,
      organizationId: principal.organizationId,
      destinationId: destination.id,
      policyId: null,
      targetKind: m.target.kind,
      targetId: m.target.id,
      hostId: m.target.host_id,
      label: m.target.label,
      format: m.format,
      objectKey,
      status: "succeeded",
      sizeBytes: m.size,
      sha256: m.sha256,
      encrypted: m.encryption !== "none",
      engineVersion: m.engine_version,
      taskId: null,
      error: null,
      imported: true,
      createdBy: principal.userId || null,
      createdAt: m.created,
      finishedAt: m.finished,
    };
    await db.insert(backups).values(row);
    imported.push(row);
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup.scan",
    targetType: "backup_destination",
    targetId: destination.id,
    metadata: { imported: imported.map((r) => r.id), known, skipped: skipped.length },
  });
  return { imported, known, skipped };
}

export { DEFAULT_DESTINATION, targetIdOf };
