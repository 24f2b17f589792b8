// The dashboard's views under load, on a phone and in the dark, in a real browser (Debian's
// chromium, driven by playwright-core) against the shared e2e stack, a real agent and the real
// Docker engine: a container that prints thousands of lines into the log viewer, which stays
// virtualized, follows to the end, pauses and finds a line near the start; the main screens at a
// phone's 390×844 with the navigation behind a menu and no sideways page scroll; and dark mode,
// from the system's preference and from the theme toggle, with readable contrast.
import { gzipSync } from "node:zlib";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIRST_SCREEN_BUDGET_BYTES, measureFirstScreen } from "../../scripts/build-assets.ts";
import {
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  TEST_IMAGE,
  type TestAgent,
  unique,
} from "./client.ts";
import { hasChromium, launchBrowser, newContext, signIn as signInAs, signedInPage } from "./browser.ts";

const LABEL = "dev.pier.e2e-dashboard-views";
const LINES = 6000;
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000 });
/** Walking a dozen screens takes 30–40 s here, and past two minutes on a machine other suites load. */
const SCREENS_TIMEOUT_MS = 300_000;

/**
 * WCAG's contrast ratio of an element's text against the first opaque background behind it.
 * Tailwind 4's colours are oklch(): a canvas turns any CSS colour into sRGB bytes.
 */
