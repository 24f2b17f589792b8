import { env } from "cloudflare:test";
import { SignJWT, base64url } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { call, expectProblem, json, login, newOwner, unique } from "../testing.ts";

describe("registration", () => {
  it("makes each self-registered user the owner of a new organization when registration is open", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    expect(a.organizationId).toMatch(/^org_/);
    expect(b.organizationId).not.toBe(a.organizationId);
    const me = await json(await call("/api/v1/me", { token: a.token }), 200);
    expect(me).toMatchObject({ id: a.userId, username: a.username, email: a.email, role: "owner", organization_id: a.organizationId });
    expect(me).not.toHaveProperty("password_hash");
  });

  it("lets only the first user register when registration is closed", async () => {
    // A fresh, empty database and closed registration: the Worker's own app with other bindings.
    const app = createApp();
    const closed = { ...env, LIBSQL_URL: env.FRESH_LIBSQL_URL, PIER_OPEN_REGISTRATION: "false" };
    const register = (username: string) =>
      app.request(
        "/api/v1/auth/register",
        {
          method: "POST",
          headers: { "content-type": "application/json", "cf-connecting-ip": "10.9.9.9" },
          body: JSON.stringify({ username, email: `${username}@example.test`, password: "correct horse" }),
        },
        closed,
        { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext,
      );
    const first = await register("founder");
    const body = await json(first, 201);
    expect(body.role).toBe("owner");
    const second = await register("latecomer");
    await expectProblem(second, 403, /Registration is closed/);
  });

  it("rejects a duplicate username or email with 409, case-insensitively", async () => {
    const a = await newOwner("dup");
    const sameName = await call("/api/v1/auth/register", {
      body: { username: a.username.toUpperCase(), email: `${unique()}@example.test`, password: "password1" },
    });
    await expectProblem(sameName, 409, /username/);
    const sameEmail = await call("/api/v1/auth/register", {
      body: { username: unique(), email: a.email.toUpperCase(), password: "password1" },
    });
    await expectProblem(sameEmail, 409, /email/);
  });

  it("answers missing and wrong-typed fields with 422 and a pointer per field", async () => {
    const res = await call("/api/v1/auth/register", { body: { username: 5, password: "short" } });
    const problem = await expectProblem(res, 422);
    const pointers = problem.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(["/body/email", "/body/password", "/body/username"]);
  });
});

describe("login", () => {
  it("returns the session shape with tokens, expiries and the user", async () => {
    const a = await newOwner();
    const s = await login(a.email.toUpperCase(), a.password);
    expect(s).toMatchObject({
      access_token: expect.stringMatching(/^ey/),
      refresh_token: expect.stringMatching(/^ey/),
      session_id: expect.any(String),
      user: { id: a.userId, username: a.username },
    });
    expect(Date.parse((s as any).access_token_expires_at)).toBeGreaterThan(Date.now());
    expect(Date.parse((s as any).refresh_token_expires_at)).toBeGreaterThan(Date.parse((s as any).access_token_expires_at));
  });

  it("gives an unknown user and a wrong password the same 401", async () => {
    const a = await newOwner();
    const wrong = await expectProblem(await call("/api/v1/auth/login", { body: { login: a.username, password: "not-the-password" } }), 401);
    const unknown = await expectProblem(await call("/api/v1/auth/login", { body: { login: unique("ghost"), password: "whatever1" } }), 401);
    expect(wrong.detail).toBe(unknown.detail);
  });

  it("records logins and failed logins in the audit log", async () => {
    const a = await newOwner();
    await call("/api/v1/auth/login", { body: { login: a.username, password: "nope-nope" } });
    // A failure's record is written after the answer (an unknown user's failure writes none, and
    // the two must take the same time).
    const auditLog = async () => json(await call("/api/v1/audit-events", { token: a.token }), 200);
    await expect
      .poll(async () => (await auditLog()).audit_events.map((e: { action: string }) => e.action))
      .toEqual(expect.arrayContaining(["user.register", "auth.login", "auth.login_failed"]));
    expect(JSON.stringify(await auditLog())).not.toContain(a.password);
  });
});

