// Files and image tars in a real browser (Debian's chromium through playwright-core) against the
// shared e2e stack, a real agent and the real Docker engine: a container's file looked at,
// downloaded as a tar and a tar extracted into it from the Files tab; an image saved from the
// images tab and loaded back from the file the browser downloaded.
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, dockerAvailable, newOwner, onlineHost, type Owner, pierUrl, TEST_IMAGE, type TestAgent, unique } from "./client.ts";
import { hasChromium, launchBrowser, newContext } from "./browser.ts";

/** A one-file ustar archive, built here so the test owns its bytes. */
function tarOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\u000000", 257);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(body);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

describe.skipIf(!hasChromium || !dockerAvailable())("files and image tars on the dashboard", () => {
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  let hostId: string;
  let agent: TestAgent;
  const box = unique("pier-ui-files");
  const copy = `pier-test/ui-copy-${unique("x").toLowerCase()}:v1`;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    owner = await newOwner("files-ui");
    const online = await onlineHost(owner);
    hostId = online.host.id;
    agent = online.agent;
    await docker("run", "-d", "--name", box, TEST_IMAGE, "sh", "-c", "echo 'seen in the browser' > /srv.txt && exec sleep 600");
    // An image of its own (a tag of the test image would share its row, under the test image's name).
    await docker("commit", box, copy);
    browser = await launchBrowser();
    const ctx = await newContext(browser, { acceptDownloads: true });
    page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${pierUrl()}/signin`);
    await page.getByLabel("Username or email").fill(owner.username);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("whoami").waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await docker("rm", "-f", box).catch(() => "");
    await docker("rmi", "-f", copy).catch(() => "");
    await agent?.agent.stop();
  });

  it("a file is looked at and downloaded, and a tar extracted into a directory", async () => {
    await page.goto(`${pierUrl()}/docker-hosts/${hostId}/containers/${box}?tab=files`);
    await page.getByLabel("Path in the container").fill("/srv.txt");
    await page.getByRole("button", { name: "Look" }).click();
    await expect.poll(() => page.getByTestId("path-stat").textContent(), { timeout: 60_000 }).toMatch(/file, 20 B/);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download as tar" }).click()]);
    expect(download.suggestedFilename()).toBe("srv.txt.tar");
    expect((await readFile(await download.path())).toString("latin1")).toContain("seen in the browser");

    await page.getByLabel("Path in the container").fill("/tmp");
    await page.getByRole("button", { name: "Look" }).click();
    await expect.poll(() => page.getByTestId("path-stat").textContent(), { timeout: 60_000 }).toMatch(/directory/);
    await page.getByLabel("Tar to extract here").setInputFiles({
      name: "note.tar",
      mimeType: "application/x-tar",
      buffer: tarOf("note.txt", "written from the dashboard\n"),
    });
    await page.getByRole("button", { name: "Extract here", exact: true }).click();
    await page.getByText(/Extracted .* into \/tmp/).waitFor({ timeout: 60_000 });
    expect(await docker("exec", box, "cat", "/tmp/note.txt")).toBe("written from the dashboard");
  });

  it("an image is saved from the images tab and loaded back from the downloaded tar", async () => {
    await page.goto(`${pierUrl()}/docker-hosts/${hostId}?tab=images`);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: `Save ${copy} as tar` }).click({ timeout: 60_000 }),
    ]);
    const tar = await download.path();
    await docker("rmi", copy);
    await page.getByLabel("Image tar to load").setInputFiles(tar);
    await page.getByRole("button", { name: "Load image" }).click();
    await page.getByText(`Loaded ${copy}`).waitFor({ timeout: 60_000 });
    expect(await docker("image", "inspect", "--format", "{{.Id}}", copy)).toMatch(/^sha256:/);
    expect(pageErrors).toEqual([]);
  });
});
