// The server manager documents' backup paths inside workerd, without an agent: their shapes and
// envelopes, input checks, roles and organizations, over server and backup rows written as the
// servers and backup services would have. Backing up and restoring for real, across two hosts,
// is in test/e2e/server-manager-walk.test.ts.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/wait.ts";
import { createDatabase } from "../db/client.ts";
import { backups, servers } from "../db/schema.ts";
import { newId } from "../lib/ids.ts";
import { createTask, updateTask } from "../services/tasks.ts";
import { addMember, call, json, newOwner, type TestAccount, unique } from "../testing.ts";

async function newServer(owner: TestAccount, alias: number) {
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("node") } }), 201);
  const now = new Date().toISOString();
  const row = {
    id: newId("srv"),
    organizationId: owner.organizationId,
    alias,
    name: unique("web").replace(/[^a-zA-Z0-9-]/g, "-"),
    hostId: host.id as string,
    image: "pier-test/busybox:latest",
    volumeName: `srv-data-${alias}-${Date.now().toString(36)}`,
    status: "running" as const,
    config: {},
    createdAt: now,
    updatedAt: now,
  };
  await createDatabase(env).insert(servers).values(row);
  return { ...row, host };
}

/** A good backup of the server, as a finished run would have recorded it (its artifact is not needed here). */
async function recordedBackup(owner: TestAccount, server: Awaited<ReturnType<typeof newServer>>, sizeBytes: number) {
  const id = newId("bak");
  await createDatabase(env)
    .insert(backups)
    .values({
      id,
      organizationId: owner.organizationId,
      destinationId: "default",
      targetKind: "server",
      targetId: server.id,
      hostId: server.hostId,
      label: `server ${server.name} on ${server.host.name}`,
      format: "tar",
      objectKey: `pier/${owner.organizationId}/server/${server.id}/20261130T000000Z-${id}.tar.enc`,
      status: "succeeded",
      sizeBytes,
      sha256: "0".repeat(64),
      encrypted: true,
      createdAt: new Date(Date.now() - 60_000).toISOString(),
      finishedAt: new Date().toISOString(),
    });
  return id;
}

