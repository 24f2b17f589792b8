import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { auditEvents, vaultSecretVersions } from "../db/schema.ts";
import { decryptSecret } from "../lib/crypto.ts";
import { resolveVaultReferences, VaultReferenceError } from "../services/vault.ts";
import { addMember, call, expectProblem, json, newOwner, unique } from "../testing.ts";
import { waitFor } from "../../test/support/wait.ts";

const db = () => createDatabase(env);

const auditOf = (organizationId: string, action: string) =>
  db()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.organizationId, organizationId), eq(auditEvents.action, action)));

describe("vault", () => {
  it("stores every write as a new sealed version, reads the newest or an older one, and audits without values", async () => {
    const owner = await newOwner();
    const key = unique("DB_PASSWORD").replaceAll("-", "_");
    const first = await json(
      await call(`/api/v1/vault/secrets/${key}`, { method: "PUT", token: owner.token, body: { value: "hunter2-first" } }),
      200,
    );
    expect(first).toMatchObject({ key, version: 1, fields: null, reference: `\${vault:${key}}` });
    const second = await json(
      await call(`/api/v1/vault/secrets/${key}`, { method: "PUT", token: owner.token, body: { value: "hunter2-second" } }),
      200,
    );
    expect(second.version).toBe(2);
    expect(second.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    // At rest: AES-GCM sealed, never the plain value.
    const rows = await db().select().from(vaultSecretVersions).where(eq(vaultSecretVersions.secretId, second.id));
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.valueSealed).toMatch(/^v1\./);
      expect(r.valueSealed).not.toContain("hunter2");
    }
    expect(JSON.parse(await decryptSecret(rows.find((r) => r.version === 1)!.valueSealed, env.ENCRYPTION_KEY))).toBe("hunter2-first");

    expect(await json(await call(`/api/v1/vault/secrets/${key}/value`, { token: owner.token }), 200)).toEqual({
      key,
      version: 2,
      value: "hunter2-second",
    });
    expect(await json(await call(`/api/v1/vault/secrets/${key}/value?version=1`, { token: owner.token }), 200)).toMatchObject({
      version: 1,
      value: "hunter2-first",
    });
    await expectProblem(await call(`/api/v1/vault/secrets/${key}/value?version=3`, { token: owner.token }), 404, /Version 3/);

    const writes = await auditOf(owner.organizationId, "vault.secret.write");
    const reads = await auditOf(owner.organizationId, "vault.secret.read");
    expect(writes.map((w) => w.metadata)).toEqual(
      expect.arrayContaining([
        { key, version: 1 },
        { key, version: 2 },
      ]),
    );
    expect(reads.map((r) => r.metadata)).toEqual(
      expect.arrayContaining([
        { key, version: 2 },
        { key, version: 1 },
      ]),
    );
    for (const e of [...writes, ...reads]) expect(JSON.stringify(e)).not.toContain("hunter2");
  });

  it("lets members list keys but only admins read or write values; another organization's secret is missing", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const admin = await addMember(owner, "admin");
    const key = "secret/ssh";
    const path = `/api/v1/vault/secrets/${encodeURIComponent(key)}`;
    await json(
      await call(path, { method: "PUT", token: admin.token, body: { value: { private_key: "-----BEGIN", public_key: "ssh-rsa AAA" } } }),
      200,
    );
    const listed = await json(await call("/api/v1/vault/secrets", { token: member.token }), 200);
    expect(listed.secrets).toEqual([expect.objectContaining({ key, version: 1 })]);
    expect((await json(await call(path, { token: member.token }), 200)).reference).toBe("${vault:secret/ssh#private_key}");
    expect(JSON.stringify(listed)).not.toContain("BEGIN");
    await expectProblem(await call(`${path}/value`, { token: member.token }), 403, /admin/);
    await expectProblem(await call(path, { method: "PUT", token: member.token, body: { value: "x" } }), 403, /admin/);

    const stranger = await newOwner();
    await expectProblem(await call(`${path}/value`, { token: stranger.token }), 404);
    await expectProblem(await call(path, { token: stranger.token }), 404);

    await expectProblem(await call("/api/v1/vault/secrets/..%2Fetc", { method: "PUT", token: owner.token, body: { value: "x" } }), 422);
    await expectProblem(await call(path, { method: "PUT", token: owner.token, body: { value: {} } }), 422, /no fields/);
  });

  it("serves seed 002's paths: status, store and get by path", async () => {
    const owner = await newOwner();
    const stored = await json(
      await call("/api/vault/secrets/secret/ssh", {
        token: owner.token,
        body: { private_key: "-----BEGIN OPENSSH PRIVATE KEY-----", public_key: "ssh-rsa AAAAB3" },
      }),
      201,
    );
    expect(stored).toMatchObject({ success: true, path: "secret/ssh", version: 1, fields: ["private_key", "public_key"] });
    const got = await json(await call("/api/vault/secrets/secret/ssh", { token: owner.token }), 200);
    expect(got).toMatchObject({
      path: "secret/ssh",
      version: 1,
      data: { private_key: "-----BEGIN OPENSSH PRIVATE KEY-----", public_key: "ssh-rsa AAAAB3" },
    });
    const status = await json(await call("/api/vault/status", { token: owner.token }), 200);
    expect(status).toMatchObject({ status: "running", sealed: false, initialized: true, secrets: 1, versions: 1 });
    // 002's error envelope, for a missing path and bad input.
    expect(await json(await call("/api/vault/secrets/secret/none", { token: owner.token }), 404)).toMatchObject({
      error: { code: "NOT_FOUND" },
    });
    expect(await json(await call("/api/vault/secrets/secret/ssh", { token: owner.token, body: {} }), 422)).toMatchObject({
      error: { code: "INVALID_REQUEST" },
    });
  });

  it("resolves ${vault:…} references for a deployment, and names each missing one", async () => {
    const owner = await newOwner();
    await json(await call("/api/v1/vault/secrets/API_TOKEN", { method: "PUT", token: owner.token, body: { value: "tok-123" } }), 200);
    await json(
      await call("/api/v1/vault/secrets/db%2Fmain", {
        method: "PUT",
        token: owner.token,
        body: { value: { user: "app", password: "pw-9" } },
      }),
      200,
    );
    const resolved = await resolveVaultReferences(
      db(),
      env,
      owner.organizationId,
      { TOKEN: "${vault:API_TOKEN}", URL: "postgres://${vault:db/main#user}:${vault:db/main#password}@db/app", PLAIN: "x" },
      { targetType: "application", targetId: "app_test" },
    );
    expect(resolved.vars).toEqual({ TOKEN: "tok-123", URL: "postgres://app:pw-9@db/app", PLAIN: "x" });
    expect(resolved.secrets).toEqual(expect.arrayContaining(["tok-123", "app", "pw-9"]));
    const audit = await auditOf(owner.organizationId, "vault.secret.resolve");
    expect(audit[0]).toMatchObject({
      actorType: "system",
      targetId: "app_test",
      metadata: { keys: expect.arrayContaining(["API_TOKEN", "db/main"]) },
    });

    const missing = resolveVaultReferences(
      db(),
      env,
      owner.organizationId,
      { A: "${vault:NOPE}", B: "${vault:db/main}" },
      { targetType: "application", targetId: "x" },
    );
    await expect(missing).rejects.toBeInstanceOf(VaultReferenceError);
    await expect(missing).rejects.toThrow(
      /A references vault secret NOPE, which does not exist; B references vault secret db\/main, which has fields \(user, password\)/,
    );
  });
});

