// The per-credential RateLimiter object caches the credential's principal (issue 10): a steady
// authenticated request reads no database, and every revocation still bites on the very next
// request. Each test warms the cache first (two requests), then revokes, then asks once more.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { addMember, call, expectProblem, json, login, newOwner, randomIp } from "../testing.ts";

async function newKey(token: string, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  return json(await call("/api/v1/api-keys", { token, body: { name: "cached", ...body } }), 201);
}

/** Two authenticated requests: the first fills the principal cache, the second is served from it. */
async function warm(credential: { token?: string; apiKey?: string }, path = "/api/v1/me") {
  for (let i = 0; i < 2; i++) await json(await call(path, credential), 200);
}

describe("the principal cache", () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it("answers a steady-state authenticated request with no database query", async () => {
    const owner = await newOwner();
    const { key } = await newKey(owner.token);
    // A session no request has used yet, so its first request below is a cold one.
    const session = await login(owner.username, owner.password);
    // The real libSQL client against the real server, with its HTTP requests counted: the
    // client (built per request from LIBSQL_URL) sends every query as a fetch to that URL.
    let queries = 0;
    globalThis.fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith(env.LIBSQL_URL)) queries++;
      return realFetch(input, init);
    };
    const app = createApp();
    const pending: Promise<unknown>[] = [];
    const ctx = {
      waitUntil: (p: Promise<unknown>) => pending.push(p),
      passThroughOnException: () => {},
      props: {},
    } as unknown as ExecutionContext;
    const ip = randomIp();
    // A route that exists for no one: everything up to the 404 is Pier's middleware, authentication
    // and the rate limit included.
    const request = (credential: Record<string, string>) =>
      app.request("/api/v1/nothing-here", { headers: { "cf-connecting-ip": ip, ...credential } }, env, ctx);

    const credentials: Record<string, string>[] = [{ "x-api-key": key }, { authorization: `Bearer ${session.access_token}` }];
    for (const credential of credentials) {
      queries = 0;
      const first = await request(credential);
      expect(first.status).toBe(404);
      await Promise.all(pending.splice(0));
      // The counter sees the database: the cold request had to read the credential.
      expect(queries).toBeGreaterThan(0);
      queries = 0;
      for (let i = 0; i < 20; i++) {
        const res = await request(credential);
        expect(res.status).toBe(404);
        expect(res.headers.get("x-ratelimit-remaining")).toEqual(expect.any(String));
      }
      await Promise.all(pending.splice(0));
      expect(queries).toBe(0);
    }
  });

  it("forgets a session at logout (canonical, and seed 001's /logout)", async () => {
    const owner = await newOwner();
    await warm({ token: owner.token });
    expect((await call("/api/v1/auth/logout", { method: "POST", token: owner.token })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { token: owner.token }), 401, /ended/);

    const other = await login(owner.username, owner.password);
    await warm({ token: other.access_token });
    await json(await call("/logout", { body: { refresh_token: other.refresh_token } }), 200);
    await expectProblem(await call("/api/v1/me", { token: other.access_token }), 401);
  });

  it("forgets a session whose refresh token is reused", async () => {
    const owner = await newOwner();
    const rotated = await json(await call("/api/v1/auth/refresh", { body: { refresh_token: owner.refreshToken } }), 200);
    await warm({ token: rotated.access_token });
    await expectProblem(await call("/api/v1/auth/refresh", { body: { refresh_token: owner.refreshToken } }), 401, /already used/);
    await expectProblem(await call("/api/v1/me", { token: rotated.access_token }), 401);
  });

  it("forgets the other sessions at a password change, and the API keys when asked to", async () => {
    const owner = await newOwner();
    const other = await login(owner.username, owner.password);
    const kept = await newKey(owner.token);
    await warm({ token: other.access_token });
    await warm({ apiKey: kept.key });
    const change = (current: string, next: string, revoke?: boolean) =>
      call("/api/v1/me/password", {
        token: owner.token,
        body: { current_password: current, new_password: next, ...(revoke === undefined ? {} : { revoke_api_keys: revoke }) },
      });
    expect((await change(owner.password, "second-password")).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { token: other.access_token }), 401);
    // By default the keys keep working: they drive automation.
    await json(await call("/api/v1/me", { apiKey: kept.key }), 200);
    await json(await call("/api/v1/me", { token: owner.token }), 200);

    expect((await change("second-password", "third-password", true)).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { apiKey: kept.key }), 401, /revoked/);
    const keys = await json(await call("/api/v1/api-keys", { token: owner.token }), 200);
    expect(keys.api_keys.find((k: { id: string }) => k.id === kept.id).revoked_at).toEqual(expect.any(String));
    await expectProblem(
      await call("/api/v1/me/password", {
        token: owner.token,
        body: { current_password: "third-password", new_password: "x", revoke_api_keys: "yes" },
      }),
      422,
    );
  });

  it("forgets a revoked API key", async () => {
    const owner = await newOwner();
    const created = await newKey(owner.token);
    await warm({ apiKey: created.key });
    expect((await call(`/api/v1/api-keys/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { apiKey: created.key }), 401, /revoked/);
  });

  it("forgets a user's sessions and keys when their role changes", async () => {
    const owner = await newOwner();
    const admin = await addMember(owner, "admin");
    const adminKey = await newKey(admin.token);
    await warm({ token: admin.token }, "/api/v1/users");
    await warm({ apiKey: adminKey.key }, "/api/v1/users");
    await json(await call(`/api/v1/users/${admin.userId}`, { method: "PATCH", token: owner.token, body: { role: "viewer" } }), 200);
    await expectProblem(await call("/api/v1/users", { token: admin.token }), 403, /viewer/);
    await expectProblem(await call("/api/v1/users", { apiKey: adminKey.key }), 403, /viewer/);
    // And back: a promotion is seen at once too.
    await warm({ token: admin.token });
    await json(await call(`/api/v1/users/${admin.userId}`, { method: "PATCH", token: owner.token, body: { role: "admin" } }), 200);
    await json(await call("/api/v1/users", { token: admin.token }), 200);
  });

  it("forgets a removed user's sessions and keys", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const memberKey = await newKey(member.token);
    await warm({ token: member.token });
    await warm({ apiKey: memberKey.key });
    expect((await call(`/api/v1/users/${member.userId}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { token: member.token }), 401);
    await expectProblem(await call("/api/v1/me", { apiKey: memberKey.key }), 401);
  });

  it("still honours an API key's expiry while the key is cached", async () => {
    const owner = await newOwner();
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const created = await newKey(owner.token, { expires_at: expiresAt });
    await warm({ apiKey: created.key });
    await expect.poll(async () => (await call("/api/v1/me", { apiKey: created.key })).status, { timeout: 10_000, interval: 200 }).toBe(401);
    await expectProblem(await call("/api/v1/me", { apiKey: created.key }), 401, /expired/);
  });
});