const contrastOf = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true })!;
      const srgb = (css: string) => {
        ctx.clearRect(0, 0, 1, 1);
        ctx.fillStyle = "rgba(0, 0, 0, 0)";
        ctx.fillStyle = css;
        ctx.fillRect(0, 0, 1, 1);
        return [...ctx.getImageData(0, 0, 1, 1).data];
      };
      const luminance = ([r, g, b]: number[]) => {
        const [R, G, B] = [r!, g!, b!].map((v) => {
          const c = v / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
      };
      let bg = [255, 255, 255, 255];
      for (let node: Element | null = el; node; node = node.parentElement) {
        const c = srgb(getComputedStyle(node).backgroundColor);
        if (c[3]! >= 250) {
          bg = c;
          break;
        }
      }
      const [a, b] = [luminance(srgb(getComputedStyle(el).color)), luminance(bg)];
      return { ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), background: luminance(bg) };
    });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard's views: long logs, phone width, dark mode", () => {
  let browser: Browser;
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  let containerId: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function signIn(context: BrowserContextOptions = {}): Promise<Page> {
    const p = await signedInPage(browser, owner.username, owner.password, { context, pageErrors });
    contexts.push(p.context());
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    return p;
  }

  beforeAll(async () => {
    owner = await newOwner();
    ({ host, agent } = await onlineHost(owner));
    // It prints its burst only once the test says so (the viewer is following by then), then a
    // line every 200 ms, so following has something to follow.
    containerId = await docker(
      "run",
      "-d",
      "--label",
      LABEL,
      "--name",
      unique("dash-flood"),
      TEST_IMAGE,
      "sh",
      "-c",
      `trap 'exit 0' TERM; while [ ! -f /tmp/go ]; do sleep 0.1; done; seq -w 0 ${LINES - 1} | sed 's/^/line-/'; i=0; while true; do echo live-$i; i=$((i+1)); sleep 0.2; done`,
    );
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const ctx of contexts) await ctx.close().catch(() => undefined);
    await browser?.close();
    const left = await docker("ps", "-aq", "--filter", `label=${LABEL}`).catch(() => "");
    if (left) await docker("rm", "-f", ...left.split("\n")).catch(() => undefined);
    await agent?.agent.stop();
  });

  it(`streams ${LINES}+ lines into the log viewer, which stays virtualized, follows to the end, pauses, and finds a line near the start`, async () => {
    const page = await signIn();
    await page.goto(`${pierUrl()}/docker-hosts/${host.id}/containers/${containerId}`);
    await page.getByTestId("log-status").filter({ hasText: "following" }).waitFor();
    await docker("exec", containerId, "touch", "/tmp/go");

    const log = page.getByTestId("log-view");
    const total = async () => Number((await page.getByTestId("log-count").textContent())?.match(/of (\d+) lines/)?.[1] ?? 0);
    await poll(total).toBeGreaterThan(LINES);
    // Thousands of lines, a screenful of rows in the DOM.
    expect(await log.locator("[data-stream]").count()).toBeLessThan(150);

    // Following: the view sits at the end, and the newest line is on screen.
    const atEnd = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40);
    await poll(atEnd).toBe(true);
    await poll(async () => (await log.locator("[data-stream]").allTextContents()).some((t) => /^live-\d+$/.test(t))).toBe(true);

    // Paused: the view stays where the reader scrolled while lines keep arriving.
    await page.getByLabel("follow", { exact: true }).uncheck();
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    const rows = () => log.locator("[data-stream]").allTextContents();
    await poll(rows).toContain("line-0000");
    const before = await total();
    await poll(total).toBeGreaterThan(before + 3);
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    expect(await rows()).toContain("line-0000");

    // Following again jumps to the end.
    await page.getByLabel("follow", { exact: true }).check();
    await poll(atEnd).toBe(true);

    // Search finds one line near the start among thousands.
    await page.getByLabel("Search the log").fill("line-0042");
    await poll(() => page.getByTestId("log-count").textContent()).toMatch(/^1 of \d+ lines/);
    expect(await log.locator("[data-stream]").allTextContents()).toEqual(["line-0042"]);
    await page.getByLabel("Search the log").fill("");
    await poll(async () => log.locator("[data-stream]").count()).toBeGreaterThan(1);
    expect(await log.locator("[data-stream]").count()).toBeLessThan(150);
  });

  describe("at a phone's width (390×844)", () => {
    let page: Page;
    beforeAll(async () => {
      page = await signIn({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    });

    const noSidewaysScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

    it("reaches the navigation through a menu", async () => {
      const nav = page.getByRole("navigation", { name: "Main" });
      expect(await nav.isVisible()).toBe(false);
      await page.getByRole("button", { name: "Menu" }).click();
      await nav.getByRole("link", { name: "Hosts", exact: true }).click();
      await page.getByRole("heading", { name: "Hosts" }).waitFor();
      // Choosing a screen closes the menu again.
      await poll(() => nav.isVisible()).toBe(false);
      await page.getByRole("button", { name: "Menu" }).click();
      await nav.getByRole("link", { name: "Tasks", exact: true }).click();
      await page.getByRole("heading", { name: "Tasks" }).waitFor();
    });

    it(
      "has no sideways page scroll on the main screens, and wide tables scroll inside their box",
      async () => {
        const screens = [
          "/",
          "/docker-hosts",
          `/docker-hosts/${host.id}`,
          `/docker-hosts/${host.id}/containers/${containerId}`,
          "/projects",
          "/notifications",
          "/tasks",
          "/alerts",
          "/channels",
          "/registries",
          "/databases",
          "/servers",
          "/servers?tab=firewall",
          "/settings",
        ];
        for (const path of screens) {
          await page.goto(`${pierUrl()}${path}`);
          await page.locator("main h1").first().waitFor();
          await poll(() => page.locator("main").getByText("Loading…").count()).toBe(0);
          expect(await noSidewaysScroll(), path).toBe(true);
        }
        await page.goto(`${pierUrl()}/docker-hosts/${host.id}`);
        const box = page.getByTestId("table-scroll").first();
        await box.waitFor();
        const fit = await box.evaluate((el) => ({
          overflow: getComputedStyle(el).overflowX,
          right: el.getBoundingClientRect().right,
          viewport: window.innerWidth,
        }));
        expect(fit.overflow).toBe("auto");
        expect(fit.right).toBeLessThanOrEqual(fit.viewport);
        expect(await noSidewaysScroll()).toBe(true);
      },
      SCREENS_TIMEOUT_MS,
    );
  });

  describe("in dark mode", () => {
    const screens = ["/", "/docker-hosts", "/tasks", "/settings"];
    const READABLE = 4.5;

    async function expectReadable(page: Page) {
      for (const path of screens) {
        await page.goto(`${pierUrl()}${path}`);
        await page.locator("main h1").first().waitFor();
        await poll(() => page.locator("main").getByText("Loading…").count()).toBe(0);
        const heading = await contrastOf(page, "main h1");
        expect(heading.background, `${path}: a dark background`).toBeLessThan(0.1);
        expect(heading.ratio, `${path}: the heading`).toBeGreaterThanOrEqual(READABLE);
        expect((await contrastOf(page, 'nav[aria-label="Main"] a')).ratio, `${path}: the navigation`).toBeGreaterThanOrEqual(READABLE);
        expect((await contrastOf(page, '[data-testid="whoami"]')).ratio, `${path}: muted text`).toBeGreaterThanOrEqual(READABLE);
        if ((await page.locator("main td").count()) > 0)
          expect((await contrastOf(page, "main td")).ratio, `${path}: a table cell`).toBeGreaterThanOrEqual(READABLE);
        if ((await page.locator("main thead th").count()) > 0)
          expect((await contrastOf(page, "main thead th")).ratio, `${path}: a table header`).toBeGreaterThanOrEqual(READABLE);
      }
    }

    it(
      "follows the system's preference (prefers-color-scheme: dark) with readable contrast",
      async () => {
        const page = await signIn({ colorScheme: "dark" });
        expect(await page.evaluate(() => document.documentElement.classList.contains("dark"))).toBe(true);
        await expectReadable(page);
      },
      SCREENS_TIMEOUT_MS,
    );

    it(
      "switches with the theme toggle, keeps the choice across a reload, and stays readable",
      async () => {
        const page = await signIn({ colorScheme: "light" });
        const isDark = () => page.evaluate(() => document.documentElement.classList.contains("dark"));
        expect(await isDark()).toBe(false);
        const light = await contrastOf(page, "main h1");
        expect(light.background).toBeGreaterThan(0.8);
        expect(light.ratio).toBeGreaterThanOrEqual(READABLE);
        await page.getByRole("button", { name: "Theme: system" }).click();
        await page.getByRole("button", { name: "Theme: light" }).click();
        await page.getByRole("button", { name: "Theme: dark" }).waitFor();
        expect(await isDark()).toBe(true);
        await page.reload();
        await page.getByRole("button", { name: "Theme: dark" }).waitFor();
        expect(await isDark()).toBe(true);
        await expectReadable(page);
        // And back to the system's (light) preference.
        await page.getByRole("button", { name: "Theme: dark" }).click();
        await page.getByRole("button", { name: "Theme: system" }).waitFor();
        expect(await isDark()).toBe(false);
      },
      SCREENS_TIMEOUT_MS,
    );
  });

  it("loads the first screen, signed out and signed in, inside its JavaScript budget and exactly as the build counts it", async () => {
    const { files, gzipBytes } = await measureFirstScreen();
    expect(gzipBytes).toBeLessThanOrEqual(FIRST_SCREEN_BUDGET_BYTES);
    const scriptsOf = async (p: Page, path: string, landmark: string) => {
      const loaded: Array<Promise<[string, number]>> = [];
      p.on("response", (r) => {
        if (r.request().resourceType() === "script")
          loaded.push(r.body().then((body) => [new URL(r.url()).pathname.replace(/^\/ui\//, ""), gzipSync(body, { level: 9 }).length]));
      });
      await p.goto(`${pierUrl()}${path}`);
      await p.getByRole("heading", { name: landmark }).waitFor();
      return Promise.all(loaded);
    };
    const signedOut = await browser.newContext();
    contexts.push(signedOut);
    const outScripts = await scriptsOf(await signedOut.newPage(), "/signin", "Sign in to Pier");
    expect(outScripts.map(([name]) => name).sort()).toEqual([...files].sort());
    expect(outScripts.reduce((sum, [, n]) => sum + n, 0)).toBe(gzipBytes);
    // Signed in, the overview is the first screen: no other screen's chunk comes with it.
    const signedIn = await signIn();
    const inScripts = await scriptsOf(await signedIn.context().newPage(), "/", "Overview");
    expect(inScripts.map(([name]) => name).sort()).toEqual([...files].sort());
  });

  it("loads itself again when its scripts fail to arrive (a network change), before the app starts and for a screen loaded later", async () => {
    const context = await newContext(browser);
    contexts.push(context);
    // Every script of the build fails the first time the browser asks for it, as a burst of
    // ERR_NETWORK_CHANGED does, and arrives the next time.
    const failedOnce = new Set<string>();
    await context.route(/\/ui\/assets\/[^?]+\.js(\?.*)?$/, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (failedOnce.has(path)) return route.continue();
      failedOnce.add(path);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    const reloads: string[] = [];
    page.on("framenavigated", (frame) => frame === page.mainFrame() && reloads.push(frame.url()));
    // Without the boot guard the page stays blank: the entry module never runs.
    await signInAs(page, owner.username, owner.password);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const { files } = await measureFirstScreen();
    for (const file of files.filter((f) => f.startsWith("assets/"))) expect(failedOnce, file).toContain(`/ui/${file}`);
    // The Tasks screen is a chunk of its own, loaded on demand: it fails once too, and comes.
    const before = failedOnce.size;
    await page.getByRole("navigation").getByRole("link", { name: "Tasks" }).first().click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    expect(failedOnce.size).toBeGreaterThan(before);
    expect(reloads.filter((u) => u.endsWith("/tasks")).length, reloads.join("\n")).toBeGreaterThanOrEqual(2);
  });

  it("threw no page error", () => {
    expect(pageErrors).toEqual([]);
  });
});
