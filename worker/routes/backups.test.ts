import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/wait.ts";
import { encryptStream, organizationBackupKey } from "../lib/backup-crypto.ts";
import { createDatabase } from "../db/client.ts";
import { backups } from "../db/schema.ts";
import type { BackupTaskSpec } from "../services/backups.ts";
import { s3Store } from "../services/backup-store.ts";
import { createTask, getTask, updateTask } from "../services/tasks.ts";
import { addMember, call, expectProblem, json, newOwner, type TestAccount, unique } from "../testing.ts";

// The backups API without an agent: artifacts are put into s3rver (or R2) as a Pier elsewhere would
// have left them, found by a scan, downloaded, refused when corrupted, deleted. The volume round
// trip through a real agent is in test/e2e/backups.test.ts.

const s3Settings = (prefix: string) => ({
  endpoint: env.TEST_S3_ENDPOINT!,
  bucket: "pier-test",
  region: "us-east-1",
  access_key_id: "S3RVER",
  secret_access_key: "S3RVER",
  prefix,
});
const store = () =>
  s3Store({
    endpoint: env.TEST_S3_ENDPOINT!,
    bucket: "pier-test",
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
  });

const hex = async (bytes: Uint8Array) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Leaves an artifact and its manifest in the destination, as a backup run would have. */
async function leaveArtifact(owner: TestAccount, prefix: string, plain: Uint8Array, options: { encrypt: boolean }) {
  const id = `bak_${unique("imp").slice(0, 20).padEnd(20, "0")}`;
  const stored = options.encrypt
    ? new Uint8Array(
        await new Response(
          new Blob([plain]).stream().pipeThrough(encryptStream(await organizationBackupKey(env.ENCRYPTION_KEY, owner.organizationId))),
        ).arrayBuffer(),
      )
    : plain;
  const key = `${prefix}/pier/${owner.organizationId}/volume/app-data/20261130T000000Z-${id}.tar${options.encrypt ? ".enc" : ""}`;
  await store().put(key, stored);
  const manifest = {
    pier_backup: 1,
    id,
    organization_id: owner.organizationId,
    target: { kind: "volume", id: "app-data", host_id: "hst_00000000000000000000", label: "volume app-data on gone-host" },
    format: "tar",
    engine_version: null,
    size: stored.length,
    sha256: await hex(stored),
    encryption: options.encrypt ? "PIERBK1" : "none",
    created: "2026-11-30T00:00:00.000Z",
    finished: "2026-11-30T00:00:01.000Z",
  };
  await store().put(`${key}.manifest.json`, JSON.stringify(manifest));
  return { id, key, stored };
}

