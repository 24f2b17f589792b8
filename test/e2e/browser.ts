// The browser the dashboard tests drive: Debian's chromium package (CI installs it with apt;
// browsers cannot be downloaded there), headless, through playwright-core. Without it the tests
// are skipped on a workstation and fail under CI=true.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true")
  throw new Error("the dashboard browser tests need Debian's chromium (apt-get install -y chromium)");

/** A headless chromium with a fresh temporary profile of its own, removed when it closes. */
export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  });
