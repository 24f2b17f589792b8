// The first run (issue 11.3): what an empty Pier tells the dashboard, and npm start's one-click
// local host, which exists only where npm start gave the Worker its control (see the e2e test
// test/e2e/local-host.test.ts for the whole flow with a real agent).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { addMember, call, expectProblem, json, newOwner, randomIp } from "../testing.ts";

const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;

describe("GET /api/v1/setup", () => {
  it("asks for an owner on an empty Pier, then says whether anyone else may register", async () => {
    // An empty database of its own, with registration closed as it is by default.
    const app = createApp();
    const closed = { ...env, LIBSQL_URL: env.FIRST_RUN_LIBSQL_URL, PIER_OPEN_REGISTRATION: "false" };
    const setup = async (bindings = closed) =>
      json(await app.request("/api/v1/setup", { headers: { "cf-connecting-ip": randomIp() } }, bindings, ctx), 200);
    expect(await setup()).toEqual({ needs_owner: true, registration_open: true, local_host: { available: false, host_id: null } });
    const register = await app.request(
      "/api/v1/auth/register",
      {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
        body: JSON.stringify({ username: "first", email: "first@example.test", password: "correct horse" }),
      },
      closed,
      ctx,
    );
    expect((await json(register, 201)).role).toBe("owner");
    expect(await setup()).toEqual({ needs_owner: false, registration_open: false, local_host: { available: false, host_id: null } });
    expect(await setup({ ...closed, PIER_OPEN_REGISTRATION: "true" })).toMatchObject({ needs_owner: false, registration_open: true });
  });

  it("is public, and says the local host is available where npm start set its control", async () => {
    await newOwner();
    const state = await json(await call("/api/v1/setup"), 200);
    expect(state).toEqual({ needs_owner: false, registration_open: true, local_host: { available: false, host_id: null } });
    // A control that does not answer: the first-run screen still loads.
    const app = createApp();
    const underNpmStart = { ...env, PIER_LOCAL_AGENT_CONTROL: "http://127.0.0.1:9/not-running" };
    const res = await app.request("/api/v1/setup", { headers: { "cf-connecting-ip": randomIp() } }, underNpmStart, ctx);
    expect(await json(res, 200)).toMatchObject({ local_host: { available: true, host_id: null } });
  });
});

describe("POST /api/v1/setup/local-host", () => {
  it("answers 404 outside npm start, and 401 without credentials", async () => {
    const owner = await newOwner();
    await expectProblem(await call("/api/v1/setup/local-host", { method: "POST", token: owner.token }), 404, /only under `npm start`/);
    await expectProblem(await call("/api/v1/setup/local-host", { method: "POST" }), 401);
    const hosts = await json(await call("/api/v1/hosts", { token: owner.token }), 200);
    expect(hosts.hosts).toEqual([]);
  });

  it("under npm start needs an owner or admin, and leaves no host behind when npm start does not answer", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const app = createApp();
    const underNpmStart = { ...env, PIER_LOCAL_AGENT_CONTROL: "http://127.0.0.1:9/not-running" };
    const attach = (token: string) =>
      app.request(
        "/api/v1/setup/local-host",
        { method: "POST", headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": randomIp() } },
        underNpmStart,
        ctx,
      );
    await expectProblem(await attach(member.token), 403, /admin/);
    await expectProblem(await attach(owner.token), 502, /npm start/);
    const hosts = await json(await call("/api/v1/hosts", { token: owner.token }), 200);
    expect(hosts.hosts).toEqual([]);
  });
});