describe("backups", () => {
  it("finds artifacts Pier lost track of by scanning, downloads them decrypted, refuses a corrupted one, and deletes", async () => {
    const owner = await newOwner();
    const prefix = unique("scan");
    const destination = await json(
      await call("/api/v1/backup-destinations", { token: owner.token, body: { ...s3Settings(prefix), name: "s3" } }),
      201,
    );
    const plain = new TextEncoder().encode("a tar, as far as this test cares ".repeat(5000));
    const encrypted = await leaveArtifact(owner, prefix, plain, { encrypt: true });
    const clear = await leaveArtifact(owner, prefix, plain.slice(0, 1000), { encrypt: false });
    // Noise the scan must skip: another organization's manifest, and a manifest without its artifact.
    await store().put(`${prefix}/pier/${owner.organizationId}/volume/x/orphan.tar.manifest.json`, JSON.stringify({ nope: true }));

    const scanned = await json(await call("/api/v1/backups/scan", { token: owner.token, body: { destination_id: destination.id } }), 200);
    expect(scanned.imported.map((b: { id: string }) => b.id).sort()).toEqual([clear.id, encrypted.id].sort());
    expect(scanned.known).toBe(0);
    expect(scanned.skipped).toEqual([expect.objectContaining({ reason: "not a Pier backup manifest" })]);
    expect(scanned.imported.find((b: { id: string }) => b.id === encrypted.id)).toMatchObject({
      status: "succeeded",
      imported: true,
      encrypted: true,
      destination_id: destination.id,
      target: { kind: "volume", id: "app-data", label: "volume app-data on gone-host" },
      size_bytes: encrypted.stored.length,
    });
    const again = await json(await call("/api/v1/backups/scan", { token: owner.token, body: { destination_id: destination.id } }), 200);
    expect(again).toMatchObject({ imported: [], known: 2 });

    const listed = await json(await call("/api/v1/backups?target_kind=volume&target_id=app-data", { token: owner.token }), 200);
    expect(listed.backups).toHaveLength(2);
    expect((await json(await call("/api/v1/backups?target_id=other", { token: owner.token }), 200)).backups).toEqual([]);

    const download = await call(`/api/v1/backups/${encrypted.id}/download`, { token: owner.token });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toContain(`${encrypted.id}.tar"`);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(plain);
    const clearDownload = await call(`/api/v1/backups/${clear.id}/download`, { token: owner.token });
    expect(new Uint8Array(await clearDownload.arrayBuffer())).toEqual(plain.slice(0, 1000));

    // Corrupt the unencrypted artifact in place (same size): the download is refused before a byte
    // is sent, and a restore is refused before it touches anything.
    const corrupted = plain.slice(0, 1000);
    corrupted[500] = corrupted[500]! ^ 0xff;
    await store().put(clear.key, corrupted);
    const broken = await call(`/api/v1/backups/${clear.id}/download`, { token: owner.token });
    await expectProblem(broken, 409, /cannot be downloaded: .*SHA-256.*corrupted/);
    const restore = await json(
      await call(`/api/v1/backups/${clear.id}/restore`, { token: owner.token, body: { into: { kind: "same" } } }),
      202,
    );
    const task = await waitFor("the restore to end", async () => {
      const t = await json(await call(`/api/v1/tasks/${restore.task_id}`, { token: owner.token }), 200);
      return t.status === "queued" || t.status === "running" ? undefined : t;
    });
    expect(task).toMatchObject({
      kind: "restore",
      status: "failed",
      message: expect.stringMatching(/^Refused: .*SHA-256.*corrupted.*Nothing was restored/),
    });
    expect(task.result.log.join("\n")).toMatch(/Checking the artifact's SHA-256/);

    expect((await call(`/api/v1/backups/${encrypted.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect(await store().get(encrypted.key)).toBeNull();
    expect(await store().get(`${encrypted.key}.manifest.json`)).toBeNull();
    await expectProblem(await call(`/api/v1/backups/${encrypted.id}`, { token: owner.token }), 404);
    // A destination holding recorded backups cannot be removed.
    await expectProblem(
      await call(`/api/v1/backup-destinations/${destination.id}`, { method: "DELETE", token: owner.token }),
      409,
      /1 backup/,
    );
  });

  it("records a failed backup, with nothing stored, when the target's host cannot give it", async () => {
    const owner = await newOwner();
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    const started = await json(
      await call("/api/v1/backups", { token: owner.token, body: { target: { kind: "volume", host_id: host.id, name: "data" } } }),
      202,
    );
    expect(started).toMatchObject({
      task_id: expect.stringMatching(/^tsk_/),
      task: { kind: "backup", status: "queued" },
      backup: { status: "running", destination_id: "default", encrypted: true, target: { kind: "volume", id: "data", host_id: host.id } },
    });
    expect(started.backup.key).toMatch(
      new RegExp(`^pier/${owner.organizationId}/volume/data/\\d{8}T\\d{6}Z-${started.backup.id}\\.tar\\.enc$`),
    );
    const task = await waitFor("the backup to end", async () => {
      const t = await json(await call(`/api/v1/tasks/${started.task_id}`, { token: owner.token }), 200);
      return t.status === "queued" || t.status === "running" ? undefined : t;
    });
    expect(task.status).toBe("failed");
    const backup = await json(await call(`/api/v1/backups/${started.backup.id}`, { token: owner.token }), 200);
    expect(backup).toMatchObject({ status: "failed", error: expect.stringMatching(/nothing was kept/), size_bytes: null, sha256: null });
    expect((await env.BACKUPS.list({ prefix: `pier/${owner.organizationId}/` })).objects).toEqual([]);
    await expectProblem(
      await call(`/api/v1/backups/${started.backup.id}/restore`, { token: owner.token, body: { into: { kind: "same" } } }),
      409,
      /only a succeeded backup/,
    );
  });

  it("aborts the multipart upload a backup left open when its runner restarted mid-way", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const task = await createTask(db, { organizationId: owner.organizationId, kind: "backup", targetType: "backup" });
    await updateTask(db, task.id, { status: "running", progress: 30 });
    const backupId = `bak_${unique("left").slice(0, 20).padEnd(20, "0")}`;
    const key = `pier/${owner.organizationId}/volume/app-data/20261130T000000Z-${backupId}.tar.enc`;
    await db.insert(backups).values({
      id: backupId,
      organizationId: owner.organizationId,
      destinationId: "default",
      targetKind: "volume",
      targetId: "app-data",
      hostId: null,
      label: "volume app-data",
      format: "tar",
      objectKey: key,
      status: "running",
      encrypted: true,
      taskId: task.id,
      createdAt: new Date().toISOString(),
    });
    // What the runner left when it died: an upload with a part in R2, its id in the runner's storage.
    const upload = await env.BACKUPS.createMultipartUpload(key);
    const part = await upload.uploadPart(1, new Uint8Array(5 * 1024 * 1024).fill(7));
    const spec: BackupTaskSpec = {
      kind: "backup",
      taskId: task.id,
      organizationId: owner.organizationId,
      hostId: "hst_gone",
      timeoutMs: 60_000,
      backupId,
      target: { kind: "volume", hostId: "hst_gone", name: "app-data" },
    };
    const stub = env.TASK_RUNNER.getByName(task.id);
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.kv.put("spec", { spec, deadline: Date.now() + 60_000 });
      state.storage.kv.put("multipart", { destinationId: "default", key, uploadId: upload.uploadId });
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(await getTask(db, owner.organizationId, task.id)).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/^Interrupted: .*Its unfinished upload was aborted in the store\./),
    });
    const record = await json(await call(`/api/v1/backups/${backupId}`, { token: owner.token }), 200);
    expect(record).toMatchObject({ status: "failed" });
    // The store no longer has the upload: it cannot be completed, and nothing is under the key.
    await expect(env.BACKUPS.resumeMultipartUpload(key, upload.uploadId).complete([part])).rejects.toThrow();
    expect(await env.BACKUPS.head(key)).toBeNull();
    await runInDurableObject(stub, (_instance, state) => expect(state.storage.kv.get("multipart")).toBeUndefined());
  });

  it("checks input, roles and organizations", async () => {
    const owner = await newOwner();
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    const viewer = await addMember(owner, "viewer");
    const member = await addMember(owner, "member");
    const body = { target: { kind: "volume", host_id: host.id, name: "data" } };
    await expectProblem(await call("/api/v1/backups", { token: viewer.token, body }), 403, /manage_backups/);
    await expectProblem(
      await call("/api/v1/backups", { token: owner.token, body: { target: { kind: "volume", host_id: host.id, name: "-x" } } }),
      422,
    );
    await expectProblem(await call("/api/v1/backups", { token: owner.token, body: { target: { kind: "disk" } } }), 422);
    await expectProblem(await call("/api/v1/backups", { token: owner.token, body: { ...body, destination_id: "bkd_nope" } }), 404);
    const started = await json(await call("/api/v1/backups", { token: member.token, body }), 202);
    expect((await json(await call("/api/v1/backups", { token: viewer.token }), 200)).backups.map((b: { id: string }) => b.id)).toContain(
      started.backup.id,
    );
    await waitFor("the backup to fail", async () => {
      const b = await json(await call(`/api/v1/backups/${started.backup.id}`, { token: owner.token }), 200);
      return b.status === "failed" ? b : undefined;
    });
    await expectProblem(
      await call(`/api/v1/backups/${started.backup.id}/restore`, { token: member.token, body: { into: { kind: "same" } } }),
      403,
    );
    await expectProblem(await call(`/api/v1/backups/${started.backup.id}/download`, { token: member.token }), 403);
    await expectProblem(await call(`/api/v1/backups/${started.backup.id}`, { method: "DELETE", token: member.token }), 403);
    await expectProblem(await call("/api/v1/backups/scan", { token: member.token, body: { destination_id: "default" } }), 403);

    const stranger = await newOwner("stranger");
    await expectProblem(await call(`/api/v1/backups/${started.backup.id}`, { token: stranger.token }), 404);
    await expectProblem(
      await call(`/api/v1/backups/${started.backup.id}/restore`, { token: stranger.token, body: { into: { kind: "same" } } }),
      404,
    );
    await expectProblem(await call("/api/v1/backups", { token: stranger.token, body }), 404);
    expect((await json(await call("/api/v1/backups", { token: stranger.token }), 200)).backups).toEqual([]);

    // A failed backup's record goes with DELETE (there is nothing stored to delete).
    expect((await call(`/api/v1/backups/${started.backup.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    const audit = await json(await call("/api/v1/audit-events?action=backup.start", { token: owner.token }), 200);
    expect(JSON.stringify(audit)).toContain(started.backup.id);
  });
});
