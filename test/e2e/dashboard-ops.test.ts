// The dashboard's operations screens in a real browser (Debian's chromium, driven by
// playwright-core) against the shared e2e stack, a real agent and the real Docker engine: an alert
// rule created on the page fires from the agent's real metrics and is acknowledged there; a
// webhook channel created and tested against the local receiver, its delivery followed in the
// log; a registry added against the local Registry V2 fixture (its refusal of a wrong password
// shown first); and a viewer who is shown none of these mutating controls.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRegistry, startRegistry } from "../fixtures/registry.ts";
import { api, dockerAvailable, type NewHost, newOwner, onlineHost, type Owner, pierUrl, type TestAgent, unique } from "./client.ts";
import { hasChromium, launchBrowser, signedInPage } from "./browser.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000 });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard's operations screens", () => {
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  let registry: LocalRegistry;
  let receiver: Receiver;
  const credentials = { username: "deployer", password: `a-long-registry-token-${unique("t")}` };
  const pageErrors: string[] = [];

  const signIn = (login: string, password: string): Promise<Page> => signedInPage(browser, login, password, { pageErrors });

  beforeAll(async () => {
    owner = await newOwner();
    ({ host, agent } = await onlineHost(owner, { agent: { metricsIntervalMs: 1000, metricsFlushMs: 1000 } }));
    registry = await startRegistry({ images: [], auth: credentials });
    receiver = await startReceiver();
    browser = await launchBrowser();
    page = await signIn(owner.username, owner.password);
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.agent.stop();
    await registry?.close();
    await receiver?.close();
  });

  it("an alert rule created on the page fires, shows though the live stream was down as it fired, and is acknowledged there", async () => {
    // The layout's notification stream is down (as a network change drops it, and the browser
    // connects again seconds later) until the alert has fired: its alert.opened reaches nobody,
    // and the page learns of it when the stream is back.
    let down = true;
    await page.context().route("**/api/v1/notifications/stream", (route) => (down ? route.abort("failed") : route.continue()));
    await page.goto(`${pierUrl()}/alerts`);
    await page.getByRole("button", { name: "New rule" }).click();
    await page.getByLabel("Metric").selectOption("memory");
    await page.getByLabel("Hosts").selectOption(host.id);
    await page.getByLabel("Threshold (%)").fill("0.01");
    await page.getByLabel("For (seconds)").fill("0");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.locator('[data-testid="alert-rule"][data-metric="memory"]').waitFor();
    const firing = async () => (await api(`/api/v1/alerts?host_id=${host.id}&state=firing`, { token: owner.token })).body.alerts.length;
    await poll(firing).toBeGreaterThan(0);
    down = false;
    // Live: the stream's reconnection reads the alerts again (before, only the inbox was).
    const alert = page.locator('[data-testid="alert"][data-metric="memory"][data-state="firing"]');
    await alert.first().waitFor({ timeout: 60_000 });
    await page.context().unroute("**/api/v1/notifications/stream");
    await alert.first().getByRole("button", { name: "Acknowledge" }).click();
    await page.getByText("Alert acknowledged").waitFor();
    await page.locator('[data-testid="alert"][data-metric="memory"][data-acknowledged="true"]').first().waitFor();
    const alerts = await api(`/api/v1/alerts?host_id=${host.id}&state=firing`, { token: owner.token });
    const me = await api("/api/v1/me", { token: owner.token });
    expect(alerts.body.alerts[0].acknowledged_by).toBe(me.body.id);
  });

  it("a webhook channel is created, tested, and its delivery shows in its log", async () => {
    await page.getByRole("link", { name: "Channels", exact: true }).click();
    await page.getByRole("button", { name: "Add channel" }).click();
    await page.getByLabel("Kind").selectOption("webhook");
    await page.getByLabel("Name").fill("ops-hook");
    await page.getByLabel("URL").fill(`${receiver.url}/ops-hook`);
    await page.getByLabel("Signing secret").fill("a-signing-secret");
    await page.getByRole("button", { name: "Add channel" }).last().click();
    await page.locator('[data-testid="channel"][data-name="ops-hook"]').waitFor();
    // The secret is answered masked.
    expect(await page.getByText("a-signing-secret").count()).toBe(0);
    await page.getByRole("button", { name: "Send test" }).click();
    const [hit] = await receiver.waitFor("/ops-hook", 1);
    expect(hit!.headers["x-pier-signature"]).toMatch(/^sha256=/);
    await page.locator('[data-testid="delivery"][data-status="succeeded"]').first().waitFor();
  });

  it("a registry is added against a local Registry V2, after its refusal of a wrong password is shown", async () => {
    await page.getByRole("link", { name: "Registries", exact: true }).click();
    await page.getByRole("button", { name: "Add registry" }).click();
    await page.getByLabel("Server").fill(registry.host);
    await page.getByLabel("Username").fill(credentials.username);
    await page.getByLabel("Password or token").fill("wrong-password");
    await page.getByRole("button", { name: "Verify and save" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: `The registry ${registry.host} refused these credentials` })
      .waitFor();
    await page.getByLabel("Password or token").fill(credentials.password);
    await page.getByRole("button", { name: "Verify and save" }).click();
    const row = page.locator(`[data-testid="registry-row"][data-server="${registry.host}"]`);
    await row.waitFor();
    expect(await row.textContent()).not.toContain(credentials.password);
    await poll(async () => (await api("/api/v1/registries", { token: owner.token })).body.registries.length).toBe(1);
  });

  it("shows a viewer none of these mutating controls", async () => {
    const viewer = { username: unique("viewer"), password: "viewer-e2e-password" };
    const created = await api("/api/v1/users", {
      token: owner.token,
      body: { username: viewer.username, email: `${viewer.username}@example.test`, password: viewer.password, role: "viewer" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const p = await signIn(viewer.username, viewer.password);
    await p.getByRole("link", { name: "Alerts", exact: true }).click();
    await p.locator('[data-testid="alert-rule"]').first().waitFor();
    await p.getByRole("tab", { name: "Firing" }).waitFor();
    for (const name of ["New rule", "Edit", "Delete", "Acknowledge", "Resolve"])
      expect(await p.getByRole("button", { name }).count(), name).toBe(0);
    await p.getByRole("link", { name: "Channels", exact: true }).click();
    await p.locator('[data-testid="channel"]').first().waitFor();
    for (const name of ["Add channel", "Send test", "Switch off", "Delete"])
      expect(await p.getByRole("button", { name }).count(), name).toBe(0);
    await p.getByRole("link", { name: "Registries", exact: true }).click();
    await p.locator('[data-testid="registry-row"]').first().waitFor();
    for (const name of ["Add registry", "Remove"]) expect(await p.getByRole("button", { name }).count(), name).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