describe("server backups at the server manager documents' paths", () => {
  it("starts, lists, reports and deletes server backups in each document's shape", async () => {
    const owner = await newOwner();
    const web = await newServer(owner, 1);
    const old = await recordedBackup(owner, web, 2_500_000_000);

    // 004: back up by name → a task (which fails: no agent is connected to the host).
    const started = await json(await call(`/api/server/backup/${web.name}`, { token: owner.token, method: "POST" }), 202);
    expect(started).toMatchObject({
      success: true,
      data: { task_id: expect.stringMatching(/^tsk_/), backup_id: expect.stringMatching(/^bak_/), server_id: web.id },
      message: expect.any(String),
    });
    await waitFor("the backup to fail", async () => {
      const b = await json(await call(`/api/v1/backups/${started.data.backup_id}`, { token: owner.token }), 200);
      return b.status === "failed" ? b : undefined;
    });

    // 002's list: numbered oldest first, listed newest first.
    const v1 = await json(await call("/api/backups", { token: owner.token }), 200);
    expect(v1.total).toBe(2);
    expect(v1.backups).toEqual([
      expect.objectContaining({
        id: 2,
        server_id: 1,
        server_name: web.name,
        backup_id: started.data.backup_id,
        status: "failed",
        size: null,
      }),
      expect.objectContaining({ id: 1, server_id: 1, server_name: web.name, backup_id: old, status: "completed", size: "2.5GB" }),
    ]);
    expect(Object.keys(v1.backups[1]).slice(0, 7)).toEqual(["id", "server_id", "server_name", "backup_id", "status", "size", "created_at"]);

    // 004's views of the same.
    const own = await json(await call(`/api/server/backups/${web.alias}`, { token: owner.token }), 200);
    expect(own).toMatchObject({ success: true, data: [{ backup_id: started.data.backup_id }, { backup_id: old }] });
    const status = await json(await call(`/api/server/backup/${web.name}/status`, { token: owner.token }), 200);
    expect(status).toMatchObject({
      success: true,
      data: { server_id: 1, server_name: web.name, status: "failed", backups: 2, running: false },
    });
    expect(await json(await call(`/api/server/backup/status/${web.name}`, { token: owner.token }), 200)).toEqual(status);
    const all = await json(await call("/api/server/backup/status", { token: owner.token }), 200);
    expect(all.data).toEqual([status.data]);
    const nodes = await json(await call("/api/backups/nodes", { token: owner.token }), 200);
    expect(nodes.data).toEqual([
      expect.objectContaining({ node: web.host.name, node_id: web.hostId, total: 2, total_size: "2.5GB", total_bytes: 2_500_000_000 }),
    ]);
    const node = await json(await call(`/api/backups/nodes/${web.host.name}`, { token: owner.token }), 200);
    expect(node.data).toEqual(nodes.data[0]);

    // Deleting: 004 by body (every id checked before any goes), 002 by path.
    const missing = await json(await call("/api/backups/delete", { token: owner.token, body: { backup_ids: [old, "bak_nope"] } }), 404);
    expect(missing).toMatchObject({ success: false, error: expect.stringMatching(/bak_nope/) });
    expect(await json(await call(`/api/v1/backups/${old}`, { token: owner.token }), 200)).toMatchObject({ id: old });
    expect(await json(await call("/api/backups/delete", { token: owner.token, body: { backup_id: started.data.backup_id } }), 200)).toEqual(
      {
        success: true,
        data: { deleted: [started.data.backup_id] },
        message: expect.any(String),
      },
    );
    expect(await json(await call(`/api/backups/${old}`, { token: owner.token, method: "DELETE" }), 200)).toEqual({
      success: true,
      message: "백업이 성공적으로 삭제되었습니다",
    });
    expect(await json(await call("/api/backups", { token: owner.token }), 200)).toEqual({ backups: [], total: 0 });
  });

  it("restores over the server itself, another server or into a new volume on a node, and refuses what it cannot do", async () => {
    const owner = await newOwner();
    const web = await newServer(owner, 1);
    const db = await newServer(owner, 2);
    const backupId = await recordedBackup(owner, web, 1000);

    // 002: over server 2 (on its own host) by its numeric id.
    const over = await json(
      await call(`/api/backups/${backupId}/restore`, { token: owner.token, body: { target_server_id: 2, overwrite: true } }),
      202,
    );
    expect(over).toEqual({ success: true, message: expect.any(String), task_id: expect.stringMatching(/^tsk_/) });
    const task = await json(await call(`/api/v1/tasks/${over.task_id}`, { token: owner.token }), 200);
    expect(task.message).toContain(`over server ${db.id}`);
    // …and not without overwrite; 002's error envelope.
    const refused = await json(
      await call(`/api/backups/${backupId}/restore`, { token: owner.token, body: { target_server_id: 2, overwrite: false } }),
      409,
    );
    expect(refused).toEqual({ error: { code: "CONFLICT", message: expect.stringMatching(/overwrite/), details: {} } });

    // 004: into a new volume on a node, by the node's name.
    const onto = await json(
      await call("/api/backups/restore", {
        token: owner.token,
        body: { backup_id: backupId, node: db.host.name, volume_name: "web-data-copy" },
      }),
      202,
    );
    expect(onto).toMatchObject({ success: true, data: { task_id: expect.any(String), backup_id: backupId } });
    const ontoTask = await json(await call(`/api/v1/tasks/${onto.data.task_id}`, { token: owner.token }), 200);
    expect(ontoTask.message).toContain("into a new volume web-data-copy");

    // Bad input in 004's envelope; both target and node is ambiguous; unknown servers are 404.
    const bad = await json(
      await call("/api/backups/restore", { token: owner.token, body: { backup_id: backupId, volume_name: "-x" } }),
      422,
    );
    expect(bad).toMatchObject({ success: false, error: expect.stringMatching(/volume_name/) });
    await json(
      await call("/api/backups/restore", { token: owner.token, body: { backup_id: backupId, node: db.host.name, target_server: 2 } }),
      422,
    );
    await json(await call("/api/backups/restore", { token: owner.token, body: { backup_id: backupId, target_server: "nope" } }), 404);
    const v1Missing = await json(await call("/api/backups/create", { token: owner.token, body: { server_id: 99 } }), 404);
    expect(v1Missing).toMatchObject({ error: { code: "NOT_FOUND" } });
    const v1Bad = await json(
      await call("/api/backups/create", { token: owner.token, body: { server_id: 1, backup_type: "incremental" } }),
      422,
    );
    expect(v1Bad).toMatchObject({ error: { code: "INVALID_REQUEST", details: { field: "backup_type" } } });

    // A volume's backup cannot go over a server.
    const volumeBackup = await json(
      await call("/api/v1/backups", { token: owner.token, body: { target: { kind: "volume", host_id: web.hostId, name: "v" } } }),
      202,
    );
    await json(
      await call("/api/backups/restore", { token: owner.token, body: { backup_id: volumeBackup.backup.id, target_server: 1 } }),
      422,
    );
  });

  it("lets viewers read, members back up, admins restore and delete, and hides other organizations' servers and backups", async () => {
    const owner = await newOwner();
    const web = await newServer(owner, 1);
    const backupId = await recordedBackup(owner, web, 1000);
    const viewer = await addMember(owner, "viewer");
    const member = await addMember(owner, "member");
    expect((await json(await call("/api/backups", { token: viewer.token }), 200)).total).toBe(1);
    await json(await call(`/api/server/backup/${web.name}`, { token: viewer.token, method: "POST" }), 403);
    await json(await call(`/api/server/backup/${web.name}`, { token: member.token, method: "POST" }), 202);
    await json(await call(`/api/backups/${backupId}/restore`, { token: member.token, body: { overwrite: true } }), 403);
    await json(await call("/api/backups/delete", { token: member.token, body: { backup_id: backupId } }), 403);
    await json(await call("/api/backups"), 401);

    const stranger = await newOwner("stranger");
    expect(await json(await call("/api/backups", { token: stranger.token }), 200)).toEqual({ backups: [], total: 0 });
    await json(await call(`/api/server/backups/${web.name}`, { token: stranger.token }), 404);
    await json(await call(`/api/server/backup/${web.name}`, { token: stranger.token, method: "POST" }), 404);
    await json(await call(`/api/backups/${backupId}/restore`, { token: stranger.token, body: {} }), 404);
    await json(await call("/api/backups/delete", { token: stranger.token, body: { backup_id: backupId } }), 404);
    await json(await call(`/api/backups/nodes/${web.host.name}`, { token: stranger.token }), 404);
  });

  it("refuses to delete a backup a restore is reading, through both documents' paths", async () => {
    const owner = await newOwner();
    const web = await newServer(owner, 1);
    const backupId = await recordedBackup(owner, web, 1000);
    const restore = await createTask(createDatabase(env), {
      organizationId: owner.organizationId,
      kind: "restore",
      targetType: "backup",
      targetId: backupId,
    });
    const v1 = await json(await call(`/api/backups/${backupId}`, { token: owner.token, method: "DELETE" }), 409);
    expect(v1).toMatchObject({ error: { code: "CONFLICT", message: expect.stringContaining(restore.id) } });
    await json(await call("/api/backups/delete", { token: owner.token, body: { backup_id: backupId } }), 409);
    await updateTask(createDatabase(env), restore.id, { status: "failed", message: "ended" });
    expect(await json(await call(`/api/backups/${backupId}`, { token: owner.token, method: "DELETE" }), 200)).toMatchObject({
      success: true,
    });
  });
});
