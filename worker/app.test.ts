import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp, MAX_BODY_BYTES } from "./app.ts";
import { call, expectProblem, json, newOwner, randomIp } from "./testing.ts";

const fakeCtx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;

describe("API conventions", () => {
  it("answers malformed JSON with 400", async () => {
    await expectProblem(
      await call("/api/v1/auth/login", { method: "POST", rawBody: "{not json", headers: { "content-type": "application/json" } }),
      400,
      /Malformed JSON/,
    );
  });

  it("answers a non-JSON body with 415 and says what to send", async () => {
    await expectProblem(
      await call("/api/v1/auth/login", {
        method: "POST",
        rawBody: "login=a&password=b",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      /application\/json/,
    );
  });

  it("answers an oversized body with 413 before reading it", async () => {
    const big = JSON.stringify({ login: "x".repeat(MAX_BODY_BYTES), password: "y" });
    await expectProblem(
      await call("/api/v1/auth/login", { method: "POST", rawBody: big, headers: { "content-type": "application/json" } }),
      413,
    );
  });

  it("gives every response a request id, echoing a well-formed incoming one", async () => {
    const res = await call("/healthz", { headers: { "x-request-id": "trace-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-123");
    const generated = await call("/api/v1/nowhere");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    await expectProblem(generated, 404, /No route/);
  });

  it("reports health with the database state", async () => {
    expect(await json(await call("/healthz"), 200)).toEqual({ status: "ok", version: env.PIER_VERSION, db: "ok" });
  });

  it("answers /livez without the database: the floor the benchmark measures against", async () => {
    const res = await createApp().request("/livez", {}, { ...env, LIBSQL_URL: "http://127.0.0.1:9" }, fakeCtx);
    expect(res.status).toBe(204);
  });

  it("answers 503 from /healthz when the database is unreachable", async () => {
    const res = await createApp().request("/healthz", {}, { ...env, LIBSQL_URL: "http://127.0.0.1:9" }, fakeCtx);
    expect(await json(res, 503)).toMatchObject({ status: "degraded", db: "unreachable" });
  });

  it("answers CORS preflights for the configured origins", async () => {
    const res = await call("/api/v1/me", {
      method: "OPTIONS",
      headers: {
        origin: "https://dash.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const restricted = await createApp().request(
      "/healthz",
      { headers: { origin: "https://evil.example" } },
      { ...env, PIER_CORS_ORIGINS: "https://dash.example" },
      fakeCtx,
    );
    expect(restricted.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves an OpenAPI 3.1 document covering the canonical routes, and Swagger UI", async () => {
    const doc = await json(await call("/openapi.json"), 200);
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/auth/register",
      "/api/v1/auth/login",
      "/api/v1/auth/refresh",
      "/api/v1/auth/logout",
      "/api/v1/me",
      "/api/v1/me/password",
      "/api/v1/users",
      "/api/v1/users/{id}",
      "/api/v1/api-keys",
      "/api/v1/api-keys/{id}",
      "/api/v1/audit-events",
      "/healthz",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.components.securitySchemes).toHaveProperty("bearer");
    const ui = await call("/swagger");
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("/openapi.json");
  });
});

describe("rate limiting", () => {
  it("counts per credential, sets the headers, and answers 429 with Retry-After over the limit", async () => {
    const owner = await newOwner();
    const limit = Number(env.PIER_RATE_LIMIT_PER_MINUTE);
    let last: Response | undefined;
    const remaining: number[] = [];
    // The session has already made one request (GET /me is not among them): spend the rest.
    for (let i = 0; i < limit + 1; i++) {
      last = await call("/api/v1/me", { token: owner.token });
      expect(last.headers.get("x-ratelimit-limit")).toBe(String(limit));
      remaining.push(Number(last.headers.get("x-ratelimit-remaining")));
      if (last.status === 429) break;
      await last.body?.cancel();
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(last!, 429, /Rate limit/);
    expect(remaining.at(-1)).toBe(0);
    expect(remaining.slice(0, -1)).toEqual([...remaining.slice(0, -1)].sort((a, b) => b - a));
    // Another credential is unaffected.
    const other = await newOwner();
    expect((await call("/api/v1/me", { token: other.token })).status).toBe(200);
  });

  it("believes only CF-Connecting-IP for the client address: X-Real-IP and X-Forwarded-For make no new bucket", async () => {
    const ip = randomIp();
    const remaining: number[] = [];
    for (const spoofed of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      const res = await call("/api/v1/nothing-here", { ip, headers: { "x-real-ip": spoofed, "x-forwarded-for": spoofed } });
      expect(res.status).toBe(404);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
    }
    const limit = Number(env.PIER_RATE_LIMIT_PER_MINUTE);
    expect(remaining).toEqual([limit - 1, limit - 2, limit - 3]);
  });

  it("limits unauthenticated requests per client address", async () => {
    // (Sign-in guessing has its own, stricter throttle per account and address: login-throttle.test.ts.)
    const ip = randomIp();
    const limit = Number(env.PIER_RATE_LIMIT_PER_MINUTE);
    let status = 0;
    for (let i = 0; i <= limit && status !== 429; i++) {
      const res = await call("/api/v1/auth/refresh", { ip, body: { refresh_token: "not-a-token" } });
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(429);
    expect((await call("/api/v1/auth/refresh", { ip: randomIp(), body: { refresh_token: "not-a-token" } })).status).toBe(401);
  });
});
