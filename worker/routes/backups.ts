import { z } from "@hono/zod-openapi";
import { BACKUP_STATUSES, BACKUP_TARGET_KINDS } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  BackupCreate,
  deleteBackup,
  downloadBackup,
  getBackup,
  listBackups,
  RestoreRequest,
  scanDestination,
  startBackup,
  startRestore,
  targetFromInput,
  toBackupView,
} from "../services/backups.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, problem } from "./openapi.ts";
import { TaskView, toTaskView } from "./tasks.ts";

// Backups: records of artifacts in destinations, on-demand backups (members) and restores (admins)
// as tasks followed at /api/v1/tasks/{id}, downloads for admins, and a scan of a destination for
// artifacts Pier has no record of. Viewers list and read.
export const backupRoutes = createRouter();
backupRoutes.use("*", requireAuth());

const BackupView = z
  .object({
    id: z.string().openapi({ example: "bak_0123456789abcdefghij" }),
    status: z.enum(BACKUP_STATUSES).openapi({ description: "`failed` backups left nothing in the destination." }),
    target: z.object({
      kind: z.enum(BACKUP_TARGET_KINDS),
      id: z.string().openapi({ description: "The volume's name, the database service's id, the container's id." }),
      host_id: z.string().nullable(),
      label: z.string(),
    }),
    destination_id: z.string().openapi({ description: "`default` for the Worker's R2 bucket." }),
    policy_id: z.string().nullable(),
    format: z.string().openapi({ description: "What restore expects: `tar` for a volume, a dump format for a database." }),
    key: z.string().openapi({ description: "The artifact's object key; its manifest is `<key>.manifest.json`." }),
    size_bytes: z.number().int().nullable().openapi({ description: "Bytes stored (after encryption)." }),
    sha256: z.string().nullable().openapi({ description: "SHA-256 (hex) of the stored bytes, checked on restore and download." }),
    encrypted: z.boolean(),
    engine_version: z.string().nullable(),
    task_id: z.string().nullable(),
    error: z.string().nullable(),
    imported: z.boolean().openapi({ description: "Recorded by a scan of the destination, not made by this Pier." }),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi("Backup");

const BackupId = IdParam("id", "bak_0123456789abcdefghij");

const ListQuery = PageQuery.extend({
  target_kind: z.enum(BACKUP_TARGET_KINDS).optional(),
  target_id: z.string().max(255).optional().openapi({ description: "A volume's name, a database's id, a container's id." }),
  host_id: z.string().max(64).optional(),
  destination_id: z.string().max(64).optional(),
  policy_id: z.string().max(64).optional(),
  status: z.enum(BACKUP_STATUSES).optional(),
});

backupRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["backups"],
    summary: "The organization's backups, newest first, filtered by target, host, destination, policy or status",
    request: { query: ListQuery },
    responses: {
      200: jsonResponse(z.object({ backups: z.array(BackupView) }).extend(PageMeta.shape), "A page of backups."),
    },
    errors: ["validation"],
  }),
  async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    const page = await listBackups(c.var.db, c.var.principal, filter, { limit, cursor });
    return c.json({ backups: page.items.map(toBackupView), next_cursor: page.nextCursor }, 200);
  },
);

backupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["backups"],
    summary: "Back up a target now, as a task (manage_backups)",
    description:
      "Answers 202 at once with the task (follow it at /api/v1/tasks/{id}: bytes done in `result.bytes_done`, a log in `result.log`) and the backup's record (status `running`). A volume is read as a tar from a container that mounts it; `stop_containers` stops its running users meanwhile.",
    request: { body: jsonBody(BackupCreate.openapi("BackupCreate")) },
    responses: {
      202: jsonResponse(z.object({ task_id: z.string(), task: TaskView, backup: BackupView }).openapi("BackupStarted"), "Started."),
      503: problem("The task could not be started, or the default destination is not configured."),
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { task, backup } = await startBackup(c.env, authedActor(c), {
      target: targetFromInput(body.target),
      destinationId: body.destination_id,
      encrypt: body.encrypt,
    });
    return c.json({ task_id: task.id, task: toTaskView(task), backup: toBackupView(backup) }, 202);
  },
);

backupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/scan",
    tags: ["backups"],
    summary: "Record the backups a destination holds that Pier has no record of (manage_backups and admin_access)",
    description:
      "Reads the manifests under `<prefix>/pier/<organization id>/` and records each backup whose artifact is there with the manifest's size (as `imported`). Already recorded ones are counted in `known`; others are listed in `skipped` with the reason.",
    request: { body: jsonBody(z.object({ destination_id: z.string().min(1).max(64) }).openapi("BackupScan")) },
    responses: {
      200: jsonResponse(
        z
          .object({
            imported: z.array(BackupView),
            known: z.number().int(),
            skipped: z.array(z.object({ key: z.string(), reason: z.string() })),
          })
          .openapi("BackupScanResult"),
        "What the scan found.",
      ),
      502: problem("The destination could not be listed."),
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const found = await scanDestination(c.env, authedActor(c), c.req.valid("json").destination_id);
    return c.json({ imported: found.imported.map(toBackupView), known: found.known, skipped: found.skipped }, 200);
  },
);

backupRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["backups"],
    summary: "One backup",
    request: { params: BackupId },
    responses: { 200: jsonResponse(BackupView, "The backup.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toBackupView(await getBackup(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

backupRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/download",
    tags: ["backups"],
    summary: "The backup's artifact, decrypted (manage_backups and admin_access)",
    description:
      "Streams the artifact as the target's format (a tar for a volume). Its SHA-256 is checked in full before anything is sent (the artifact is read twice): a corrupted artifact is a 409.",
    request: { params: BackupId },
    responses: {
      200: { description: "The artifact.", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    errors: ["notFound", "conflict", "relay"],
  }),
  async (c) => {
    const { stream, filename, size } = await downloadBackup(c.env, authedActor(c), c.req.valid("param").id);
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${filename}"`,
    };
    if (size !== null) headers["content-length"] = String(size);
    return c.body(stream, 200, headers);
  },
);

backupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/restore",
    tags: ["backups"],
    summary: "Restore a backup, as a task (manage_backups and admin_access)",
    description:
      "`into: {kind: same}` restores over the backed-up target (a volume's current data is kept as a safety copy until the restore succeeds, and put back if it fails); `into: {kind: new, name, host_id?}` into a new one, on another host if `host_id` says so (a server's backup: a new volume); `into: {kind: server, server_id}` (a server's backup only) over another server's data volume, on whatever host it runs, its container stopped meanwhile. The artifact's SHA-256 is checked over the whole artifact before anything is touched: a corrupted one fails the task and changes nothing.",
    request: { params: BackupId, body: jsonBody(RestoreRequest.openapi("BackupRestore")) },
    responses: {
      202: jsonResponse(z.object({ task_id: z.string(), task: TaskView }), "Started."),
      503: problem("The task could not be started."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const { into } = c.req.valid("json");
    const { task } = await startRestore(c.env, authedActor(c), {
      backupId: c.req.valid("param").id,
      into:
        into.kind === "same"
          ? { kind: "same" }
          : into.kind === "server"
            ? { kind: "server", serverId: into.server_id }
            : { kind: "new", name: into.name, hostId: into.host_id },
    });
    return c.json({ task_id: task.id, task: toTaskView(task) }, 202);
  },
);

backupRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["backups"],
    summary: "Delete a backup: its artifact and manifest, then its record (manage_backups and admin_access)",
    request: { params: BackupId },
    responses: {
      204: { description: "Deleted." },
      502: problem("The destination refused the deletion."),
    },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await deleteBackup(c.env, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