describe("refresh tokens", () => {
  it("rotate: the new pair works and the old refresh token cannot be used again", async () => {
    const a = await newOwner();
    const rotated = await json(await call("/api/v1/auth/refresh", { body: { refresh_token: a.refreshToken } }), 200);
    expect(rotated.refresh_token).not.toBe(a.refreshToken);
    expect(rotated.session_id).toBe(a.sessionId);
    await json(await call("/api/v1/me", { token: rotated.access_token }), 200);
  });

  it("revoke the whole session when an already-used refresh token is presented", async () => {
    const a = await newOwner();
    const rotated = await json(await call("/api/v1/auth/refresh", { body: { refresh_token: a.refreshToken } }), 200);
    await expectProblem(await call("/api/v1/auth/refresh", { body: { refresh_token: a.refreshToken } }), 401, /already used/);
    // The thief's replay also kills the legitimate holder's newer tokens.
    await expectProblem(await call("/api/v1/auth/refresh", { body: { refresh_token: rotated.refresh_token } }), 401, /ended/);
    await expectProblem(await call("/api/v1/me", { token: rotated.access_token }), 401);
  });

  it("are refused after logout", async () => {
    const a = await newOwner();
    expect((await call("/api/v1/auth/logout", { method: "POST", token: a.token })).status).toBe(204);
    await expectProblem(await call("/api/v1/me", { token: a.token }), 401, /ended/);
    await expectProblem(await call("/api/v1/auth/refresh", { body: { refresh_token: a.refreshToken } }), 401);
  });

  it("cannot stand in for an access token, nor the other way round", async () => {
    const a = await newOwner();
    await expectProblem(await call("/api/v1/me", { token: a.refreshToken }), 401);
    await expectProblem(await call("/api/v1/auth/refresh", { body: { refresh_token: a.token } }), 401);
  });
});

describe("access tokens", () => {
  const secret = new TextEncoder().encode(env.JWT_SECRET);

  it("rejects an expired token", async () => {
    const a = await newOwner();
    const expired = await new SignJWT({ org: a.organizationId, role: "owner", sid: a.sessionId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(a.userId)
      .setIssuer("pier")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(secret);
    await expectProblem(await call("/api/v1/me", { token: expired }), 401, /expired/);
  });

  it("rejects a token signed with another key", async () => {
    const a = await newOwner();
    const forged = await new SignJWT({ org: a.organizationId, role: "owner", sid: a.sessionId, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(a.userId)
      .setIssuer("pier")
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("an-attacker-chosen-secret-of-enough-length!!"));
    await expectProblem(await call("/api/v1/me", { token: forged }), 401, /invalid/);
  });

  it("rejects an unsigned alg:none token", async () => {
    const a = await newOwner();
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(
      JSON.stringify({
        sub: a.userId,
        org: a.organizationId,
        role: "owner",
        sid: a.sessionId,
        typ: "access",
        iss: "pier",
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    );
    await expectProblem(await call("/api/v1/me", { token: `${header}.${payload}.` }), 401);
  });

  it("rejects a malformed Authorization header and a missing credential", async () => {
    await expectProblem(await call("/api/v1/me", { headers: { authorization: "Basic Zm9vOmJhcg==" } }), 401, /Bearer/);
    const res = await call("/api/v1/me");
    await expectProblem(res, 401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });
});

describe("password change", () => {
  it("requires the current password and ends the other sessions, not this one", async () => {
    const a = await newOwner();
    const other = await login(a.username, a.password);
    await expectProblem(
      await call("/api/v1/me/password", { token: a.token, body: { current_password: "wrong-one", new_password: "brand-new-pass" } }),
      401,
    );
    expect(
      (await call("/api/v1/me/password", { token: a.token, body: { current_password: a.password, new_password: "brand-new-pass" } }))
        .status,
    ).toBe(204);
    await json(await call("/api/v1/me", { token: a.token }), 200);
    await expectProblem(await call("/api/v1/me", { token: other.access_token }), 401);
    await expectProblem(await call("/api/v1/auth/login", { body: { login: a.username, password: a.password } }), 401);
    await login(a.username, "brand-new-pass");
  });
});
