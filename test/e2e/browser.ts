// The browser the dashboard tests drive: Debian's chromium package (CI installs it with apt;
// browsers cannot be downloaded there), headless, through playwright-core. Without it the tests
// are skipped on a workstation and fail under CI=true.
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { afterEach } from "vitest";
import { pierUrl } from "./client.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true")
  throw new Error("the dashboard browser tests need Debian's chromium (apt-get install -y chromium)");

/** A headless chromium with a fresh temporary profile of its own, removed when it closes. */
export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --disable-auto-reload: an error page (ERR_NETWORK_CHANGED, below) would otherwise
    // reload itself when the network changes again, a navigation of its own that races ours.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
      "--disable-auto-reload",
    ],
  });

/**
 * A browser context of its own (a laptop's window unless `options` says otherwise). Its actions
 * wait up to 2 minutes for what they act on (playwright's default is 30 s): a ceiling for a page
 * that never comes, where a machine loaded by other suites has taken longer than 30 s to load one.
 */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(120_000);
  const newPage = context.newPage.bind(context);
  context.newPage = async () => keepJournal(navigateThroughNetworkChanges(await newPage()));
  return context;
}

/**
 * What each page of a test did lately: navigations, failed requests, answers of 400 and up,
 * console errors. When a test fails, every page it had is printed with its URL and text, since a
 * CI run's log is all there is to go on when a wait times out on a page nobody sees.
 */
const journals = new Map<Page, { lines: string[]; note: (line: string) => void }>();

function keepJournal(page: Page): Page {
  const lines: string[] = [];
  const note = (line: string) => {
    lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (lines.length > 80) lines.shift();
  };
  page.on("framenavigated", (frame) => frame === page.mainFrame() && note(`navigated to ${frame.url()}`));
  page.on("requestfailed", (r) => note(`no answer to ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && note(`${r.status()} for ${r.request().method()} ${r.url()}`));
  page.on("console", (m) => (m.type() === "error" || m.type() === "warning") && note(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => note(`page error: ${e.message}`));
  journals.set(page, { lines, note });
  return page;
}

afterEach(async ({ task }) => {
  if (task.result?.state === "fail") {
    for (const [page, { lines }] of journals) {
      const text = page.isClosed()
        ? "(closed)"
        : await page
            .locator("body")
            // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person would have seen
            .innerText({ timeout: 5_000 })
            .catch((e: unknown) => `(unreadable: ${e})`);
      console.error(
        `[browser] a page of the failed test, at ${page.url()}\n  its text: ${text.replace(/\s*\n\s*/g, " | ").slice(0, 2000)}\n  lately:\n    ${lines.join("\n    ")}`,
      );
    }
  }
  for (const page of journals.keys()) if (page.isClosed()) journals.delete(page);
});

/**
 * Chromium aborts a navigation with ERR_NETWORK_CHANGED when a network interface comes or goes,
 * and Docker adds and removes one for every container and network the suites create on this
 * machine (a new container's interface changes several times within a second or two): such a
 * navigation is tried again (the page itself never changed). Chromium also starts navigations of
 * its own to the very URL asked for (its error page reloading, a reload on the next network
 * change), and a new goto would only interrupt that one in turn, as five gotos in under a second
 * did in a loop of the suite: then the helper waits for that navigation to land instead.
 */
function navigateThroughNetworkChanges(page: Page): Page {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await goto(url, options);
      } catch (error) {
        // Chromium reports it as the error itself, or as the navigation its error page interrupted.
        const said = String(error);
        const chromiumsOwn = said.includes(`interrupted by another navigation to "${url}"`);
        const retried = chromiumsOwn || /ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error:/.test(said);
        journals.get(page)?.note(`goto attempt ${attempt}: ${said.split("\n")[0]}`);
        if (attempt === 10 || !retried) throw error;
        if (chromiumsOwn && (await lands(page, url, options?.waitUntil))) return null;
      }
    }
  };
  return page;
}

/** Whether the page gets to `url` and that document's load state within 10 s (else go to it again). */
async function lands(
  page: Page,
  url: string,
  waitUntil: "load" | "domcontentloaded" | "networkidle" | "commit" = "load",
): Promise<boolean> {
  const wanted = new URL(url).href;
  return page
    .waitForURL((u) => u.href === wanted, { waitUntil, timeout: 10_000 })
    .then(
      () => true,
      () => false,
    );
}

/** Signs in through the dashboard's own form, as a user does, and waits for the signed-in layout. */
export async function signIn(page: Page, login: string, password: string, url = pierUrl()): Promise<void> {
  await page.goto(`${url}/signin`);
  await page.getByLabel("Username or email").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Attached, not visible: at a phone's width the signed-in name sits in the menu, closed.
  await page.getByTestId("whoami").waitFor({ state: "attached" });
}

/** A page of a new context (`newContext`), signed in. */
export async function signedInPage(
  browser: Browser,
  login: string,
  password: string,
  options: { context?: BrowserContextOptions; pageErrors?: string[]; url?: string } = {},
): Promise<Page> {
  const page = await (await newContext(browser, options.context)).newPage();
  if (options.pageErrors) page.on("pageerror", (e) => options.pageErrors?.push(e.message));
  await signIn(page, login, password, options.url);
  return page;
}
