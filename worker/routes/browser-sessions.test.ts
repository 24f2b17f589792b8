// Browser sessions (issue 11.2): the dashboard signs in with a cookie, never holds a token, and
// the API accepts that cookie only from the dashboard's origin, with a CSRF token on mutations.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { call, expectProblem, json, newOwner, randomIp, unique, type TestAccount } from "../testing.ts";

const ORIGIN = "http://pier.test";

interface Cookie {
  name: string;
  value: string;
  attributes: Map<string, string | true>;
}

function parseSetCookie(res: Response): Map<string, Cookie> {
  const cookies = new Map<string, Cookie>();
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(";").map((s) => s.trim());
    const eq = pair!.indexOf("=");
    const attributes = new Map<string, string | true>();
    for (const a of attrs) {
      const i = a.indexOf("=");
      attributes.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? true : a.slice(i + 1));
    }
    cookies.set(pair!.slice(0, eq), { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes });
  }
  return cookies;
}

interface Browser {
  session: string;
  csrf: string;
  body: any;
  res: Response;
}

async function browserLogin(account: TestAccount, origin = ORIGIN, ip = randomIp()): Promise<Browser> {
  const res = await SELF.fetch(`${origin}/api/v1/auth/browser/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin, "cf-connecting-ip": ip },
    body: JSON.stringify({ login: account.username, password: account.password }),
  });
  const body = await json(res.clone(), 200);
  const cookies = parseSetCookie(res);
  return { session: cookies.get("pier_session")!.value, csrf: cookies.get("pier_csrf")!.value, body, res };
}

/** A request as the dashboard's page makes it: cookies, and for fetch() calls Origin / Sec-Fetch-Site. */
function fromBrowser(
  b: Pick<Browser, "session" | "csrf">,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; csrf?: string | null } = {},
): Promise<Response> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = {
    cookie: `pier_session=${b.session}; pier_csrf=${b.csrf}`,
    "cf-connecting-ip": randomIp(),
    ...(method === "GET" ? { "sec-fetch-site": "same-origin" } : { origin: ORIGIN }),
    ...init.headers,
  };
  const csrf = init.csrf === undefined ? b.csrf : init.csrf;
  if (csrf !== null && method !== "GET") headers["x-csrf-token"] = csrf;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return SELF.fetch(`${ORIGIN}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

describe("browser sign-in", () => {
  it("sets an HttpOnly Secure SameSite=Lax session cookie and a readable CSRF cookie, and returns no token", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    expect(b.body).toEqual({
      user: expect.objectContaining({ id: owner.userId, username: owner.username, role: "owner" }),
      organization: { id: owner.organizationId, name: expect.any(String) },
      csrf_token: b.csrf,
    });
    expect(JSON.stringify(b.body)).not.toContain(b.session);
    const cookies = parseSetCookie(b.res);
    const session = cookies.get("pier_session")!.attributes;
    expect(session.get("httponly")).toBe(true);
    expect(session.get("secure")).toBe(true);
    expect(session.get("samesite")).toBe("Lax");
    expect(session.get("path")).toBe("/");
    expect(Date.parse(session.get("expires") as string)).toBeGreaterThan(Date.now() + 24 * 3600_000);
    const csrf = cookies.get("pier_csrf")!.attributes;
    expect(csrf.has("httponly")).toBe(false);
    expect(csrf.get("secure")).toBe(true);
    expect(csrf.get("samesite")).toBe("Lax");
    expect(csrf.get("path")).toBe("/");
  });

  it("leaves Secure off on localhost and 127.0.0.1, which npm start serves over http", async () => {
    const owner = await newOwner();
    for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787"]) {
      const b = await browserLogin(owner, origin);
      const cookies = parseSetCookie(b.res);
      expect(cookies.get("pier_session")!.attributes.has("secure")).toBe(false);
      expect(cookies.get("pier_session")!.attributes.get("httponly")).toBe(true);
      expect(cookies.get("pier_csrf")!.attributes.has("secure")).toBe(false);
    }
  });

  it("answers bad credentials with the same 401 as /auth/login, and refuses a sign-in posted from another origin", async () => {
    const owner = await newOwner();
    const res = await call("/api/v1/auth/browser/login", { body: { login: owner.username, password: "not-the-password" } });
    const problem = await expectProblem(res, 401, /Invalid username\/email or password/);
    expect(res.headers.getSetCookie()).toEqual([]);
    const direct = await expectProblem(await call("/api/v1/auth/login", { body: { login: owner.username, password: "nope-nope" } }), 401);
    expect(direct.detail).toBe(problem.detail);
    const foreign = await call("/api/v1/auth/browser/login", {
      body: { login: owner.username, password: owner.password },
      headers: { origin: "https://evil.example" },
    });
    await expectProblem(foreign, 403, /own origin/);
    expect(foreign.headers.getSetCookie()).toEqual([]);
    await expectProblem(await call("/api/v1/auth/browser/login", { body: { login: owner.username } }), 422);
  });

  it("throttles failed browser sign-ins together with /auth/login", async () => {
    const owner = await newOwner();
    for (let i = 0; i < 3; i++) {
      await expectProblem(await call("/api/v1/auth/browser/login", { body: { login: owner.username, password: "wrong-one" } }), 401);
    }
    for (let i = 0; i < 2; i++) {
      await expectProblem(await call("/api/v1/auth/login", { body: { login: owner.username, password: "wrong-one" } }), 401);
    }
    // Locked after five failures across both paths: even the right password waits.
    const locked = await call("/api/v1/auth/browser/login", { body: { login: owner.username, password: owner.password } });
    await expectProblem(locked, 429, /Too many failed sign-in attempts/);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(await call("/api/v1/auth/login", { body: { login: owner.username, password: owner.password } }), 429);
    await expect
      .poll(async () => (await call("/api/v1/auth/browser/login", { body: { login: owner.username, password: owner.password } })).status, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(200);
  });
});

describe("cookie-authenticated requests", () => {
  it("accept GETs from the dashboard's pages: same-origin fetch, Origin of ours, or neither header", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    expect(await json(await fromBrowser(b, "/api/v1/me"), 200)).toMatchObject({ id: owner.userId });
    expect(await json(await fromBrowser(b, "/api/v1/me", { headers: { origin: ORIGIN } }), 200)).toMatchObject({ id: owner.userId });
    const bare = await SELF.fetch(`${ORIGIN}/api/v1/me`, { headers: { cookie: `pier_session=${b.session}` } });
    expect(await json(bare, 200)).toMatchObject({ id: owner.userId });
    // Counted in the session's own bucket, with a dashboard's budget (see below).
    expect(bare.headers.get("x-ratelimit-limit")).toBe(String(Number(env.PIER_RATE_LIMIT_PER_MINUTE) * 10));
  });

  it("refuse a request from another origin, or a cross-site one without Origin", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    await expectProblem(await fromBrowser(b, "/api/v1/me", { headers: { origin: "https://evil.example" } }), 403, /own origin/);
    await expectProblem(await fromBrowser(b, "/api/v1/me", { headers: { "sec-fetch-site": "cross-site" } }), 403, /same-origin/);
    await expectProblem(await fromBrowser(b, "/api/v1/me", { headers: { "sec-fetch-site": "same-site" } }), 403, /same-origin/);
    // Even with the right CSRF token: a page elsewhere that somehow knew it is still not the dashboard.
    const res = await fromBrowser(b, "/api/v1/api-keys", { body: { name: "k" }, headers: { origin: "http://pier.test.evil.example" } });
    await expectProblem(res, 403, /own origin/);
  });

  it("need the session's CSRF token to change anything", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    const create = (csrf: string | null) => fromBrowser(b, "/api/v1/api-keys", { body: { name: unique("k") }, csrf });
    await expectProblem(await create(null), 403, /missing or wrong CSRF token/i);
    await expectProblem(await create("not-the-token"), 403, /missing or wrong CSRF token/i);
    // Another session's token, even echoed in a matching cookie, is not this session's.
    const other = await browserLogin(owner);
    await expectProblem(
      await fromBrowser({ session: b.session, csrf: other.csrf }, "/api/v1/api-keys", { body: { name: "k" } }),
      403,
      /CSRF/,
    );
    const key = await json(await create(b.csrf), 201);
    expect(key.key).toMatch(/^pier_/);
    // The page's own token matches the cookie's; a header that differs from the cookie fails too.
    await expectProblem(
      await fromBrowser(b, "/api/v1/api-keys", { body: { name: "k" }, headers: { cookie: `pier_session=${b.session}; pier_csrf=x` } }),
      403,
      /CSRF/,
    );
    await json(await fromBrowser(b, `/api/v1/api-keys/${key.id}`, { method: "DELETE" }), 204);
  });

  it("open event streams with the cookie alone, as EventSource sends it", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    const res = await fromBrowser(b, "/api/v1/events", { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await res.body?.cancel();
  });

  it("leave bearer tokens and API keys as they were: no CSRF token, any origin, and they win over a cookie", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    const key = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: unique("k") } }), 201);
    const viaKey = await call("/api/v1/projects", {
      apiKey: key.key,
      body: { name: unique("p") },
      headers: { origin: "https://ci.example" },
    });
    expect(viaKey.status).toBe(201);
    const viaBearerWithCookie = await call("/api/v1/projects", {
      token: owner.token,
      body: { name: unique("p") },
      headers: { cookie: `pier_session=${b.session}`, origin: "https://ci.example" },
    });
    expect(viaBearerWithCookie.status).toBe(201);
  });

  it("have a dashboard's budget: more requests a minute than a script's credential gets", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    const scripts = Number(env.PIER_RATE_LIMIT_PER_MINUTE);
    // One open page polls stats every 2 s besides its queries: the bearer budget would run out.
    for (let i = 0; i <= scripts; i++) {
      const res = await fromBrowser(b, "/api/v1/me");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe(String(scripts * 10));
      await res.body?.cancel();
    }
  });

  it("are not accepted outside the canonical API", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    // seed 002's Dokploy-style surface authenticates by its own header only.
    const res = await fromBrowser(b, "/api/project.all");
    expect(res.status).toBe(401);
  });
});

