import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "../testing.ts";
import { isDashboardNavigation } from "./dashboard.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("the dashboard's pages", () => {
  it("answers a browser navigation to its paths with the single-page app", async () => {
    for (const path of [
      "/",
      "/signin",
      "/setup",
      "/docker-hosts",
      "/docker-hosts/hst_1/containers/abc",
      "/projects/p1",
      "/notifications",
      "/settings",
      "/alerts",
      "/databases/db_1",
      "/channels",
      "/registries",
      "/backups",
      "/servers",
      "/servers/srv_1",
      "/access",
    ]) {
      const res = await call(path, { headers: { accept: HTML } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(/text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const body = await res.text();
      expect(body).toContain('<div id="root">');
      expect(body).toMatch(/src="\/ui\/assets\/index-[\w-]+\.js"/);
    }
  });

  // The assets layer answers files before the Worker runs (the e2e browser tests load them through
  // it); here the binding is asked directly.
  it("has the scripts the page names in its assets, and Swagger UI's still", async () => {
    const page = await (await call("/", { headers: { accept: HTML } })).text();
    const script = /src="(\/ui\/assets\/index-[\w-]+\.js)"/.exec(page)![1]!;
    const js = await env.ASSETS.fetch(`http://pier.test${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect((await env.ASSETS.fetch("http://pier.test/swagger-ui/swagger-ui-bundle.js")).status).toBe(200);
    const swagger = await call("/swagger");
    expect(await swagger.text()).toContain("/swagger-ui/pier-init.js");
  });

  it("leaves API and compat clients with what they got before", async () => {
    // A JSON client at the root: the canonical 404, not HTML.
    const root = await call("/", { headers: { accept: "application/json" } });
    expect(root.status).toBe(404);
    expect(root.headers.get("content-type")).toMatch(/problem\+json/);
    // Seed 001 owns /hosts and /login at the root, whatever the Accept header says.
    const hosts = await call("/hosts", { headers: { accept: HTML } });
    expect(hosts.headers.get("content-type")).not.toMatch(/text\/html/);
    const api = await call("/api/v1/hosts", { headers: { accept: HTML } });
    expect(api.status).toBe(401);
    // Mutations never get the page.
    const post = await call("/projects", { method: "POST", headers: { accept: HTML }, body: {} });
    expect(post.headers.get("content-type")).not.toMatch(/text\/html/);
  });

  it("claims no path of a compat surface", () => {
    for (const path of [
      "/hosts",
      "/login",
      "/logout",
      "/events",
      "/user",
      "/start2",
      "/ps2/x",
      "/api/projects/p/docker",
      "/session",
      "/swagger",
    ]) {
      expect(isDashboardNavigation("GET", path, HTML), path).toBe(false);
    }
    expect(isDashboardNavigation("GET", "/docker-hosts", "application/json")).toBe(false);
  });
});
