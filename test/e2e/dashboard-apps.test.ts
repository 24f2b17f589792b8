// The dashboard's application and channel screens in a real browser (Debian's chromium, driven by
// playwright-core) against the shared e2e stack, a real agent and the real Docker engine: the
// environment editor (masked, revealed by an admin, bulk paste, the diff, save and redeploy),
// domains with the API's field errors shown inline, the push webhook (URL, masked secret,
// rotation, deliveries linked to the deployment they started), a channel edited with its secret
// left masked, its latest failure shown, and a viewer who gets no control and the API's refusal.
import { createHmac } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchBrowser, signedInPage } from "./browser.ts";
import {
  api,
  attachAgent,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  pierUrl,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
  waitForStatus,
} from "./client.ts";
import { cleanupOwner, githubDelivery, githubPush, gitRepo, post, type TestRepo } from "./deploy-helpers.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000 });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard's application and channel screens", () => {
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  let agent: TestAgent;
  let repo: TestRepo;
  let receiver: Receiver;
  let app: { id: string; project_id: string; app_name: string; webhook_url: string; webhook_secret: string };
  const viewer = { username: unique("viewer"), password: "viewer-e2e-password" };
  const pageErrors: string[] = [];

  async function signIn(login: string, password: string): Promise<Page> {
    const p = await signedInPage(browser, login, password, { pageErrors });
    // Removing and rotating ask for confirmation first.
    p.on("dialog", (d) => void d.accept());
    return p;
  }

  const revealed = async () =>
    (await api(`/api/v1/applications/${app.id}/environment?reveal=true`, { token: owner.token })).body.environment as Record<
      string,
      string
    >;

  beforeAll(async () => {
    owner = await newOwner("dash-apps");
    const host = await newHost(owner);
    agent = attachAgent(host.agent_token);
    receiver = await startReceiver();
    repo = await gitRepo("main");
    await repo.commit({ "public/index.html": "dashboard apps\n" }, "First page");
    const project = await api("/api/v1/projects", { token: owner.token, body: { name: unique("dash-apps") } });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    const created = await api("/api/v1/applications", {
      token: owner.token,
      body: {
        project_id: project.body.id,
        name: "site",
        app_name: unique("dash-site"),
        git_url: repo.url,
        git_branch: "main",
        build_type: "static",
        publish_dir: "public",
        static_image: TEST_IMAGE,
        host_id: host.id,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    app = created.body;
    const env = await api(`/api/v1/applications/${app.id}/environment`, {
      token: owner.token,
      method: "PUT",
      body: { environment: { SECRET_TOKEN: "first-secret-value", KEEP: "1", DROP: "x" } },
    });
    expect(env.status, JSON.stringify(env.body)).toBe(200);
    const user = await api("/api/v1/users", {
      token: owner.token,
      body: { username: viewer.username, email: `${viewer.username}@example.test`, password: viewer.password, role: "viewer" },
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    await waitForStatus(owner, host.id, "online");
    browser = await launchBrowser();
    page = await signIn(owner.username, owner.password);
  });

  afterAll(async () => {
    await browser?.close();
    if (app) await api(`/api/v1/projects/${app.project_id}?force=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    if (app) await cleanupOwner("dev.pier.app", app.id, app.app_name).catch(() => undefined);
    await agent?.agent.stop();
    await receiver?.close();
    await repo?.remove();
  });

  it("edits the environment: masked, revealed by the owner, pasted, reviewed as a diff, saved", async () => {
    await page.goto(`${pierUrl()}/applications/${app.id}?tab=environment`);
    const secretRow = page.locator('[data-testid="env-var"][data-key="SECRET_TOKEN"]');
    await secretRow.waitFor();
    expect(await secretRow.textContent()).toContain("********");
    expect(await page.getByText("first-secret-value").count()).toBe(0);
    await page.getByText("Changes take effect at the next deployment.").waitFor();

    await page.getByRole("button", { name: "Reveal values" }).click();
    await secretRow.getByText("first-secret-value").waitFor();

    await page.getByRole("button", { name: "Edit" }).click();
    await page
      .getByLabel("Paste KEY=VALUE lines")
      .fill("# from .env\nNEW_ONE=hello world\nexport SECRET_TOKEN='rotated-secret'\nnot a pair");
    await page.getByRole("button", { name: "Add pasted lines" }).click();
    await page.getByRole("alert").filter({ hasText: "Not KEY=VALUE, left out: not a pair" }).waitFor();
    await page.getByRole("button", { name: "Remove DROP" }).click();
    await page.getByRole("button", { name: "Review changes" }).click();
    const diff = page.getByTestId("env-diff");
    await diff.waitFor();
    expect(await diff.locator("[data-change=added]").allTextContents()).toEqual(["+ NEW_ONE (added)"]);
    expect(await diff.locator("[data-change=changed]").allTextContents()).toEqual(["~ SECRET_TOKEN (changed)"]);
    expect(await diff.locator("[data-change=removed]").allTextContents()).toEqual(["− DROP (removed)"]);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Environment saved: it applies at the next deployment").waitFor();
    await poll(revealed).toEqual({ SECRET_TOKEN: "rotated-secret", KEEP: "1", NEW_ONE: "hello world" });
    // Saved, the values are masked again.
    await page.locator('[data-testid="env-var"][data-key="NEW_ONE"]').waitFor();
    expect(await page.getByText("rotated-secret").count()).toBe(0);

    // "Save and redeploy" saves, queues a deployment and shows it.
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("button", { name: "Add variable" }).click();
    const rows = page.getByTestId("env-row");
    const last = (await rows.count()) - 1;
    await rows
      .nth(last)
      .getByLabel(`Name ${last + 1}`)
      .fill("ADDED_IN_ROW");
    await rows
      .nth(last)
      .getByLabel(`Value ${last + 1}`)
      .fill("v");
    await page.getByRole("button", { name: "Review changes" }).click();
    await page.getByRole("button", { name: "Save and redeploy" }).click();
    await page.getByText("Environment saved; deployment queued").waitFor();
    await poll(async () => (await api(`/api/v1/applications/${app.id}/deployments`, { token: owner.token })).body.deployments.length).toBe(
      1,
    );
    const [queued] = (await api(`/api/v1/applications/${app.id}/deployments`, { token: owner.token })).body.deployments;
    await page.locator(`[data-testid="deployment"][data-id="${queued.id}"][data-active="true"]`).waitFor();
    expect((await revealed()).ADDED_IN_ROW).toBe("v");
  });

  it("adds a domain after showing the API's field error beside the field, and removes it", async () => {
    await page.goto(`${pierUrl()}/applications/${app.id}?tab=domains`);
    await page.getByText("No domain").waitFor();
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByLabel("Host name").fill("bad_name.example.test");
    await page.getByRole("button", { name: "Add domain" }).last().click();
    const invalid = await api(`/api/v1/applications/${app.id}/domains`, { token: owner.token, body: { host: "bad_name.example.test" } });
    expect(invalid.status).toBe(422);
    const detail = invalid.body.errors.find((e: { pointer: string }) => e.pointer === "/body/host").detail as string;
    await page.getByRole("alert").filter({ hasText: detail }).waitFor();

    const host = `${unique("shop")}.example.test`;
    await page.getByLabel("Host name").fill(host);
    await page.getByLabel("Container port").fill("8080");
    await page.getByRole("button", { name: "Add domain" }).last().click();
    const row = page.locator(`[data-testid="domain"][data-host="${host}"]`);
    await row.getByRole("link", { name: `https://${host}` }).waitFor();
    await poll(async () => (await api(`/api/v1/applications/${app.id}/domains`, { token: owner.token })).body.domains.length).toBe(1);

    await row.getByRole("button", { name: "Remove" }).click();
    await row.waitFor({ state: "detached" });
    await poll(async () => (await api(`/api/v1/applications/${app.id}/domains`, { token: owner.token })).body.domains.length).toBe(0);
  });

  it("shows the webhook URL and masked secret, logs deliveries linked to their deployment, and rotates the secret", async () => {
    await page.goto(`${pierUrl()}/applications/${app.id}?tab=webhook`);
    expect(await page.getByTestId("webhook-url").textContent()).toBe(app.webhook_url);
    expect(await page.getByTestId("webhook-secret").textContent()).not.toContain(app.webhook_secret);
    await page.getByRole("button", { name: "Show" }).click();
    expect(await page.getByTestId("webhook-secret").textContent()).toBe(app.webhook_secret);

    const sha = await repo.commit({ "public/index.html": "from a push\n" }, "Push from the dashboard test");
    const pushed = await post(app.webhook_url, githubDelivery(app.webhook_secret, githubPush("main", sha, "Push", repo.url)));
    expect(pushed.status, JSON.stringify(pushed.body)).toBeLessThan(300);
    // Acknowledged before its deployment is queued: the deployment's id appears in its record.
    const pushedRecord = await waitFor("the push's deployment", async () => {
      const list = (await api(`/api/v1/applications/${app.id}/webhook-deliveries`, { token: owner.token })).body.deliveries as any[];
      return list.find((d) => d.id === pushed.body.delivery && d.deployment_id);
    });
    const pushedDeployment = pushedRecord.deployment_id as string;
    expect(pushedDeployment).toMatch(/^dpl_/);
    const ignored = await post(app.webhook_url, githubDelivery(app.webhook_secret, githubPush("other", sha, "Elsewhere", repo.url)));
    expect(ignored.body.outcome).toBe("ignored");

    await page.reload();
    const deployedRow = page.locator(`[data-testid="webhook-delivery"][data-outcome="${pushedRecord.outcome}"][data-provider="github"]`);
    await deployedRow.waitFor();
    await page.locator('[data-testid="webhook-delivery"][data-outcome="ignored"]').waitFor();
    await deployedRow.getByRole("link", { name: sha.slice(0, 7) }).click();
    await page.locator(`[data-testid="deployment"][data-id="${pushedDeployment}"][data-active="true"]`).waitFor();
    expect(new URL(page.url()).searchParams.get("deployment")).toBe(pushedDeployment);

    await page.getByRole("tab", { name: "Webhook" }).click();
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByText("New secret: update it at your Git provider").waitFor();
    const after = (await api(`/api/v1/applications/${app.id}`, { token: owner.token })).body.webhook_secret as string;
    expect(after).not.toBe(app.webhook_secret);
    await page.getByRole("button", { name: "Show" }).click();
    await poll(async () => page.getByTestId("webhook-secret").textContent()).toBe(after);
  });

  it("edits a channel with its secret left masked, and shows its latest delivery failure", async () => {
    const secret = "a-channel-signing-secret";
    const created = await api("/api/v1/notification-channels", {
      token: owner.token,
      body: { type: "webhook", name: "edit-me", config: { url: `${receiver.url}/before`, secret }, events: ["deployment.failed"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;

    await page.goto(`${pierUrl()}/channels`);
    const card = page.locator("section").filter({ has: page.locator('[data-testid="channel"][data-name="edit-me"]') });
    await card.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("URL").fill(`${receiver.url}/after`);
    await dialog.getByLabel("deployment.failed").uncheck();
    await dialog.getByLabel("host.lost").check();
    await dialog.getByRole("button", { name: "Save channel" }).click();
    await page.getByText("edit-me saved").waitFor();
    await poll(async () => card.getByTestId("channel-events").textContent()).toBe("host.lost");
    expect((await api(`/api/v1/notification-channels/${id}`, { token: owner.token })).body.events).toEqual(["host.lost"]);

    // The secret, left masked, still signs: the test message arrives at the new URL signed with it.
    await card.getByRole("button", { name: "Send test" }).click();
    const [hit] = await receiver.waitFor("/after", 1);
    expect(hit!.headers["x-pier-signature"]).toBe(`sha256=${createHmac("sha256", secret).update(hit!.raw).digest("hex")}`);

    // A receiver that refuses (a 4xx is not retried): the card shows the failure without opening the log.
    receiver.respond("/refusing", 410);
    const patched = await api(`/api/v1/notification-channels/${id}`, {
      token: owner.token,
      method: "PATCH",
      body: { config: { url: `${receiver.url}/refusing` } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await api(`/api/v1/notification-channels/${id}/test`, { token: owner.token, method: "POST" });
    await page.reload();
    const failure = card.getByTestId("channel-last-error");
    await failure.waitFor({ timeout: 60_000 });
    expect(await failure.textContent()).toContain("HTTP 410");
  });

  it("creates a database from the project's page, links the project's applications and databases, and shows what happened in it", async () => {
    // Made as a user makes one: the project's New database dialog (not started: nothing here needs it to run).
    const name = unique("dash-cache");
    await page.goto(`${pierUrl()}/projects/${app.project_id}`);
    await page.getByRole("button", { name: "New database" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Engine").selectOption("redis");
    await dialog.getByLabel("Image").fill(TEST_IMAGE);
    await dialog.getByLabel("Start it now").uncheck();
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByText(`Database ${name} created`).waitFor();
    const dbs = (await api(`/api/v1/databases?project_id=${app.project_id}`, { token: owner.token })).body.databases as Record<
      string,
      string
    >[];
    expect(dbs.find((d) => d.name === name)).toMatchObject({ engine: "redis", image: TEST_IMAGE });
    const db = dbs.find((d) => d.name === name) as { id: string };
    try {
      // The earlier tests' work is in the feed: the environment saved, deployments started.
      const feed = async () =>
        (
          (await api(`/api/v1/projects/${app.project_id}/activity?limit=25`, { token: owner.token })).body.activity as { action: string }[]
        ).map((e) => e.action);
      await poll(feed).toEqual(expect.arrayContaining(["database.create", "application.environment.set", "deployment.create"]));
      const expected = await feed();
      await page.reload();
      const shown = page.getByTestId("activity");
      await poll(async () => shown.evaluateAll((els) => els.map((el) => el.getAttribute("data-action")))).toEqual(expected);
      await page.getByTestId("application-row").getByRole("link", { name: "site" }).waitFor();
      await page.getByTestId("database-row").getByRole("link", { name }).click();
      await page.waitForURL(`${pierUrl()}/databases/${db.id}`);
      // Its page names where it lives: the project and environment, and the host.
      const project = (await api(`/api/v1/projects/${app.project_id}`, { token: owner.token })).body as { name: string };
      await poll(() => page.getByTestId("database-project").textContent()).toBe(project.name);
      await page.getByTestId("database-project").locator("..").getByText("production").waitFor();
      const hosts = (await api("/api/v1/hosts", { token: owner.token })).body.hosts as { name: string }[];
      await poll(() => page.getByTestId("database-host").textContent()).toBe(hosts[0]?.name);
    } finally {
      await api(`/api/v1/databases/${db.id}?purge=true`, { token: owner.token, method: "DELETE" });
      await cleanupOwner("dev.pier.database", db.id);
    }
  });

  it("shows a viewer no control on these screens, and the API refuses the viewer anyway", async () => {
    const p = await signIn(viewer.username, viewer.password);
    await p.goto(`${pierUrl()}/applications/${app.id}?tab=environment`);
    await p.locator('[data-testid="env-var"][data-key="SECRET_TOKEN"]').waitFor();
    await p.getByText("Only admins and owners can see or change the values.").waitFor();
    expect(await p.getByRole("button", { name: "Reveal values" }).count()).toBe(0);
    expect(await p.getByRole("button", { name: "Edit" }).count()).toBe(0);
    expect(await p.getByText("rotated-secret").count()).toBe(0);

    await p.getByRole("tab", { name: "Domains" }).click();
    await p.getByText("No domain").waitFor();
    expect(await p.getByRole("button", { name: "Add domain" }).count()).toBe(0);

    await p.getByRole("tab", { name: "Webhook" }).click();
    await p.getByText("Only admins and owners see the webhook's URL and secret.").waitFor();
    await p.getByTestId("webhook-delivery").first().waitFor();
    expect(await p.getByTestId("webhook-url").count()).toBe(0);

    await p.getByRole("tab", { name: "Deployments" }).click();
    await p.getByTestId("deployment").first().waitFor();
    expect(await p.getByRole("button", { name: "Deploy", exact: true }).count()).toBe(0);

    await p.goto(`${pierUrl()}/channels`);
    await p.locator('[data-testid="channel"][data-name="edit-me"]').waitFor();
    for (const name of ["Add channel", "Edit", "Send test", "Delete"]) expect(await p.getByRole("button", { name }).count(), name).toBe(0);

    // The same session, asking the API directly with its cookie and CSRF token, is refused.
    const refused = await p.evaluate(async (id) => {
      const csrf = decodeURIComponent(document.cookie.match(/(?:^|; )pier_csrf=([^;]+)/)?.[1] ?? "");
      const res = await fetch(`/api/v1/applications/${id}/environment`, {
        method: "PATCH",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ environment: { SNEAKY: "1" } }),
      });
      return res.status;
    }, app.id);
    expect(refused).toBe(403);
    await p.context().close();
  });

  it("shows the API's 403 when an admin demoted mid-edit saves", async () => {
    const admin = { username: unique("admin"), password: "admin-e2e-password" };
    const created = await api("/api/v1/users", {
      token: owner.token,
      body: { username: admin.username, email: `${admin.username}@example.test`, password: admin.password, role: "admin" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const p = await signIn(admin.username, admin.password);
    await p.goto(`${pierUrl()}/applications/${app.id}?tab=environment`);
    await p.getByRole("button", { name: "Edit" }).click();
    await p.getByLabel("Paste KEY=VALUE lines").fill("FROM_DEMOTED=1");
    await p.getByRole("button", { name: "Add pasted lines" }).click();
    const demoted = await api(`/api/v1/users/${created.body.id}`, { token: owner.token, method: "PATCH", body: { role: "viewer" } });
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
    await p.getByRole("button", { name: "Review changes" }).click();
    await p.getByRole("button", { name: "Save", exact: true }).click();
    await p.getByRole("alert").filter({ hasText: "Your role (viewer) cannot set environment variables" }).waitFor();
    expect((await revealed()).FROM_DEMOTED).toBeUndefined();
    await p.context().close();
    expect(pageErrors).toEqual([]);
  });
});