describe("browser sign-out and revocation", () => {
  it("ends the session at once: the old cookie no longer works on the next request", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    await json(await fromBrowser(b, "/api/v1/me"), 200); // the principal is now cached
    await expectProblem(await fromBrowser(b, "/api/v1/auth/browser/logout", { method: "POST", csrf: null }), 403, /CSRF/);
    const out = await fromBrowser(b, "/api/v1/auth/browser/logout", { method: "POST" });
    expect(out.status).toBe(204);
    const cleared = parseSetCookie(out);
    for (const name of ["pier_session", "pier_csrf"]) {
      expect(cleared.get(name)!.value).toBe("");
      expect(cleared.get(name)!.attributes.get("max-age")).toBe("0");
    }
    const after = await fromBrowser(b, "/api/v1/me");
    await expectProblem(after, 401, /ended/);
    // A dead cookie is cleared, and signing in again works whatever the browser still sends.
    expect(parseSetCookie(after).get("pier_session")!.value).toBe("");
    const again = await SELF.fetch(`${ORIGIN}/api/v1/auth/browser/login`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `pier_session=${b.session}`, origin: ORIGIN },
      body: JSON.stringify({ login: owner.username, password: owner.password }),
    });
    expect(again.status).toBe(200);
    // Signing out with a dead cookie just clears it.
    expect((await fromBrowser(b, "/api/v1/auth/browser/logout", { method: "POST" })).status).toBe(204);
  });

  it("ends cookie sessions when the password changes, like every other session", async () => {
    const owner = await newOwner();
    const b = await browserLogin(owner);
    await json(await fromBrowser(b, "/api/v1/me"), 200);
    await json(
      await call("/api/v1/me/password", { token: owner.token, body: { current_password: owner.password, new_password: `pw-${unique()}` } }),
      204,
    );
    await expectProblem(await fromBrowser(b, "/api/v1/me"), 401);
  });

  it("answers a forged or garbage cookie with 401 on protected routes and leaves public ones working", async () => {
    const forged = { session: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA", csrf: "x" };
    await expectProblem(await fromBrowser(forged, "/api/v1/me"), 401, /browser token/);
    // An access token is not a browser cookie.
    const owner = await newOwner();
    await expectProblem(await fromBrowser({ session: owner.token, csrf: "x" }, "/api/v1/me"), 401, /browser token/);
    expect((await fromBrowser(forged, "/healthz")).status).toBe(200);
  });

  it("extends a session past half its lifetime with a fresh cookie", async () => {
    const owner = await newOwner();
    // A short lifetime on the Worker's own app: the second half starts after one second.
    const app = createApp();
    const shortLived = { ...env, REFRESH_TOKEN_TTL_SECONDS: "2" };
    const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
    const send = (path: string, init: RequestInit) => app.request(`${ORIGIN}${path}`, init, shortLived, ctx);
    const login = await send("/api/v1/auth/browser/login", {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": randomIp() },
      body: JSON.stringify({ login: owner.username, password: owner.password }),
    });
    const first = parseSetCookie(login).get("pier_session")!.value;
    const firstExpiry = Date.parse(parseSetCookie(login).get("pier_session")!.attributes.get("expires") as string);
    const me = (cookie: string) => send("/api/v1/me", { headers: { cookie: `pier_session=${cookie}`, "cf-connecting-ip": randomIp() } });
    let renewed: Cookie | undefined;
    await expect
      .poll(
        async () => {
          const res = await me(first);
          expect(res.status).toBe(200);
          renewed = parseSetCookie(res).get("pier_session");
          return renewed !== undefined;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
    expect(renewed!.value).not.toBe(first);
    expect(renewed!.attributes.get("httponly")).toBe(true);
    expect(Date.parse(renewed!.attributes.get("expires") as string)).toBeGreaterThan(firstExpiry);
    expect(await json(await me(renewed!.value), 200)).toMatchObject({ id: owner.userId });
  });
});
