// /swagger in a real browser (Debian's chromium, driven by playwright-core) against `npm start`:
// it renders from the Worker's own assets with no request leaving the machine, takes an API key
// through "Authorize", and "Try it out" on GET /api/v1/hosts answers 200 with the caller's host.
// It offers the compatibility document too.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, newHost, newOwner, pierUrl } from "./client.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") throw new Error("the Swagger UI test needs Debian's chromium (apt-get install -y chromium)");
if (!hasChromium)
  process.stderr.write("\n!!! SKIPPING the Swagger UI browser test: chromium is not installed (apt-get install -y chromium).\n\n");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Brings an operation into view, as a reader scrolling down the page would: Swagger UI may not have
 * drawn a tag far below the viewport yet, so until the element exists the page is scrolled further
 * down, a screen at a time, and looked at again.
 */
async function reveal(page: Page, operation: Locator): Promise<Locator> {
  await expect
    .poll(
      async () => {
        if ((await operation.count()) > 0) return true;
        await page.evaluate(() => window.scrollBy(0, window.innerHeight));
        return false;
      },
      { timeout: 120_000 },
    )
    .toBe(true);
  await operation.first().scrollIntoViewIfNeeded();
  await operation.first().waitFor({ state: "visible" });
  return operation.first();
}

describe.skipIf(!hasChromium)("Swagger UI in a browser", () => {
  let context: BrowserContext;
  let profile: string;
  /** Every request the page made that would have left the machine (each was refused). */
  const offMachine: string[] = [];

  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), "pier-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK.has(url.hostname)) return route.continue();
      offMachine.push(url.href);
      return route.abort("blockedbyclient");
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("renders offline, authorizes with an API key, and tries GET /api/v1/hosts", async () => {
    const owner = await newOwner("swagger");
    const host = await newHost(owner);
    const key = (await api("/api/v1/api-keys", { token: owner.token, body: { name: "swagger" } })).body.key as string;

    const page = await context.newPage();
    // Swagger UI parses and renders the whole document in the page: on a saturated 2-core CI machine
    // that took longer than Playwright's 30 s default. A cap, not a bound: every wait ends on its condition.
    page.setDefaultTimeout(120_000);
    const failed: string[] = [];
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(`${pierUrl()}/swagger`);
    await page.locator(".swagger-ui .info .title").filter({ hasText: "Pier API" }).waitFor();
    // Both documents are offered in the top bar.
    const documents = await page.locator(".topbar select option").allTextContents();
    expect(documents).toEqual(["Pier API", "Compatibility surfaces (seeds 000–004)"]);

    await page.locator("button.authorize").first().click();
    const apiKeySection = page.locator(".modal-ux .auth-container").filter({ hasText: "x-api-key" });
    await apiKeySection.locator("input").fill(key);
    await apiKeySection.locator("button.authorize").click();
    await apiKeySection.getByText("Authorized", { exact: true }).waitFor();
    await page.locator(".modal-ux button.close-modal").click();

    const operation = await reveal(page, page.locator("[id^='operations-'][id$='-getHosts']"));
    await operation.locator(".opblock-summary").click();
    await operation.locator("button.try-out__btn").click();
    await operation.locator("button.execute").click();
    const status = operation.locator(".live-responses-table .response .response-col_status");
    await expect.poll(() => status.first().textContent(), { timeout: 120_000 }).toBe("200");
    expect(await operation.locator(".live-responses-table").textContent()).toContain(host.id);

    // The compatibility document renders too, with Dokploy's procedures.
    await page.locator(".topbar select").selectOption({ label: "Compatibility surfaces (seeds 000–004)" });
    await page.locator(".swagger-ui .info .title").filter({ hasText: "Pier compatibility surfaces" }).waitFor();
    const projectCreate = await reveal(page, page.locator("[id^='operations-000'][id$='-trpc_projectCreate']"));
    expect(await projectCreate.locator(".opblock-summary-path").textContent()).toContain("project.create");

    expect(offMachine).toEqual([]);
    expect(failed).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
