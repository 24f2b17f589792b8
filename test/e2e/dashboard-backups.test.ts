// The Backups screens in a real browser (Debian's chromium, driven by playwright-core) against the
// shared e2e stack, a real agent and Docker engine, and s3rver as the S3-compatible store: a
// destination added (the store's refusal of a wrong secret shown first, the saved secret masked), a
// policy created with the cron helper's next runs shown, run now and seen to succeed, then the
// volume changed, measured on its host's Volumes tab, and restored from its page, the confirmation
// naming what gets replaced, and the file read back as it was.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchBrowser, newContext, signIn } from "./browser.ts";
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3, type TestS3 } from "../fixtures/s3.ts";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  pierUrl,
  type TestAgent,
  TEST_IMAGE,
  unique,
  waitForStatus,
} from "./client.ts";

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 120_000 });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard's backup screens", () => {
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  let host: Awaited<ReturnType<typeof newHost>>;
  let agent: TestAgent;
  let s3: TestS3;
  const volume = unique("ui-bk");
  const madeVolume = unique("ui-made");
  const destinationName = unique("offsite");
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const readFile = () => docker("run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "cat", "/data/file.txt");

  beforeAll(async () => {
    s3 = await startS3(["pier-ui"]);
    owner = await newOwner();
    host = await newHost(owner);
    agent = attachAgent(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    await docker("volume", "create", "--label", "dev.pier.test=dashboard-backups", volume);
    await docker("run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", "echo as-backed-up > /data/file.txt");
    browser = await launchBrowser();
    page = await (await newContext(browser)).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await signIn(page, owner.username, owner.password);
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.agent.stop();
    await docker("volume", "rm", "-f", volume, madeVolume).catch(() => undefined);
    await s3?.close();
  });

  it("adds a destination, creates a policy, runs it, and restores the volume from its page", async () => {
    await page.getByRole("link", { name: "Backups", exact: true }).click();
    await page.getByRole("tab", { name: "Destinations" }).click();
    await page.getByRole("button", { name: "Add destination" }).click();
    await page.getByLabel("Name").fill(destinationName);
    await page.getByLabel("Endpoint").fill(s3.endpoint);
    await page.getByLabel("Bucket").fill("pier-ui");
    await page.getByLabel("Access key id").fill("NOT-A-KEY");
    await page.getByLabel("Secret access key").fill(S3_SECRET_KEY);
    await page.getByRole("button", { name: "Verify and save" }).click();
    // The store's refusal, in the form; nothing saved.
    await page.getByRole("dialog").getByRole("alert").waitFor();
    await page.getByLabel("Access key id").fill(S3_ACCESS_KEY);
    await page.getByRole("button", { name: "Verify and save" }).click();
    const row = page.locator(`[data-testid=destination-row][data-name="${destinationName}"]`);
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain("…");
    expect(await row.textContent()).not.toContain(S3_SECRET_KEY);

    await page.getByRole("tab", { name: "Policies" }).click();
    await page.getByRole("button", { name: "New policy" }).click();
    await page.getByLabel("What to back up").selectOption("volume");
    await page.getByLabel("Host").selectOption(host.id);
    // The host's volumes are offered as the name is typed.
    await poll(() => page.getByTestId("backup-target-choices").locator(`option[value="${volume}"]`).count()).toBe(1);
    await page.getByLabel("Volume name").fill(volume);
    await page.getByLabel("Schedule (cron)").fill("61 * * * *");
    // croner's complaint, then the next runs of a schedule it reads.
    await page.getByText("Invalid value for minute: 61").waitFor();
    await page.getByLabel("Schedule (cron)").fill("0 3 * * *");
    await page.getByLabel("Time zone").fill("UTC");
    await poll(async () => (await page.getByTestId("cron-next-runs").textContent()) ?? "").toContain("Next runs");
    await page.getByLabel("Destination").selectOption({ label: destinationName });
    await page.getByRole("button", { name: "Create policy" }).click();
    const policy = page.locator("[data-testid=policy-row]").filter({ hasText: volume });
    await policy.waitFor();
    // The target and the destination by their names, not their ids.
    await poll(() => policy.getByTestId("policy-target").textContent()).toContain(`Volume ${volume} on ${host.name}`);
    expect(await policy.getByTestId("policy-target").textContent()).toContain(destinationName);
    await policy.getByRole("button", { name: "Run now" }).click();
    await poll(() => policy.getByTestId("policy-last-run").locator("[data-state]").getAttribute("data-state")).toBe("succeeded");

    // The volume changes after the backup; restoring it from its page brings the file back.
    await docker("run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", "echo changed-since > /data/file.txt");
    await page.goto(`${pierUrl()}/docker-hosts/${host.id}?tab=volumes`);
    // A volume made from the tab (labelled as Pier's), then removed from it after its question.
    await page.getByLabel("New volume name").fill(madeVolume);
    await page.getByRole("button", { name: "Create volume" }).click();
    const madeRow = page.getByTestId("volume-row").filter({ hasText: madeVolume });
    await madeRow.waitFor();
    expect(await docker("volume", "inspect", "-f", '{{index .Labels "dev.pier.managed"}}', madeVolume)).toBe("true");
    await madeRow.getByRole("button", { name: "Remove" }).click();
    await poll(() => dialogs.includes(`Remove volume ${madeVolume}? Its data is deleted.`)).toBe(true);
    await poll(() => madeRow.count()).toBe(0);
    // Sizes only when asked (the engine measures volumes in one disk walk): "changed-since\n" is 14 bytes.
    const volumeRow = page.locator("tr", { hasText: volume });
    await volumeRow.waitFor();
    expect(await page.getByTestId("volume-size").count()).toBe(0);
    // By name, whatever order the engine listed them in.
    const names = await page
      .getByTestId("volume-row")
      .evaluateAll((rows) => rows.map((r) => (r.querySelector("td")?.textContent ?? "").replace(/ Backups$/, "")));
    expect(names).toEqual(names.toSorted((a, b) => a.localeCompare(b)));
    await page.getByRole("button", { name: "Measure sizes" }).click();
    await poll(() => volumeRow.getByTestId("volume-size").textContent()).toBe("14 B");
    await volumeRow.getByRole("link", { name: "Backups" }).click();
    const backup = page.locator("[data-testid=backup-row][data-status=succeeded]").first();
    await backup.waitFor();
    await backup.getByRole("button", { name: "Restore" }).click();
    await page.getByLabel(/Into Volume/).check();
    await expect.poll(() => page.getByTestId("restore-replaces").textContent()).toContain(`replaces the current data of Volume ${volume}`);
    await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
    await poll(() => dialogs.some((d) => d.includes(`replaces the current data of Volume ${volume}`))).toBe(true);
    await poll(async () => page.locator("[data-testid=backup-task][data-kind=restore]").first().getAttribute("data-status")).toBe(
      "succeeded",
    );
    expect(await readFile()).toBe("as-backed-up");

    // On the Tasks screen the restore leads back to the volume's backups.
    await page.goto(`${pierUrl()}/tasks`);
    const restoreTask = page.locator("[data-testid=task-row][data-kind=restore]").filter({ hasText: volume }).first();
    await restoreTask.waitFor();
    await restoreTask.getByRole("link", { name: new RegExp(volume) }).click();
    await page.waitForURL((url) => url.pathname === "/backups" && url.searchParams.get("ref") === volume);
    expect(new URL(page.url()).searchParams.get("kind")).toBe("volume");
    expect(new URL(page.url()).searchParams.get("host")).toBe(host.id);
    await page.locator("[data-testid=backup-row][data-status=succeeded]").first().waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("names a database policy's target by the database's name and links it to that database's backups", async () => {
    const project = await api("/api/v1/projects", { token: owner.token, body: { name: unique("bk-names") } });
    const db = await api("/api/v1/databases", {
      token: owner.token,
      body: { project_id: project.body.id, engine: "postgres", name: unique("bk-db"), image: TEST_IMAGE, host_id: host.id, start: false },
    });
    expect(db.status, JSON.stringify(db.body)).toBe(201);
    const made = await api("/api/v1/backup-policies", {
      token: owner.token,
      body: { target: { kind: "database", database_id: db.body.id }, schedule: "0 3 * * *", name: unique("bk-db-policy") },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    try {
      await page.goto(`${pierUrl()}/backups`);
      const row = page.locator(`[data-testid=policy-row][data-name="${made.body.name}"]`);
      await poll(() => row.getByTestId("policy-target").textContent()).toContain(`Database ${db.body.name} ·`);
      await row.getByRole("link", { name: `Database ${db.body.name}` }).click();
      await page.getByText(`Backups of Database ${db.body.name}`).waitFor();
      expect(new URL(page.url()).searchParams.get("ref")).toBe(db.body.id);
      expect(pageErrors).toEqual([]);
    } finally {
      await api(`/api/v1/backup-policies/${made.body.id}`, { token: owner.token, method: "DELETE" });
      await api(`/api/v1/projects/${project.body.id}?force=true`, { token: owner.token, method: "DELETE" });
    }
  });
});
