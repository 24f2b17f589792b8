// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a fresh
// `npm start` of its own (first run needs an empty Pier), a real agent and the real Docker engine:
// first run and sign-in, a host coming online live, a container started with the docker CLI
// appearing without a reload, following its logs, running a command in its terminal, stopping it from the page, deploying an
// application from a local git repository and watching its build log to success, a failed
// deployment's notification arriving live, the overview's latest deployments leading to their
// build logs, and a viewer
// who is shown no mutating control and whom the API refuses anyway. Assertions are on the page;
// no screenshot is kept.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchBrowser, newContext as browserContext, signIn } from "./browser.ts";
import { STACK_START_TIMEOUT_MS, startStack, type Stack } from "../setup/stack.ts";
import { api, attachAgent, docker, dockerAvailable, TEST_IMAGE, type TestAgent, unique } from "./client.ts";
import { gitRepo, removeProject, type TestRepo } from "./deploy-helpers.ts";

if (!hasChromium)
  process.stderr.write("\n!!! SKIPPING the dashboard browser tests: chromium is not installed (apt-get install -y chromium).\n\n");

const LABEL = "dev.pier.e2e-dashboard";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** The page and the stack need more than expect.poll's default second on a shared machine. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 30_000 });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard in a browser", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agent: TestAgent | undefined;
  let hostId: string;
  let token: string;
  const owner = { username: unique("owner"), password: "dashboard-e2e-password" };
  const pageErrors: string[] = [];
  const offMachine: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  async function newContext(): Promise<{ context: BrowserContext; page: Page }> {
    // The shared context: its navigations ride out Chromium's ERR_NETWORK_CHANGED, which every
    // network and container the suites make on this engine can cause.
    const ctx = await browserContext(browser);
    await ctx.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK.has(url.hostname)) return route.continue();
      offMachine.push(url.href);
      return route.abort("blockedbyclient");
    });
    const p = await ctx.newPage();
    p.on("pageerror", (e) => pageErrors.push(e.message));
    return { context: ctx, page: p };
  }

  const bearer = async (login: string, password: string) =>
    (await api("/api/v1/auth/login", { url: stack.url, body: { login, password } })).body.access_token as string;

  beforeAll(async () => {
    // As the shared e2e stack does (test/setup/e2e-global-setup.ts): one browser session makes
    // more than the default 60 requests a minute while the tests drive it quickly.
    stack = await startStack({ PIER_RATE_LIMIT_PER_MINUTE: "100000" });
    // launch() gives the browser a fresh temporary profile of its own, removed when it closes.
    browser = await launchBrowser();
    ({ context, page } = await newContext());
  }, STACK_START_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    const left = await docker("ps", "-aq", "--filter", `label=${LABEL}`).catch(() => "");
    if (left) await docker("rm", "-f", ...left.split("\n")).catch(() => undefined);
    await agent?.agent.stop();
    await context?.close();
    await browser?.close();
    await stack?.stop();
  });

  it("first run: creates the owner from an empty Pier, then attaches a host that comes online live", async () => {
    await page.goto(stack.url);
    await page.getByRole("heading", { name: "Create the owner" }).waitFor();
    await page.getByLabel("Email").fill(`${owner.username}@example.test`);
    await page.getByLabel("Username").fill(owner.username);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Create owner" }).click();
    await page.getByRole("heading", { name: "Attach your first host" }).waitFor();
    // The session is an HttpOnly cookie; nothing sits in the page's storage.
    const cookies = await context.cookies(stack.url);
    expect(cookies.find((c) => c.name === "pier_session")).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toMatch(/eyJ|pier_/);

    await page.getByLabel("Host name").fill("web-1");
    const presenceStream = page.waitForRequest((r) => /\/api\/v1\/hosts\/[^/]+\/events\?type=host$/.test(r.url()));
    await page.getByRole("button", { name: "Create host and show install commands" }).click();
    const docker = await page.locator("pre").first().textContent();
    const agentToken = /PIER_AGENT_TOKEN=([^\s'"]+)/.exec(docker ?? "")?.[1];
    expect(agentToken, docker ?? "").toBeTruthy();
    await poll(() => page.getByTestId("host-state").textContent()).toMatch(/Waiting for the agent of web-1/);
    // The wait screen's event stream is live (and the host read once after it): from here on, only
    // the stream's `host` frame can tell the page that the agent connected.
    const newHostId = new URL((await presenceStream).url()).pathname.split("/")[4]!;
    await page.locator('[data-testid="host-state"][data-live="true"]').waitFor();
    const hostReads: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === `/api/v1/hosts/${newHostId}`) hostReads.push(r.url());
    });

    agent = attachAgent(agentToken!, { url: stack.url });
    // No reload and no polling: the page hears the host's `host` frame (status online).
    await page.getByText("web-1 is connected.").waitFor();
    expect(hostReads).toEqual([]);
    await page.getByRole("link", { name: "Open the host" }).click();
    hostId = new URL(page.url()).pathname.split("/")[2]!;
    await page.getByTestId("host-status").filter({ hasText: "online" }).waitFor();
    token = await bearer(owner.username, owner.password);
  });

  it("signs out, and signs back in with a wrong then the right password", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Pier" }).waitFor();
    await page.getByLabel("Username or email").fill(owner.username);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.getByRole("alert").textContent()).toMatch(/\S/);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByTestId("overview-host").filter({ hasText: "web-1" }).waitFor();
  });

  it("shows a container started with the docker CLI without a reload, follows its logs, runs a command in its terminal, and stops it from the page", async () => {
    await page.goto(`${stack.url}/docker-hosts/${hostId}`);
    await page.getByRole("tab", { name: "Containers" }).waitFor();
    // The state filter keeps the width it is given beside the name filter, not the page's width.
    expect((await page.getByRole("combobox", { name: "State" }).boundingBox())?.width).toBeLessThan(200);
    const name = unique("dash-logs");
    await docker(
      "run",
      "-d",
      "--label",
      LABEL,
      "--name",
      name,
      TEST_IMAGE,
      "sh",
      "-c",
      // It ends on SIGTERM as a well-behaved service does, so a stop does not wait for docker's kill.
      "trap 'exit 0' TERM; i=0; while true; do echo tick-$i; echo warn-$i >&2; i=$((i+1)); sleep 0.2; done",
    );
    const row = (state?: string) =>
      page.locator(`[data-testid="container-row"][data-name="${name}"]${state ? `[data-state="${state}"]` : ""}`);
    await row("running").waitFor();

    await row().getByRole("link", { name }).click();
    await page.getByTestId("log-status").filter({ hasText: "following" }).waitFor();
    const log = page.getByTestId("log-view");
    await log
      .getByText(/^tick-\d+$/)
      .first()
      .waitFor();
    // Following: later lines arrive while the page stays open.
    const count = async () => Number((await page.getByTestId("log-count").textContent())?.match(/(\d+) of/)?.[1] ?? 0);
    const before = await count();
    await poll(count).toBeGreaterThan(before + 5);
    // Search narrows to one line; stderr lines are told apart.
    await page.getByLabel("Search the log").fill("tick-3");
    await poll(() => log.locator("[data-stream]").allTextContents()).toContain("tick-3");
    await page.getByLabel("Search the log").fill("warn-2");
    await poll(() => log.locator('[data-stream="stderr"]').first().textContent()).toBe("warn-2");

    // A shell in the container, through xterm.js and the terminal WebSocket (opened with a ticket).
    await page.getByRole("tab", { name: "Terminal" }).click();
    await page.getByTestId("terminal-state").filter({ hasText: "open" }).waitFor();
    await page.getByTestId("terminal").click();
    await page.keyboard.type("echo pier-$((6*7))");
    await page.keyboard.press("Enter");
    await page.getByTestId("terminal").getByText("pier-42").first().waitFor();

    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByTestId("container-state").filter({ hasText: "exited" }).waitFor();
    expect(await docker("inspect", "-f", "{{.State.Status}}", name)).toBe("exited");

    // The host's table saw it too, from the event stream.
    await page.goto(`${stack.url}/docker-hosts/${hostId}`);
    await row("exited").waitFor();
    await docker("start", name);
    await row("running").waitFor();
    await row().getByRole("button", { name: "Stop" }).click();
    await page
      .getByTestId("toast")
      .filter({ hasText: `${name}: stop done` })
      .waitFor();
    await row("exited").waitFor();
  });

  it("removing a tag of an image that has others says it untags, then removes the image with its last tag", async () => {
    // An image of this test's own (a commit makes a new id), so no other image is touched.
    const repo = unique("dash-untag");
    const source = unique("dash-untag-src");
    await docker("create", "--label", LABEL, "--name", source, TEST_IMAGE, "true");
    await docker("commit", source, `${repo}:one`);
    await docker("tag", `${repo}:one`, `${repo}:two`);
    await docker("rm", source);
    cleanups.push(() => docker("rmi", "-f", `${repo}:one`, `${repo}:two`));
    const id = await docker("image", "inspect", "-f", "{{.Id}}", `${repo}:one`);
    const dialogs: string[] = [];
    const accept = (d: import("playwright-core").Dialog) => {
      dialogs.push(d.message());
      void d.accept();
    };
    page.on("dialog", accept);
    try {
      await page.goto(`${stack.url}/docker-hosts/${hostId}?tab=images`);
      const image = page.locator('[data-testid="image-row"]').filter({ hasText: `${repo}:` });
      await poll(() => image.count()).toBe(1);
      const [first, other] = (await image.locator("td").first().textContent())!.split(", ");
      await image.getByRole("button", { name: "Remove" }).click();
      await page
        .getByTestId("toast")
        .filter({ hasText: `Untagged ${first}` })
        .waitFor();
      expect(dialogs.at(-1)).toBe(`Remove the tag ${first}? The image stays, with its 1 other tag.`);
      expect(await docker("image", "inspect", "-f", "{{.Id}}", other!)).toBe(id);
      await poll(() => image.locator("td").first().textContent()).toBe(other);
      await image.getByRole("button", { name: "Remove" }).click();
      await page
        .getByTestId("toast")
        .filter({ hasText: `Removed ${other}` })
        .waitFor();
      expect(dialogs.at(-1)).toBe(`Remove image ${other}?`);
      await poll(() => image.count()).toBe(0);
    } finally {
      page.off("dialog", accept);
    }
  });

  it("removes dangling images from the Images tab and keeps tagged ones no container uses", async () => {
    // Two images of this test's own under one tag: the second commit takes the tag, the first is
    // left dangling. (The browser files run alone, so no build elsewhere is between its steps.)
    const repo = unique("dash-prune");
    const source = unique("dash-prune-src");
    await docker("create", "--label", LABEL, "--name", source, TEST_IMAGE, "true");
    await docker("commit", "--change", "LABEL pier.test=dangling", source, `${repo}:latest`);
    const dangling = await docker("image", "inspect", "-f", "{{.Id}}", `${repo}:latest`);
    await docker("commit", source, `${repo}:latest`);
    await docker("rm", source);
    cleanups.push(() => docker("rmi", "-f", `${repo}:latest`, dangling).catch(() => undefined));
    expect(await docker("image", "inspect", "-f", "{{.RepoTags}}", dangling)).toBe("[]");

    await page.goto(`${stack.url}/docker-hosts/${hostId}?tab=images`);
    await page
      .locator('[data-testid="image-row"]')
      .filter({ hasText: `${repo}:latest` })
      .waitFor();
    await page.getByRole("button", { name: "Remove unused images" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove unused images" });
    expect(await dialog.getByRole("radio", { name: /Dangling images only/ }).isChecked()).toBe(true);
    await dialog.getByRole("button", { name: "Remove", exact: true }).click();
    await page
      .getByTestId("toast")
      .filter({ hasText: /Total reclaimed space/ })
      .waitFor();
    await expect(docker("image", "inspect", dangling)).rejects.toThrow(/No such image/);
    expect(await docker("image", "inspect", "-f", "{{.RepoTags}}", `${repo}:latest`)).toBe(`[${repo}:latest]`);
    await poll(() => dialog.count()).toBe(0);
  });

  it("creates a network on the host's Networks tab (the API's complaint about a bad subnet shown first) and removes it after asking", async () => {
    const name = unique("dash-net");
    cleanups.push(() => docker("network", "rm", name).catch(() => undefined));
    const dialogs: string[] = [];
    const accept = (d: import("playwright-core").Dialog) => {
      dialogs.push(d.message());
      void d.accept();
    };
    page.on("dialog", accept);
    try {
      await page.goto(`${stack.url}/docker-hosts/${hostId}?tab=networks`);
      await page.getByLabel("New network name").fill(name);
      await page.getByLabel("Subnet (optional)").fill("10.1.2.3");
      await page.getByRole("button", { name: "Create network" }).click();
      await page.getByTestId("toast").filter({ hasText: "must be a CIDR block such as 172.30.0.0/16" }).waitFor();
      await page.getByLabel("Subnet (optional)").fill("");
      await page.getByRole("button", { name: "Create network" }).click();
      await page
        .getByTestId("toast")
        .filter({ hasText: `Created network ${name}` })
        .waitFor();
      const row = page.getByRole("row").filter({ hasText: name });
      await row.waitFor();
      expect(await docker("network", "inspect", "-f", '{{index .Labels "dev.pier.managed"}}', name)).toBe("true");
      await row.getByRole("button", { name: "Remove" }).click();
      await poll(() => row.count()).toBe(0);
      expect(dialogs.at(-1)).toBe(`Remove network ${name}?`);
    } finally {
      page.off("dialog", accept);
    }
  });

  describe("applications", () => {
    let repo: TestRepo;
    let appId: string;

    beforeAll(async () => {
      repo = await gitRepo();
      cleanups.push(() => repo.remove());
      await repo.commit(
        {
          Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo dashboard-build-step\nRUN mkdir -p /www && echo hi > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
        },
        "first version",
      );
      const project = await api("/api/v1/projects", { url: stack.url, token, body: { name: "dashboard-e2e" } });
      expect(project.status, JSON.stringify(project.body)).toBe(201);
      const app = await api("/api/v1/applications", {
        url: stack.url,
        token,
        body: {
          project_id: project.body.id,
          name: "site",
          app_name: unique("dash-site"),
          git_url: repo.url,
          git_branch: "main",
          build_type: "dockerfile",
          host_id: hostId,
        },
      });
      expect(app.status, JSON.stringify(app.body)).toBe(201);
      appId = app.body.id;
      cleanups.push(() => removeProject({ url: stack.url, token }, project.body.id, [app.body]));
    });

    it("deploys from the page and shows the build log live, to success", async () => {
      await page.goto(`${stack.url}/applications/${appId}`);
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await page.getByText("Deployment queued").waitFor();
      await page.getByTestId("log-view").getByText("dashboard-build-step").first().waitFor({ timeout: 90_000 });
      await page.getByTestId("deployment-log-status").filter({ hasText: "finished: succeeded" }).waitFor({ timeout: 90_000 });
      await poll(() => page.getByTestId("deployment").first().getAttribute("data-status")).toBe("succeeded");
      await page.getByTestId("application-status").filter({ hasText: "running" }).waitFor();
    });

    it("shows a failing deployment's notification live, without a reload", async () => {
      await repo.commit({ Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo about-to-fail && exit 3\n` }, "broken build");
      const unread = async () =>
        Number((await page.getByTestId("unread-count").count()) ? await page.getByTestId("unread-count").textContent() : 0);
      const before = await unread();
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await page.getByTestId("deployment-log-status").filter({ hasText: "finished: failed" }).waitFor({ timeout: 90_000 });
      await poll(unread).toBeGreaterThan(before);
      await page.getByRole("link", { name: /^Notifications/ }).click();
      await page.locator('[data-testid="notification"][data-kind="deployment.failed"][data-read="false"]').first().waitFor();
    });

    it("links each of the overview's latest deployments, named by its application, to that deployment's build log", async () => {
      await page.goto(stack.url);
      const latest = page.getByTestId("overview-deployment").first();
      await poll(() => latest.textContent()).toMatch(/^site Manual deployment/);
      await latest.getByRole("link").click();
      await page.waitForURL((u) => u.pathname === `/applications/${appId}` && u.searchParams.get("tab") === "deployments");
      const shown = new URL(page.url()).searchParams.get("deployment");
      expect(shown).toMatch(/^dpl_/);
      await poll(() => page.locator('[data-testid="deployment"][data-active="true"]').getAttribute("data-id")).toBe(shown);
      await page.getByTestId("deployment-log-status").filter({ hasText: "finished: failed" }).waitFor();

      // The Tasks screen leads there too, by the application's name.
      await page.goto(`${stack.url}/tasks`);
      await page.locator('[data-testid="task-row"][data-kind="deployment"]').first().getByRole("link", { name: "site" }).click();
      await page.waitForURL((u) => u.pathname === `/applications/${appId}` && u.searchParams.get("deployment") === shown);
    });
  });

  it("shows a viewer no mutating control, and the API refuses the viewer anyway", async () => {
    const viewer = { username: unique("viewer"), password: "viewer-e2e-password" };
    const created = await api("/api/v1/users", {
      url: stack.url,
      token,
      body: { username: viewer.username, email: `${viewer.username}@example.test`, password: viewer.password, role: "viewer" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { context: ctx, page: p } = await newContext();
    cleanups.push(() => ctx.close());
    await signIn(p, viewer.username, viewer.password, stack.url);
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    await p.getByTestId("whoami").filter({ hasText: "viewer" }).waitFor();

    await p.goto(`${stack.url}/docker-hosts/${hostId}`);
    await p.locator('[data-testid="container-row"]').first().waitFor();
    for (const name of ["Stop", "Start", "Restart", "Remove"])
      expect(await p.getByRole("button", { name, exact: true }).count(), name).toBe(0);
    await p.getByRole("tab", { name: "Images" }).click();
    await p.locator('[data-testid="image-row"]').first().waitFor();
    expect(await p.getByRole("button", { name: "Pull" }).count()).toBe(0);
    expect(await p.getByRole("button", { name: "Remove" }).count()).toBe(0);
    await p.goto(`${stack.url}/docker-hosts`);
    await p.locator('[data-testid="host-row"]').first().waitFor();
    expect(await p.getByRole("button", { name: "Add host" }).count()).toBe(0);

    // The API says no to the viewer's own session, CSRF token and all.
    const refused = await p.evaluate(async (id) => {
      const csrf = document.cookie.match(/(?:^|; )pier_csrf=([^;]+)/)?.[1] ?? "";
      const res = await fetch(`/api/v1/hosts/${id}/images/pull`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
        body: JSON.stringify({ image: "busybox:latest" }),
      });
      return { status: res.status, body: await res.json() };
    }, hostId);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/role|permission|viewer|member/i);
  });

  it("loaded nothing from off the machine and threw no page error", () => {
    expect(offMachine).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
