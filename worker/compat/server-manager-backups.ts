// Server backups at the server manager documents' paths (seed 002's `/api/backups…`, seed 004's
// `/api/server/backup…` and `/api/backups/nodes|restore|delete`), as thin adapters over the backup
// services: a server's backup is a backup of target kind `server` (services/server-backups.ts),
// run and restored as tasks like any other. Errors are rendered by compat/envelopes.ts in the
// envelope of the document each path belongs to.
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  type ServerBackupView,
  serverBackupStatus,
  serverBackupsByNode,
  listServerBackups,
  resolveRestoreInto,
  startServerBackup,
} from "../services/server-backups.ts";
import { deleteBackup, getBackup, startRestore } from "../services/backups.ts";
import { getServer, serverScope } from "../services/servers.ts";
import { readJson } from "./validate.ts";
import { assertPermission } from "../services/permissions.ts";

const ok = <T>(data: T, message: string) => ({ success: true, data, message });

/** 002's list row (`id, server_id, server_name, backup_id, status, size, created_at`), plus Pier's fields. */
const v1Row = (b: ServerBackupView) => ({
  id: b.number,
  server_id: b.server_alias,
  server_name: b.server_name,
  backup_id: b.backup_id,
  status: b.status,
  size: b.size,
  created_at: b.created_at,
  size_bytes: b.size_bytes,
  node: b.node,
  task_id: b.task_id,
  destination_id: b.destination_id,
});

const ServerRef = z.union([z.number().int().positive(), z.string().trim().min(1).max(255)]);

// ---- seed 002 ------------------------------------------------------------------------------------

export const serverBackupV1Compat = new Hono<AppEnv>();

serverBackupV1Compat.get("/api/backups", requireAuth(), async (c) => {
  const rows = await listServerBackups(c.var.db, c.var.principal.organizationId, undefined, await serverScope(c.var.db, c.var.principal));
  return c.json({ backups: rows.map(v1Row), total: rows.length });
});

serverBackupV1Compat.post("/api/backups/create", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z.object({
      server_id: ServerRef,
      // Pier's backups are whole: the data volume (and a db server's dump) every time.
      backup_type: z.enum(["full"]).default("full"),
      destination_id: z.string().min(1).max(64).optional(),
    }),
  );
  const { task, backup } = await startServerBackup(c.env, authedActor(c), body.server_id, body.destination_id);
  return c.json(
    { success: true, message: "백업이 시작되었습니다", task_id: task.id, backup_id: backup.id, backup_type: body.backup_type },
    202,
  );
});

serverBackupV1Compat.post("/api/backups/:backupId/restore", requireAuth(), async (c) => {
  const body = await readJson(c, z.object({ target_server_id: ServerRef.optional(), overwrite: z.boolean().default(true) }), {
    optional: true,
  });
  const actor = authedActor(c);
  const into = await resolveRestoreInto(c.var.db, actor.principal, c.req.param("backupId"), {
    targetServer: body.target_server_id,
    overwrite: body.overwrite,
  });
  const { task } = await startRestore(c.env, actor, { backupId: c.req.param("backupId"), into });
  return c.json({ success: true, message: "백업 복원이 시작되었습니다", task_id: task.id }, 202);
});

serverBackupV1Compat.delete("/api/backups/:backupId", requireAuth(), async (c) => {
  await deleteBackup(c.env, authedActor(c), c.req.param("backupId"));
  return c.json({ success: true, message: "백업이 성공적으로 삭제되었습니다" });
});

// ---- seed 004 ------------------------------------------------------------------------------------

export const serverBackupV2Compat = new Hono<AppEnv>();

serverBackupV2Compat.get("/api/server/backup/status", requireAuth(), async (c) => {
  const statuses = await serverBackupStatus(
    c.var.db,
    c.var.principal.organizationId,
    undefined,
    await serverScope(c.var.db, c.var.principal),
  );
  return c.json(ok(statuses, "Backup status of every server."));
});

