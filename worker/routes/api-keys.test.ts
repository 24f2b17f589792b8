import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { apiKeyRateKey, credentialCache } from "../services/credential-cache.ts";
import { addMember, call, expectProblem, json, newOwner } from "../testing.ts";

describe("API keys", () => {
  it("are shown once, listed without secrets, and accepted as x-api-key or Bearer", async () => {
    const owner = await newOwner();
    const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "ci" } }), 201);
    expect(created.key).toMatch(/^pier_/);
    expect(created).toMatchObject({ name: "ci", role: "owner", prefix: created.key.slice(0, 11), last_used_at: null, revoked_at: null });
    const list = await json(await call("/api/v1/api-keys", { token: owner.token }), 200);
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(list.api_keys[0]).not.toHaveProperty("key");
    const viaHeader = await json(await call("/api/v1/me", { apiKey: created.key }), 200);
    expect(viaHeader.id).toBe(owner.userId);
    const viaBearer = await json(await call("/api/v1/me", { token: created.key }), 200);
    expect(viaBearer.id).toBe(owner.userId);
    const listed = await json(await call("/api/v1/api-keys", { token: owner.token }), 200);
    expect(listed.api_keys[0].last_used_at).toEqual(expect.any(String));
  });

  it("cannot create API keys themselves", async () => {
    const owner = await newOwner();
    const created = await json(
      await call("/api/v1/api-keys", {
        token: owner.token,
        body: { name: "ci", expires_at: new Date(Date.now() + 3600_000).toISOString() },
      }),
      201,
    );
    await expectProblem(await call("/api/v1/api-keys", { apiKey: created.key, body: { name: "forever" } }), 403, /cannot create API keys/);
  });

  it("stop working once revoked", async () => {
    const owner = await newOwner();
    const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "temp" } }), 201);
    expect((await call(`/api/v1/api-keys/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { apiKey: created.key }), 401, /revoked/);
    await expectProblem(await call("/api/v1/me", { apiKey: "pier_thisisnotakeyatall000000000000" }), 401);
  });

  it("stop working once expired, and must expire in the future", async () => {
    const owner = await newOwner();
    await expectProblem(
      await call("/api/v1/api-keys", { token: owner.token, body: { name: "past", expires_at: "2000-01-01T00:00:00Z" } }),
      422,
    );
    await expectProblem(await call("/api/v1/api-keys", { token: owner.token, body: { name: "bad", expires_at: "tomorrow" } }), 422);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "short", expires_at: soon } }), 201);
    await json(await call("/api/v1/me", { apiKey: created.key }), 200);
    // Its hour passes (in the database, rather than by waiting for a clock).
    await createDatabase(env)
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where(eq(apiKeys.id, created.id));
    // An edit behind Pier's back: forget the principal the key's limiter cached, as every service
    // that changes a key does (a real expiry needs no such help: the cache keeps the key's expiry).
    await credentialCache(env).forget([apiKeyRateKey(await sha256Hex(created.key))]);
    await expectProblem(await call("/api/v1/me", { apiKey: created.key }), 401, /expired/);
  });

  it("never carry more rights than their creator", async () => {
    const owner = await newOwner();
    const viewer = await addMember(owner, "viewer");
    await expectProblem(await call("/api/v1/api-keys", { token: viewer.token, body: { name: "escalate", role: "admin" } }), 403);
    const admin = await addMember(owner, "admin");
    const adminKey = await json(await call("/api/v1/api-keys", { token: admin.token, body: { name: "admin-key" } }), 201);
    await json(await call("/api/v1/users", { apiKey: adminKey.key }), 200);
    // Demote the creator: the key's admin role is capped by the creator's role at every use.
    await json(await call(`/api/v1/users/${admin.userId}`, { method: "PATCH", token: owner.token, body: { role: "viewer" } }), 200);
    await expectProblem(await call("/api/v1/users", { apiKey: adminKey.key }), 403);
    const viewerKey = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "read-only", role: "viewer" } }), 201);
    await expectProblem(await call("/api/v1/users", { apiKey: viewerKey.key }), 403);
  });

  it("of another organization, or of another member, cannot be revoked (404)", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    const bKey = await json(await call("/api/v1/api-keys", { token: b.token, body: { name: "b" } }), 201);
    await expectProblem(await call(`/api/v1/api-keys/${bKey.id}`, { method: "DELETE", token: a.token }), 404);
    const member = await addMember(b, "member");
    await expectProblem(await call(`/api/v1/api-keys/${bKey.id}`, { method: "DELETE", token: member.token }), 404);
    await json(await call("/api/v1/me", { apiKey: bKey.key }), 200);
    const memberList = await json(await call("/api/v1/api-keys", { token: member.token }), 200);
    expect(memberList.api_keys).toEqual([]);
  });

  it("are managed with the role that creating them takes", async () => {
    const owner = await newOwner();
    const ownerKey = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "deploys" } }), 201);
    const viewerKey = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "read-only", role: "viewer" } }), 201);
    // A viewer-role key cannot revoke its creator's other keys (it could not have created them).
    await expectProblem(
      await call(`/api/v1/api-keys/${ownerKey.id}`, { method: "DELETE", apiKey: viewerKey.key }),
      403,
      /API keys cannot manage/,
    );
    await json(await call("/api/v1/me", { apiKey: ownerKey.key }), 200);
    // A full-role key cannot manage other keys either: keys come from sessions only.
    const other = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "other" } }), 201);
    await expectProblem(await call(`/api/v1/api-keys/${other.id}`, { method: "DELETE", apiKey: ownerKey.key }), 403);
    // An admin's session cannot revoke an owner-role key: it could not have created one.
    const admin = await addMember(owner, "admin");
    await expectProblem(await call(`/api/v1/api-keys/${ownerKey.id}`, { method: "DELETE", token: admin.token }), 403, /owner role/);
    // Within the rule it works: a key may revoke itself, an admin a member's key.
    expect((await call(`/api/v1/api-keys/${viewerKey.id}`, { method: "DELETE", apiKey: viewerKey.key })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { apiKey: viewerKey.key }), 401, /revoked/);
    const member = await addMember(owner, "member");
    const memberKey = await json(await call("/api/v1/api-keys", { token: member.token, body: { name: "m" } }), 201);
    expect((await call(`/api/v1/api-keys/${memberKey.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
  });

  it("keep their own rate-limit bucket, separate from the session", async () => {
    const owner = await newOwner();
    const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "bucket" } }), 201);
    const byKey = await call("/api/v1/me", { apiKey: created.key });
    const bySession = await call("/api/v1/me", { token: owner.token });
    expect(Number(byKey.headers.get("x-ratelimit-remaining"))).toBe(Number(byKey.headers.get("x-ratelimit-limit")) - 1);
    expect(Number(bySession.headers.get("x-ratelimit-remaining"))).toBeLessThan(Number(byKey.headers.get("x-ratelimit-remaining")));
  });
});
