// The dashboard's first run against a fresh `npm start`, the way the browser does it: the setup
// state, the owner, a cookie sign-in, and the one click that attaches this machine — npm start then
// runs the bundled agent for that host, keeps it running, and stops it with itself.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { STACK_START_TIMEOUT_MS, startStack, type Stack } from "../setup/stack.ts";
import { api, docker, dockerAvailable, waitFor } from "./client.ts";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids npm start reported for the local agent, in order. */
const agentPids = (stack: Stack): number[] =>
  [...stack.output().matchAll(/local agent started for host \S+ \(pid (\d+)/g)].map((m) => Number(m[1]));

describe.skipIf(!dockerAvailable())("npm start's one-click local host", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, STACK_START_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    for (const pid of agentPids(stack ?? ({ output: () => "" } as Stack))) if (alive(pid)) process.kill(pid, "SIGKILL");
    await stack?.stop();
  });

  it("serves the dashboard at / to browsers, with its assets, while API clients get what they always got", async () => {
    const page = await fetch(`${stack.url}/`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    // The page's script comes from wrangler's [assets] layer, through npm start's edge proxy.
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${stack.url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    await js.body?.cancel();
    const json = await fetch(`${stack.url}/`, { headers: { accept: "application/json" } });
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toMatch(/problem\+json/);
    await json.body?.cancel();
    const swagger = await fetch(`${stack.url}/swagger-ui/swagger-ui-bundle.js`);
    expect(swagger.status).toBe(200);
    await swagger.body?.cancel();
  });

  it("goes from an empty Pier to an online local host through the browser's API, and supervises its agent", async () => {
    const url = stack.url;
    expect((await api("/api/v1/setup", { url })).body).toEqual({
      needs_owner: true,
      registration_open: true,
      local_host: { available: true, host_id: null },
    });
    const account = { username: "founder", email: "founder@example.test", password: "a-long-password" };
    expect((await api("/api/v1/auth/register", { url, body: account })).status).toBe(201);
    expect((await api("/api/v1/setup", { url })).body).toMatchObject({ needs_owner: false, registration_open: false });

    // Signed in as the dashboard is, through npm start's edge proxy and wrangler dev.
    const login = await fetch(`${url}/api/v1/auth/browser/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: url },
      body: JSON.stringify({ login: account.username, password: account.password }),
    });
    expect(login.status).toBe(200);
    const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
    const session = /pier_session=([^;]+)/.exec(login.headers.getSetCookie().join("\n"))![1];
    // npm start serves http on 127.0.0.1: no Secure flag, or the browser would drop the cookie.
    expect(login.headers.getSetCookie().join("\n")).not.toMatch(/Secure/i);
    const cookie = `pier_session=${session}; pier_csrf=${csrf}`;
    const browser = { cookie, origin: url, "x-csrf-token": csrf };

    // Another origin is refused, even with the cookie and token.
    const foreign = await api("/api/v1/setup/local-host", { url, method: "POST", headers: { ...browser, origin: "http://evil.example" } });
    expect(foreign.status).toBe(403);

    const attached = await api("/api/v1/setup/local-host", { url, method: "POST", headers: browser });
    expect(attached.status, JSON.stringify(attached.body)).toBe(201);
    const host = attached.body.host as { id: string; name: string };
    expect(host.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    expect((await api("/api/v1/setup", { url })).body.local_host).toEqual({ available: true, host_id: host.id });

    const hostState = async () =>
      (await api(`/api/v1/hosts/${host.id}`, { url, headers: { cookie, "sec-fetch-site": "same-origin" } })).body;
    const online = await waitFor("the local host to come online", async () => {
      const h = await hostState();
      return h.status === "online" ? h : undefined;
    });
    // The engine npm start's own agent reached: the one the `docker` CLI talks to.
    expect(online.engine_version).toBe(await docker("version", "--format", "{{.Server.Version}}"));

    // Attaching twice is a conflict: one local host per npm start.
    const again = await api("/api/v1/setup/local-host", { url, method: "POST", headers: browser });
    expect(again.status).toBe(409);

    // An agent that dies is started again, and the host comes back online.
    const [first] = agentPids(stack);
    expect(first).toBeGreaterThan(0);
    process.kill(first!, "SIGKILL");
    await waitFor("npm start to restart the local agent", async () => agentPids(stack).length >= 2 || undefined);
    const second = agentPids(stack)[1]!;
    expect(second).not.toBe(first);
    await waitFor("the local host to be online again with the new agent", async () => {
      const h = await hostState();
      return h.status === "online" && h.connected_at !== online.connected_at ? h : undefined;
    });

    // Deleting the host stops its agent (its token is revoked) and npm start forgets it; the
    // dashboard's button comes back, and attaching again runs a new agent.
    const deleted = await api(`/api/v1/hosts/${host.id}`, { url, method: "DELETE", headers: browser });
    expect(deleted.status).toBe(204);
    await waitFor("npm start to stop the deleted host's agent", async () => !alive(second) || undefined);
    expect((await api("/api/v1/setup", { url })).body.local_host).toEqual({ available: true, host_id: null });
    const reattached = await api("/api/v1/setup/local-host", { url, method: "POST", headers: browser });
    expect(reattached.status, JSON.stringify(reattached.body)).toBe(201);
    const third = await waitFor("npm start to run the new host's agent", async () => agentPids(stack)[2]);

    // Stopping npm start stops its agent.
    await stack.stop();
    await waitFor("the local agent to stop with npm start", async () => !alive(third) || undefined);
  });
});