const oneStatus = async (c: Context<AppEnv>, name: string) => {
  const server = await getServer(c.var.db, c.var.principal.organizationId, name, await serverScope(c.var.db, c.var.principal));
  const [status] = await serverBackupStatus(c.var.db, c.var.principal.organizationId, server.id);
  return c.json(ok(status, `Backup status of ${server.name}.`));
};
serverBackupV2Compat.get("/api/server/backup/status/:name", requireAuth(), (c) => oneStatus(c, c.req.param("name")));
serverBackupV2Compat.get("/api/server/backup/:name/status", requireAuth(), (c) => oneStatus(c, c.req.param("name")));

serverBackupV2Compat.post("/api/server/backup/:name", requireAuth(), async (c) => {
  const body = await readJson(c, z.object({ destination_id: z.string().min(1).max(64).optional() }), { optional: true });
  const { task, backup } = await startServerBackup(c.env, authedActor(c), c.req.param("name"), body.destination_id);
  return c.json(
    ok(
      { task_id: task.id, backup_id: backup.id, server_id: backup.targetId, status: "running", status_url: `/api/tasks/${task.id}/status` },
      `Backup of ${c.req.param("name")} started.`,
    ),
    202,
  );
});

serverBackupV2Compat.get("/api/server/backups/:name", requireAuth(), async (c) => {
  const server = await getServer(
    c.var.db,
    c.var.principal.organizationId,
    c.req.param("name"),
    await serverScope(c.var.db, c.var.principal),
  );
  const rows = await listServerBackups(c.var.db, c.var.principal.organizationId, server.id);
  return c.json(ok(rows, `${rows.length} backup(s) of ${server.name}.`));
});

serverBackupV2Compat.get("/api/backups/nodes", requireAuth(), async (c) => {
  const nodes = await serverBackupsByNode(
    c.var.db,
    c.var.principal.organizationId,
    undefined,
    await serverScope(c.var.db, c.var.principal),
  );
  return c.json(ok(nodes, `Backups on ${nodes.length} node(s).`));
});

serverBackupV2Compat.get("/api/backups/nodes/:node", requireAuth(), async (c) => {
  const [node] = await serverBackupsByNode(
    c.var.db,
    c.var.principal.organizationId,
    c.req.param("node"),
    await serverScope(c.var.db, c.var.principal),
  );
  return c.json(ok(node, `Backups of node ${node!.node}.`));
});

serverBackupV2Compat.post("/api/backups/restore", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z.object({
      backup_id: z.string().min(1).max(128),
      /** Over another server's data (by name, alias or id), on whatever host it runs. */
      target_server: ServerRef.optional(),
      target_server_id: ServerRef.optional(),
      /** Into a new volume on this node (a host's name or id): `volume_name` names it. */
      node: z.string().min(1).max(255).optional(),
      volume_name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a Docker volume name")
        .max(255)
        .optional(),
      overwrite: z.boolean().default(true),
    }),
  );
  const actor = authedActor(c);
  const into = await resolveRestoreInto(c.var.db, actor.principal, body.backup_id, {
    targetServer: body.target_server ?? body.target_server_id,
    node: body.node,
    volumeName: body.volume_name,
    overwrite: body.overwrite,
  });
  const { task } = await startRestore(c.env, actor, { backupId: body.backup_id, into });
  return c.json(ok({ task_id: task.id, backup_id: body.backup_id, status_url: `/api/tasks/${task.id}/status` }, "Restore started."), 202);
});

serverBackupV2Compat.post("/api/backups/delete", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z
      .object({ backup_id: z.string().min(1).max(128).optional(), backup_ids: z.array(z.string().min(1).max(128)).max(100).optional() })
      .refine((b) => b.backup_id || b.backup_ids?.length, { message: "send backup_id or backup_ids", path: ["backup_id"] }),
  );
  const ids = [...new Set([...(body.backup_id ? [body.backup_id] : []), ...(body.backup_ids ?? [])])];
  const actor = authedActor(c);
  assertPermission(actor.principal, "manage_backups");
  assertPermission(actor.principal, "admin_access");
  // Every id is checked before anything is deleted: a typo deletes nothing.
  for (const id of ids) await getBackup(c.var.db, actor.principal, id);
  const deleted: string[] = [];
  for (const id of ids) {
    await deleteBackup(c.env, actor, id);
    deleted.push(id);
  }
  if (deleted.length === 0) throw new ApiError(422, "No backup to delete.");
  return c.json(ok({ deleted }, `${deleted.length} backup(s) deleted.`));
});
