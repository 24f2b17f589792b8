import { describe, expect, it } from "vitest";
import { call, json, newOwner, unique } from "../testing.ts";

const RFC3339_SECONDS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

describe("seed 001: Docker container management API", () => {
  it("POST /user, /login, /token/renew_access and /logout keep the documented shapes", async () => {
    const username = unique("gildong");
    const created = await json(
      await call("/user", { body: { username, password: "123123", full_name: "YunGilDong", email: `${username}@email.com` } }),
      200,
    );
    expect(created).toEqual({
      success: true,
      data: {
        username,
        full_name: "YunGilDong",
        email: `${username}@email.com`,
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      },
    });

    const session = await json(await call("/login", { body: { username, password: "123123" } }), 200);
    expect(Object.keys(session).sort()).toEqual([
      "access_token",
      "access_token_expires_at",
      "refresh_token",
      "refresh_token_expires_at",
      "session_id",
      "user",
    ]);
    expect(session.access_token_expires_at).toMatch(RFC3339);
    expect(session.refresh_token_expires_at).toMatch(RFC3339);
    expect(session.user).toEqual({
      username,
      email: `${username}@email.com`,
      password_changed_at: expect.stringMatching(RFC3339_SECONDS_UTC),
      created_at: expect.stringMatching(RFC3339_SECONDS_UTC),
    });

    // The renewed access token works; the refresh token is not rotated, so it renews again.
    const renewed = await json(await call("/token/renew_access", { body: { refresh_token: session.refresh_token } }), 200);
    expect(Object.keys(renewed).sort()).toEqual(["access_token", "access_token_expires_at"]);
    await json(await call("/api/v1/me", { token: renewed.access_token }), 200);
    await json(await call("/token/renew_access", { body: { refresh_token: session.refresh_token } }), 200);

    expect(await json(await call("/logout", { body: { refresh_token: session.refresh_token } }), 200)).toEqual({
      success: true,
      data: "logged out successfully",
    });
    const after = await json(await call("/token/renew_access", { body: { refresh_token: session.refresh_token } }), 401);
    expect(after).toEqual({ success: false, message: expect.any(String) });
    await json(await call("/api/v1/me", { token: renewed.access_token }), 401);
  });

  it("answers bad input in the error envelope with 400", async () => {
    expect(await json(await call("/login", { body: { username: "only" } }), 400)).toEqual({
      success: false,
      message: expect.stringContaining("password"),
    });
    expect(await json(await call("/user", { method: "POST", rawBody: "{", headers: { "content-type": "application/json" } }), 400)).toEqual(
      { success: false, message: expect.stringMatching(/Malformed/) },
    );
    expect(await json(await call("/login", { body: { username: unique(), password: "wrongwrong" } }), 401)).toEqual({
      success: false,
      message: expect.any(String),
    });
  });

  it("POST /user with an admin's credentials adds the user to the admin's organization", async () => {
    const owner = await newOwner();
    const username = unique("added");
    await json(
      await call("/user", {
        token: owner.token,
        body: { username, password: "123123", full_name: "Added", email: `${username}@email.com` },
      }),
      200,
    );
    const users = await json(await call("/api/v1/users", { token: owner.token }), 200);
    expect(users.users.find((u: { username: string }) => u.username === username)).toMatchObject({
      role: "member",
      organization_id: owner.organizationId,
    });
  });
});

describe("seed 003: DevFlow Pro", () => {
  it("POST /api/login returns a personal token usable as Bearer, listed as an API key; GET /api/user", async () => {
    const owner = await newOwner();
    const res = await json(await call("/api/login", { body: { email: owner.email, password: owner.password } }), 200);
    expect(res.token).toMatch(/^pier_/);
    expect(res.user).toMatchObject({ id: owner.userId, email: owner.email });
    const me = await json(await call("/api/user", { token: res.token }), 200);
    expect(me).toEqual({
      id: owner.userId,
      name: "owner",
      email: owner.email,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
    });
    const keys = await json(await call("/api/v1/api-keys", { token: owner.token }), 200);
    expect(keys.api_keys.some((k: { prefix: string }) => res.token.startsWith(k.prefix))).toBe(true);
  });

  it("POST /api/login gives one expiring token per device: signing in again rotates it", async () => {
    const owner = await newOwner();
    const signIn = async (device_name?: string) =>
      (await json(await call("/api/login", { body: { email: owner.email, password: owner.password, device_name } }), 200)).token as string;
    const first = await signIn();
    await json(await call("/api/user", { token: first }), 200);
    const second = await signIn();
    // The device's previous token stops working at once; the new one works.
    await json(await call("/api/user", { token: first }), 401);
    await json(await call("/api/user", { token: second }), 200);
    const laptop = await signIn("laptop");
    await json(await call("/api/user", { token: second }), 200);
    await json(await call("/api/user", { token: laptop }), 200);

    const keys = (await json(await call(`/api/v1/api-keys?user_id=${owner.userId}`, { token: owner.token }), 200)).api_keys as Array<{
      name: string;
      prefix: string;
      created_at: string;
      expires_at: string | null;
      last_used_at: string | null;
      revoked_at: string | null;
    }>;
    const live = keys.filter((k) => !k.revoked_at);
    expect(live.map((k) => k.name).sort()).toEqual(["DevFlow token: default device", "DevFlow token: laptop"]);
    expect(keys).toHaveLength(3);
    for (const k of live) {
      // 30 days by default (PIER_DEVFLOW_TOKEN_TTL_DAYS).
      const days = (Date.parse(k.expires_at!) - Date.parse(k.created_at)) / 86_400_000;
      expect(days).toBeCloseTo(30, 3);
      expect(k.last_used_at).toEqual(expect.any(String));
    }
    expect(await json(await call("/api/login", { body: { email: owner.email, password: owner.password, device_name: "" } }), 422)).toEqual({
      message: "The given data was invalid.",
      errors: { device_name: [expect.any(String)] },
    });
  });

  it("answers in Laravel's shapes: 401 Unauthenticated, 422 with per-field errors", async () => {
    expect(await json(await call("/api/user"), 401)).toEqual({ message: "Unauthenticated." });
    expect(await json(await call("/api/login", { body: { email: "" } }), 422)).toEqual({
      message: "The given data was invalid.",
      errors: { email: [expect.any(String)], password: [expect.any(String)] },
    });
  });
});

describe("seed 004: server manager v2 sessions", () => {
  it("checks and refreshes a session and shows the current user in the {success, data, message} envelope", async () => {
    const owner = await newOwner();
    for (const path of ["/api/session/check", "/session/check"]) {
      const check = await json(await call(path, { token: owner.token }), 200);
      expect(check).toMatchObject({
        success: true,
        data: { authenticated: true, session_id: owner.sessionId, user: { id: owner.userId } },
        message: expect.any(String),
      });
    }
    const current = await json(await call("/api/current-user", { token: owner.token }), 200);
    expect(current).toMatchObject({ success: true, data: { id: owner.userId, username: owner.username }, message: expect.any(String) });
    const profile = await json(await call("/api/profile", { token: owner.token }), 200);
    expect(profile.data.email).toBe(owner.email);
    const refreshed = await json(await call("/api/session/refresh", { body: { refresh_token: owner.refreshToken } }), 200);
    expect(refreshed).toMatchObject({ success: true, data: { access_token: expect.any(String), refresh_token: expect.any(String) } });
    const unauth = await json(await call("/api/session/check"), 401);
    expect(unauth).toEqual({ success: false, error: expect.any(String), details: {} });
  });
});
