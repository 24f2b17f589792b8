import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../app.ts";
import { call, expectProblem, json, newOwner, randomIp, type CallOptions, type TestAccount } from "../testing.ts";

// Every compatibility surface answers authentication failures, refusals, 429s and unknown paths
// in its own envelope, even when the shared authentication step (not the surface's router) is
// what refused the request.

const str = expect.any(String);

interface SurfaceCase {
  name: string;
  /** A route of the surface that needs credentials. */
  request: { path: string; method?: string; body?: unknown };
  /** An unknown path under the surface's prefix. */
  unknown: string;
  envelope: (status: number) => unknown;
  /** The status the surface answers for a validation failure, where it differs. */
  statusOf?: (status: number) => number;
}

const SURFACES: SurfaceCase[] = [
  {
    name: "000 Dokploy",
    request: { path: "/api/project.all" },
    unknown: "/api/project.nonexistent",
    envelope: () => ({ message: str, code: str }),
  },
  {
    name: "001 Docker management",
    request: { path: "/ps2/some-host" },
    unknown: "/inspect2/some-host",
    envelope: () => ({ success: false, message: str }),
  },
  {
    name: "002 server manager",
    request: { path: "/api/tasks/tsk_doesnotexist" },
    unknown: "/api/system/nothing-here",
    envelope: () => ({ error: { code: str, message: str, details: {} } }),
  },
  {
    name: "003 DevFlow",
    request: { path: "/api/servers/hst_doesnotexist/metrics" },
    unknown: "/api/servers/1/docker/volumes",
    envelope: (status) => ({ message: status === 401 ? "Unauthenticated." : str }),
  },
  {
    name: "003 DevFlow webhook",
    // With credentials the slug is looked up in the caller's organization: credentials are checked.
    request: { path: "/api/webhooks/deploy/no-such-app", method: "POST" },
    unknown: "/api/webhooks/deploy",
    envelope: (status) => ({ error: str, message: str, status }),
  },
  {
    name: "004 server manager v2",
    request: { path: "/api/session/check" },
    unknown: "/api/firewall/nowhere",
    envelope: () => ({ success: false, error: str, details: {} }),
  },
];

async function expectEnvelope(res: Response, s: SurfaceCase, status: number, detail?: RegExp) {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await json(res, status);
  expect(body).toEqual(s.envelope(status));
  if (detail) expect(JSON.stringify(body)).toMatch(detail);
  return body;
}

const send = (s: SurfaceCase, options: CallOptions) =>
  call(s.request.path, { method: s.request.method ?? "GET", ...(s.request.body ? { body: s.request.body } : {}), ...options });

async function expiredToken(a: TestAccount): Promise<string> {
  return new SignJWT({ org: a.organizationId, role: "owner", sid: a.sessionId, typ: "access" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(a.userId)
    .setIssuer("pier")
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(new TextEncoder().encode(env.JWT_SECRET));
}

async function revokedKey(owner: TestAccount): Promise<string> {
  const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "revoked" } }), 201);
  expect((await call(`/api/v1/api-keys/${created.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
  return created.key;
}

describe("compatibility envelopes", () => {
  it("an expired token, a revoked key, an invalid or missing credential: 401 in each surface's envelope", async () => {
    const owner = await newOwner();
    const expired = await expiredToken(owner);
    const revoked = await revokedKey(owner);
    for (const s of SURFACES) {
      await expectEnvelope(
        await send(s, { token: expired }),
        s,
        401,
        s.name.startsWith("003 DevFlow") && !s.name.includes("webhook") ? /Unauth/ : /expired/,
      );
      await expectEnvelope(await send(s, { apiKey: revoked }), s, 401);
      await expectEnvelope(await send(s, { token: "not-a-jwt" }), s, 401);
      await expectEnvelope(await send(s, { headers: { authorization: "Basic Zm9vOmJhcg==" } }), s, 401);
      // Without credentials the webhook looks for a signature or a token instead.
      if (!s.name.includes("webhook")) await expectEnvelope(await send(s, {}), s, 401);
    }
    // The canonical API keeps its problem documents.
    await expectProblem(await call("/api/v1/me", { token: expired }), 401, /expired/);
    await expectProblem(await call("/api/v1/me", { apiKey: revoked }), 401, /revoked/);
  });

  it("a 429 from the shared limiter is written in each surface's envelope, with Retry-After", async () => {
    const ip = randomIp();
    const limit = Number(env.PIER_RATE_LIMIT_PER_MINUTE);
    let status = 0;
    for (let i = 0; i <= limit && status !== 429; i++) {
      const res = await call("/api/v1/nowhere", { ip });
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(429);
    for (const s of SURFACES) {
      const res = await send(s, { ip });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
      await expectEnvelope(res, s, 429, /[Rr]ate limit/);
    }
  });

  it("an unknown path under a surface's prefix is a 404 in that surface's envelope", async () => {
    const owner = await newOwner();
    for (const s of SURFACES) {
      const res = await call(s.unknown, { token: owner.token, method: s.request.method ?? "GET" });
      await expectEnvelope(res, s, 404, /No route|not/);
    }
    // Dokploy's tools print `message`: a missing resource says what was missing.
    const missing = await json(await call("/api/project.one?projectId=prj_nothing", { token: owner.token }), 404);
    expect(missing).toEqual({ message: expect.stringMatching(/not found/i), code: "NOT_FOUND" });
    await expectProblem(await call("/api/v1/nowhere", { token: owner.token }), 404, /No route/);
  });

  it("an unexpected 500 says what to do in each surface's envelope, and is logged with its stack", async () => {
    const owner = await newOwner();
    const created = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "broken-db" } }), 201);
    // A database that cannot be reached: the credential lookup fails with an error no code expects.
    const brokenEnv = { ...env, LIBSQL_URL: "http://127.0.0.1:9" };
    const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      for (const s of [...SURFACES, undefined]) {
        logged.mockClear();
        const path = s?.request.path ?? "/api/v1/me";
        const requestId = `req-${s ? SURFACES.indexOf(s) : "canonical"}`;
        const res = await createApp().request(
          path,
          {
            method: s?.request.method ?? "GET",
            headers: { "x-api-key": created.key, "x-request-id": requestId, "cf-connecting-ip": randomIp() },
          },
          brokenEnv,
          ctx,
        );
        const body = s ? await expectEnvelope(res, s, 500) : await expectProblem(res, 500);
        expect(JSON.stringify(body)).toContain(`request id ${requestId}`);
        const lines = logged.mock.calls.map((args) => JSON.parse(String(args[0])));
        expect(lines).toContainEqual(
          expect.objectContaining({ level: "error", request_id: requestId, status: 500, stack: expect.stringMatching(/\n\s+at /) }),
        );
      }
    } finally {
      logged.mockRestore();
    }
  });

  it("an oversized body is refused in the surface's envelope", async () => {
    const owner = await newOwner();
    const big = JSON.stringify({ name: "x".repeat(1024 * 1024) });
    const res = await call("/api/project.create", { token: owner.token, rawBody: big, headers: { "content-type": "application/json" } });
    expect(await json(res, 413)).toEqual({ message: expect.stringMatching(/larger than/), code: "PAYLOAD_TOO_LARGE" });
  });
});