describe("system", () => {
  it("shows the non-secret configuration only, to admins", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const config = await json(await call("/api/v1/system/config", { token: owner.token }), 200);
    const compat = await json(await call("/api/system/config", { token: owner.token }), 200);
    expect(config).toMatchObject({
      auth: { access_token_ttl_seconds: expect.any(Number) },
      encryption: { algorithm: "AES-256-GCM", key_configured: true },
    });
    expect(compat).toEqual(config);
    const text = JSON.stringify(config);
    for (const secret of [env.JWT_SECRET, env.ENCRYPTION_KEY, env.LIBSQL_AUTH_TOKEN, env.LIBSQL_URL].filter(Boolean))
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/jwt_secret|encryption_key"|libsql|auth_token|password/i);
    await expectProblem(await call("/api/v1/system/config", { token: member.token }), 403);
  });

  it("merges audit events and failed tasks into one log with level, limit and offset", async () => {
    const owner = await newOwner();
    await json(await call("/api/v1/vault/secrets/K1", { method: "PUT", token: owner.token, body: { value: "v" } }), 200);
    const failed = await json(await call("/api/test/error", { token: owner.token, body: { message: "boom on purpose" } }), 202);
    expect(failed).toMatchObject({ success: true, task_id: expect.stringMatching(/^tsk_/) });
    const done = await waitFor("the failing test task to fail", async () => {
      const t = await json(await call(`/api/tasks/${failed.task_id}/status`, { token: owner.token }), 200);
      return t.data.status === "failed" ? t.data : undefined;
    });
    expect(done.message).toContain("boom on purpose");

    const errors = await json(await call("/api/system/logs?level=error&limit=100", { token: owner.token }), 200);
    expect(errors.logs.length).toBeGreaterThan(0);
    expect(errors.logs.every((l: { level: string }) => l.level === "error")).toBe(true);
    expect(errors.logs).toContainEqual(
      expect.objectContaining({ source: "task", target_type: null, message: expect.stringContaining("boom on purpose") }),
    );

    const all = await json(await call("/api/v1/system/logs?limit=2", { token: owner.token }), 200);
    expect(all.logs).toHaveLength(2);
    expect(all.total).toBeGreaterThanOrEqual(3);
    const next = await json(await call("/api/v1/system/logs?limit=2&offset=2", { token: owner.token }), 200);
    expect(next.logs[0].id).not.toBe(all.logs[0].id);
    expect(all.logs.map((l: { source: string }) => l.source)).toContain("audit");
    await expectProblem(await call("/api/v1/system/logs?level=loud", { token: owner.token }), 422);
    const member = await addMember(owner, "member");
    expect(await json(await call("/api/system/logs", { token: member.token }), 403)).toMatchObject({ error: { code: "FORBIDDEN" } });
  });

  it("runs seed 004's test tasks through the task runner to success", async () => {
    const owner = await newOwner();
    const started = await json(await call("/api/test/simple", { token: owner.token, body: { x: 2, y: 40 } }), 202);
    const done = await waitFor("the test task to succeed", async () => {
      const t = await json(await call(`/api/v1/tasks/${started.task_id}`, { token: owner.token }), 200);
      return t.status === "succeeded" ? t : undefined;
    });
    expect(done).toMatchObject({ kind: "probe.succeed", progress: 100, result: { sum: 42 } });
    const status = await json(await call("/api/v1/system/status", { token: owner.token }), 200);
    expect(status).toMatchObject({ database: { status: "ok" }, agents: { total: 0, online: 0 }, vault: "running" });
    expect(status.database.round_trip_ms).toEqual(expect.any(Number));
    const compat = await json(await call("/api/system/status", { token: owner.token }), 200);
    expect(compat).toMatchObject({
      system: { status: "healthy", version: expect.any(String) },
      services: { grafana: "not_configured", vault: "running" },
    });
  });
});
