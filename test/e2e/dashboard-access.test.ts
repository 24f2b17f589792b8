// The dashboard's Access screen in a real browser (Debian's chromium, driven by playwright-core)
// against the shared e2e stack: an owner limits a member to one project and grants them
// manage_firewall on the page, and the member's dashboard then lists that project only; the vault
// (store, reveal, delete, as the API then says); and a viewer, who is shown no mutating control.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, api, newOwner, type Owner, unique } from "./client.ts";
import { hasChromium, launchBrowser, signedInPage } from "./browser.ts";

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000 });

describe.skipIf(!hasChromium)("the dashboard's Access screen", () => {
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  const member = { name: unique("acc-member"), id: "" };
  const viewer = unique("acc-viewer");
  const projects = { mine: unique("acc-mine"), theirs: unique("acc-theirs") };
  const pageErrors: string[] = [];

  const signIn = (login: string, password: string): Promise<Page> => signedInPage(browser, login, password, { pageErrors });

  beforeAll(async () => {
    owner = await newOwner("acc-owner");
    const token = await addUser(owner, "member", member.name);
    member.id = (await api("/api/v1/me", { token })).body.id;
    await addUser(owner, "viewer", viewer);
    for (const name of Object.values(projects)) {
      const res = await api("/api/v1/projects", { token: owner.token, body: { name } });
      expect(res.status).toBe(201);
    }
    browser = await launchBrowser();
    page = await signIn(owner.username, owner.password);
    page.on("dialog", (d) => void d.accept());
  });

  afterAll(async () => {
    await browser?.close();
    expect(pageErrors).toEqual([]);
  });

  it("an owner limits a member to one project and grants manage_firewall; the member's dashboard shows that project only", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Access", exact: true }).click();
    await page.locator(`[data-testid="access-row"][data-name="${member.name}"]`).waitFor();
    await page.getByRole("button", { name: `Edit access of ${member.name}` }).click();
    const form = page.getByTestId("access-form");
    await form.getByRole("checkbox", { name: /^manage_firewall/ }).check();
    await form.getByRole("radio", { name: /Only the projects/ }).check();
    await form.getByRole("checkbox", { name: projects.mine, exact: true }).check();
    await form.getByRole("button", { name: "Save access" }).click();
    await page.getByText(`Access of ${member.name} saved`).waitFor();
    const row = page.locator(`[data-testid="access-row"][data-name="${member.name}"]`);
    await row.getByText("manage_firewall").waitFor();
    await row.getByText(projects.mine).waitFor();

    // What the API now holds, as the page said.
    const access = await api(`/api/v1/users/${member.id}/permissions`, { token: owner.token });
    expect(access.body.granted).toEqual(["manage_firewall"]);
    expect(access.body.project_ids).toHaveLength(1);

    const memberPage = await signIn(member.name, "member-password");
    await memberPage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects", exact: true }).click();
    await memberPage.getByRole("link", { name: projects.mine, exact: true }).waitFor();
    expect(await memberPage.getByRole("link", { name: projects.theirs, exact: true }).count()).toBe(0);
    // A scoped member cannot create projects: the page does not offer it.
    expect(await memberPage.getByRole("button", { name: "New project" }).count()).toBe(0);
    await memberPage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Access", exact: true }).click();
    await poll(() => memberPage.getByTestId("my-access").textContent()).toContain("manage_firewall");
    expect(await memberPage.getByTestId("my-access").textContent()).toContain(projects.mine);
    // Without admin_access they edit no one, and the organization's IAM is refused with the API's words.
    expect(await memberPage.getByRole("button", { name: /^Edit access/ }).count()).toBe(0);
    await poll(() => memberPage.locator('[data-state="forbidden"]').textContent()).toMatch(/admin/);
    await memberPage.context().close();
  });

  it("the vault: a secret is stored, revealed (audited) and deleted; values are never listed", async () => {
    const key = `E2E_${unique("k").replace(/[^A-Za-z0-9]/g, "_")}`;
    await page.getByRole("tab", { name: "Vault" }).click();
    await page.getByLabel("Key").fill(key);
    await page.getByLabel("Value").fill("s3cret-value");
    await page.getByRole("button", { name: "Store secret" }).click();
    const row = page.locator(`[data-testid="secret-row"][data-name="${key}"]`);
    await row.waitFor();
    await row.getByText(`\${vault:${key}}`).waitFor();
    expect(await page.getByText("s3cret-value").count()).toBe(0);
    // Again: a new version.
    await page.getByLabel("Key").fill(key);
    await page.getByLabel("Value").fill("s3cret-value-2");
    await page.getByRole("button", { name: "Store secret" }).click();
    await row.getByText("v2").waitFor();

    await page.getByRole("button", { name: `Reveal ${key}` }).click();
    await page.getByTestId("revealed-secret").getByText("s3cret-value-2").waitFor();
    const audit = await api("/api/v1/audit-events", { token: owner.token });
    expect(audit.body.audit_events.map((e: { action: string }) => e.action)).toContain("vault.secret.read");

    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByText(`${key} deleted`).waitFor();
    await row.waitFor({ state: "detached" });
    expect((await api(`/api/v1/vault/secrets/${key}`, { token: owner.token })).status).toBe(404);
  });

  it("a viewer sees no mutating control on the Access screen, at a phone's width", async () => {
    const phone = await signedInPage(browser, viewer, "viewer-password", {
      pageErrors,
      context: { viewport: { width: 390, height: 844 } },
    });
    await phone.goto(`${new URL(phone.url()).origin}/access`);
    await poll(() => phone.getByTestId("my-access").textContent()).toContain("viewer");
    await poll(() => phone.locator('[data-state="forbidden"]').textContent()).toMatch(/admin/);
    expect(await phone.getByRole("button", { name: /^Edit access/ }).count()).toBe(0);
    // The tab, not a new page load: the screen's code is already here.
    await phone.getByRole("tab", { name: "Vault" }).click();
    await phone.getByText("Using a secret").waitFor();
    for (const name of ["Store secret", /^Reveal/, "Delete"]) expect(await phone.getByRole("button", { name }).count()).toBe(0);
    await phone.context().close();
  });
});
