// The Servers screens in a real browser (Debian's chromium through playwright-core) against the
// shared e2e stack, a real agent and the Docker engine: a role added to the catalog on the busybox
// test image, two servers bulk-created from it with addresses from a range and seen in the
// inventory with those addresses, a firewall group with a rule made and applied to one of them and
// seen on its page (and written on the host), the same group refused by a host whose agent may not
// change iptables, a viewer who sees the inventory without a control that changes anything, both
// stopped and deleted in bulk, each as a task followed on screen, and a server whose container went
// missing found by Sync and cleaned up. Then a server's image, environment, command and ports
// changed from its page and a role's health check from the roles tab, each refused first with the
// API's words beside the field, and the recreated container inspected on the engine.
import { randomInt } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchBrowser, newContext, signIn } from "./browser.ts";
import {
  addUser,
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  TEST_IMAGE,
  type TestAgent,
  taskEnd,
  unique,
} from "./client.ts";

const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 120_000 });

describe.skipIf(!hasChromium || !dockerAvailable())("the dashboard's server screens", () => {
  // A subnet of this run's own, outside Docker's default pools and the other server suites' (10.215, 10.217).
  const NET = `10.219.${randomInt(256)}`;
  const network = `pier-srv-${NET}.0-24`;
  const role = `ui-web-${randomInt(1e6)}`;
  const prefix = `ui-srv-${randomInt(1e6)}`;
  const names = [`${prefix}-01`, `${prefix}-02`];
  const group = `ui-fw-${randomInt(1e6)}`;
  /** A server on a second host whose agent may not change iptables, as an agent not run as root is told. */
  const confined = `ui-confined-${randomInt(1e6)}`;
  /** A second name for the test image: a different image reference that needs no pull. */
  const retagged = `pier-test/busybox:ui-edit-${randomInt(1e6)}`;
  let browser: Browser;
  let page: Page;
  let owner: Owner;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  let confinedAgent: TestAgent | undefined;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const row = (name: string) => page.locator(`[data-testid=server-row][data-name="${name}"]`);

  beforeAll(async () => {
    owner = await newOwner();
    viewer = unique("viewer");
    await addUser(owner, "viewer", viewer);
    ({ host, agent } = await onlineHost(owner));
    // Its iptables answers as iptables does for a user without the privilege.
    const unprivileged = await onlineHost(owner, {
      agent: {
        iptables: [
          "sh",
          "-c",
          'echo "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)" >&2; exit 4',
          "iptables",
        ],
      },
    });
    confinedAgent = unprivileged.agent;
    // Created, not started: its ruleset is refused before any address matters.
    const created = await api("/api/v1/servers", {
      token: owner.token,
      body: { name: confined, image: TEST_IMAGE, command: ["sleep", "3600"], host_id: unprivileged.host.id, start: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect((await taskEnd(owner.token, created.body.task_id, 180_000)).status).toBe("succeeded");
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
    // Servers a failed case left behind go through the API, which takes their firewall chains away;
    // whatever that leaves is removed from the engine below in any case.
    try {
      const left = await api("/api/v1/servers", { token: owner.token });
      const ids = (left.body?.servers ?? []).map((s: { id: string }) => s.id);
      const res = ids.length
        ? await api("/api/v1/servers/bulk-actions", { token: owner.token, body: { action: "delete", servers: ids } })
        : undefined;
      if (res?.status === 202) await taskEnd(owner.token, res.body.task_id, 180_000);
    } catch {
      // The engine cleanup below still runs.
    }
    await agent?.agent.stop();
    await confinedAgent?.agent.stop();
    const label = `dev.pier.org=${owner?.organizationId}`;
    const containers = await docker("ps", "-aq", "--filter", `label=${label}`);
    if (containers) await docker("rm", "-f", ...containers.split("\n"));
    for (const v of (await docker("volume", "ls", "-q", "--filter", `label=${label}`)).split("\n").filter(Boolean))
      await docker("volume", "rm", "-f", v);
    await docker("network", "rm", network).catch(() => undefined);
    await docker("rmi", retagged).catch(() => undefined);
  });

  it("adds a role, bulk-creates servers with addresses from a range, applies a firewall group, stops and deletes them in bulk", async () => {
    await page.getByRole("link", { name: "Servers", exact: true }).click();

    // The catalog: a role on the test image (httpd would ignore the stop signal as PID 1; the shell ends on it).
    await page.getByRole("tab", { name: "Roles" }).click();
    await page.locator("[data-testid=role-row][data-name=web]").waitFor();
    await page.getByRole("button", { name: "New role" }).click();
    await page.getByLabel(/^Name/).fill(role);
    await page.getByLabel(/^Image/).fill(TEST_IMAGE);
    await page.getByLabel(/^Command/).fill(["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 80 -h /srv & wait"].join("\n"));
    await page.getByLabel(/^Ports/).fill("80");
    await page.getByLabel(/^Data path/).fill("/srv");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.locator(`[data-testid=role-row][data-name="${role}"]`).waitFor();

    // Two servers from it, addresses handed out from the range in order.
    await page.getByRole("tab", { name: "Inventory" }).click();
    await page.getByRole("button", { name: "Bulk create" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel(/^Count/).fill("2");
    await dialog.getByLabel(/^Name prefix/).fill(prefix);
    await dialog.getByLabel(/^Role/).selectOption(role);
    await dialog.getByLabel(/^Host/).selectOption(host.id);
    await dialog.getByLabel(/^Memory \(MB\)/).fill("32");
    // More cores than the host has (its agent says how many): refused beside the field before anything is made.
    const cores = (await api(`/api/v1/hosts/${host.id}`, { token: owner.token })).body.cpus as number;
    expect(cores).toBeGreaterThan(0);
    await poll(
      async () =>
        (await dialog
          .locator("label")
          .filter({ has: page.getByLabel(/^CPU/) })
          .textContent()) ?? "",
    ).toContain(`The host has ${cores}`);
    await dialog.getByLabel(/^CPU/).fill(String(cores + 1));
    await dialog.getByLabel(/^Subnet/).fill(`${NET}.0/24`);
    await dialog.getByLabel(/^Gateway/).fill(`${NET}.1`);
    // A range outside the subnet: the API's words beside the field, nothing created.
    await dialog.getByLabel(/^IP range/).fill("10.9.9.21-10.9.9.30");
    await dialog.getByRole("button", { name: "Create servers" }).click();
    const cpuField = dialog.locator("label").filter({ has: page.getByLabel(/^CPU/) });
    await poll(async () => (await cpuField.getByRole("alert").allTextContents()).join(" ")).toContain(
      `has ${cores}: give at most ${cores}`,
    );
    await dialog.getByLabel(/^CPU/).fill("");
    await dialog.getByRole("button", { name: "Create servers" }).click();
    await poll(async () => (await dialog.getByRole("alert").allTextContents()).join(" ")).toContain(`outside the subnet ${NET}.0/24`);
    await dialog.getByLabel(/^IP range/).fill(`${NET}.21-${NET}.30`);
    await dialog.getByRole("button", { name: "Create servers" }).click();
    await poll(() => page.getByTestId("task-progress").getAttribute("data-status")).toBe("succeeded");
    for (const [i, name] of names.entries()) {
      await poll(() => row(name).getAttribute("data-status")).toBe("running");
      expect(await row(name).getByTestId("server-ip").textContent()).toBe(`${NET}.${21 + i}`);
    }

    // A firewall group with one rule, applied to the first server from its page.
    await page.getByRole("tab", { name: "Firewall groups" }).click();
    await page.getByRole("button", { name: "New group" }).click();
    await page.getByLabel(/^Group name/).fill(group);
    await page.getByRole("button", { name: "Create group" }).click();
    const card = page.locator(`[data-testid=firewall-group][data-name="${group}"]`);
    await card.getByRole("button", { name: "Add rule" }).click();
    await page.getByRole("dialog").getByLabel(/^Port/).fill("80");
    await page
      .getByRole("dialog")
      .getByLabel(/^Description/)
      .fill("web");
    await page.getByRole("dialog").getByRole("button", { name: "Add rule" }).click();
    await poll(() => card.getByTestId("rule-row").count()).toBe(1);
    expect(await card.getByTestId("rule-row").textContent()).toContain("80");

    await page.getByRole("tab", { name: "Inventory" }).click();
    await row(names[0]!).getByRole("link", { name: names[0] }).click();
    await page.getByRole("tab", { name: "Overview" }).waitFor();
    await page.getByRole("tab", { name: "Firewall", exact: true }).click();
    await page.getByLabel(/^Group/).selectOption(group);
    await page.getByRole("button", { name: "Apply", exact: true }).click();
    await page.locator(`[data-testid=applied-group][data-name="${group}"]`).waitFor();
    await poll(() => page.getByTestId("firewall-state").locator("[data-state]").getAttribute("data-state")).toBe("applied");
    expect(await page.getByTestId("firewall-state").textContent()).toContain(`${NET}.21`);
    // The group's card names the server it is applied to.
    await page.getByRole("link", { name: group }).click();
    expect(await card.getByTestId("group-servers").textContent()).toContain(names[0]);

    // A host whose agent may not change iptables: the refusal stays on the page in the agent's words, nothing is applied.
    await page.getByRole("tab", { name: "Inventory" }).click();
    await row(confined).getByRole("link", { name: confined }).click();
    await page.getByRole("tab", { name: "Overview" }).waitFor();
    await page.getByRole("tab", { name: "Firewall", exact: true }).click();
    await page.getByLabel(/^Group/).selectOption(group);
    await page.getByRole("button", { name: "Apply", exact: true }).click();
    await poll(() => page.getByTestId("firewall-refusal").textContent()).toContain("may not change iptables");
    expect(await page.getByTestId("firewall-refusal").textContent()).toContain("NET_ADMIN");
    expect(await page.getByTestId("applied-group").count()).toBe(0);

    // A viewer sees the inventory, and nothing that would change it.
    const viewerPage = await (await newContext(browser)).newPage();
    await signIn(viewerPage, viewer, "viewer-password");
    await viewerPage.getByRole("link", { name: "Servers", exact: true }).click();
    await viewerPage.locator(`[data-testid=server-row][data-name="${names[1]}"]`).waitFor();
    expect(await viewerPage.getByRole("checkbox").count()).toBe(0);
    expect(await viewerPage.getByRole("button", { name: /Create|Bulk create|Delete|Stop|Sync/ }).count()).toBe(0);
    await viewerPage.getByRole("tab", { name: "Firewall groups" }).click();
    await viewerPage.locator(`[data-testid=firewall-group][data-name="${group}"]`).waitFor();
    expect(await viewerPage.getByRole("button", { name: /New group|Add rule|Edit|Delete/ }).count()).toBe(0);
    await viewerPage.context().close();

    // Both stopped in bulk, then deleted in bulk, each followed as a task: the inventory filtered to their host first.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Servers", exact: true }).click();
    await page.getByLabel("Host", { exact: true }).selectOption(host.id);
    await poll(() => page.getByTestId("server-row").count()).toBe(2);
    await page.getByLabel("Select all").check();
    await expect.poll(() => page.getByTestId("selected-count").textContent()).toBe("2 selected");
    await page.getByRole("toolbar", { name: "Bulk actions" }).getByRole("button", { name: "Stop" }).click();
    for (const name of names) await poll(() => row(name).getAttribute("data-status")).toBe("stopped");
    expect(JSON.parse(await docker("inspect", `srv-${names[1]}`))[0].State.Running).toBe(false);

    await page.getByRole("toolbar", { name: "Bulk actions" }).getByRole("button", { name: "Delete" }).click();
    await poll(() => dialogs.some((d) => d.startsWith("Delete 2 servers"))).toBe(true);
    await poll(() => page.getByTestId("server-row").count()).toBe(0);
    await poll(async () =>
      (await docker("ps", "-a", "--format", "{{.Names}}")).split("\n").filter((n) => n.startsWith(`srv-${prefix}`)),
    ).toEqual([]);

    // The confined server's container removed behind Pier's back: Sync finds it missing, and it is cleaned up from the list.
    await docker("rm", "-f", `srv-${confined}`);
    await page.getByLabel("Host", { exact: true }).selectOption("");
    await page.getByRole("button", { name: "Sync", exact: true }).click();
    await poll(() => row(confined).getAttribute("data-status")).toBe("error");
    await poll(async () => (await page.getByTestId("failed-servers").textContent()) ?? "").toContain(confined);
    await page.getByRole("button", { name: "Clean up", exact: true }).click();
    await poll(() => row(confined).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("changes a server's image, environment, command and ports from its page, and a role's health check, on the engine", async () => {
    const name = `ui-edit-${randomInt(1e6)}`;
    const editRole = `ui-hc-${randomInt(1e6)}`;
    // busybox's sleep as PID 1 would ignore the stop signal; the shell ends on it.
    const shell = (seconds: number) => ["sh", "-c", `trap 'exit 0' TERM; sleep ${seconds} & wait`];
    await docker("tag", TEST_IMAGE, retagged);
    const made = await api("/api/v1/servers", {
      token: owner.token,
      body: { name, image: TEST_IMAGE, command: shell(3600), host_id: host.id },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    expect((await taskEnd(owner.token, made.body.task_id, 180_000)).status).toBe("succeeded");
    const inspect = async () => JSON.parse(await docker("inspect", `srv-${name}`))[0];
    const before = await inspect();
    expect(before.Config.Image).toBe(TEST_IMAGE);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Servers", exact: true }).click();
    await row(name).getByRole("link", { name }).click();
    await page.getByRole("tab", { name: "Overview" }).waitFor();
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Recreate with these" }) });
    await expect.poll(() => form.getByLabel(/^Image/).inputValue()).toBe(TEST_IMAGE);

    // Refused by the API: its words beside the field, and nothing recreated.
    await form.getByLabel(/^Image/).fill("not an image!");
    await form.getByRole("button", { name: "Recreate with these" }).click();
    await poll(async () => (await form.getByRole("alert").allTextContents()).join(" ")).toContain("an image reference such as");
    expect(dialogs.at(-1)).toMatch(/Change the image of .*The server is recreated/);

    const hostPort = 20_000 + randomInt(20_000);
    await form.getByLabel(/^Image/).fill(retagged);
    await form.getByLabel(/^Command/).fill(shell(3000).join("\n"));
    await form.getByLabel(/^Ports/).fill(`${hostPort}:80`);
    await form.getByLabel(/^Environment/).fill("GREETING=hello from the page\nEMPTY=");
    await form.getByRole("button", { name: "Recreate with these" }).click();
    expect(dialogs.at(-1)).toMatch(/Change the image, command, ports, env of .*The server is recreated/);
    await poll(() => page.getByTestId("task-progress").getAttribute("data-status")).toBe("succeeded");
    await poll(async () => (await inspect()).Config.Image).toBe(retagged);
    const after = await inspect();
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Env).toEqual(expect.arrayContaining(["GREETING=hello from the page", "EMPTY="]));
    expect(after.Config.Cmd).toEqual(shell(3000));
    expect(after.HostConfig.PortBindings["80/tcp"]).toEqual([expect.objectContaining({ HostPort: String(hostPort) })]);
    // Kept: the data volume and the name; the page reads the new configuration back.
    expect(after.Mounts.map((m: { Name?: string }) => m.Name)).toEqual(before.Mounts.map((m: { Name?: string }) => m.Name));
    await poll(() => form.getByLabel(/^Image/).inputValue()).toBe(retagged);
    expect(await form.getByLabel(/^Ports/).inputValue()).toBe(`${hostPort}:80`);

    // A role's health check, edited on the roles tab: refused first, beside its field.
    const roleMade = await api("/api/v1/server-roles", {
      token: owner.token,
      body: { name: editRole, image: retagged, command: shell(3600), data_path: "/srv" },
    });
    expect(roleMade.status, JSON.stringify(roleMade.body)).toBe(201);
    // Made behind the page's back: the server page's role list is cached for 10 s (web/src/main.tsx's staleTime), and
    // the roles tab would show that copy without the new role when the edit above took less. A reload reads it afresh.
    await page.reload();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Servers", exact: true }).click();
    await page.getByRole("tab", { name: "Roles" }).click();
    await page.locator(`[data-testid=role-row][data-name="${editRole}"]`).getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog");
    await edit.getByLabel(/^Check HTTP path/).fill("healthz");
    await edit.getByRole("button", { name: "Save role" }).click();
    const pathField = edit.locator("label").filter({ has: page.getByLabel(/^Check HTTP path/) });
    await poll(async () => (await pathField.getByRole("alert").allTextContents()).join(" ")).toMatch(/\//);
    await edit.getByLabel(/^Check HTTP path/).fill("");
    await edit.getByLabel(/^Check command/).fill("true");
    await edit.getByLabel(/^Interval/).fill("5");
    await edit.getByLabel(/^Retries/).fill("2");
    await edit.getByRole("button", { name: "Save role" }).click();
    await poll(() => page.getByRole("dialog").count()).toBe(0);
    await poll(async () => (await page.locator(`[data-testid=role-row][data-name="${editRole}"]`).textContent()) ?? "").toContain(
      "true every 5s",
    );
    const stored = await api(`/api/v1/server-roles/${editRole}`, { token: owner.token });
    expect(stored.body.health_check).toEqual({ command: "true", interval_seconds: 5, retries: 2 });

    // Assigned to the server, the health check is the container's HEALTHCHECK.
    await page.getByRole("tab", { name: "Inventory" }).click();
    await row(name).getByRole("link", { name }).click();
    await page.getByRole("tab", { name: "Overview" }).waitFor();
    await page.getByLabel(/^Role/).selectOption(editRole);
    await page.getByRole("button", { name: "Change role" }).click();
    await poll(() => page.getByTestId("task-progress").getAttribute("data-status")).toBe("succeeded");
    await poll(async () => (await inspect()).Config.Healthcheck?.Test).toEqual(["CMD-SHELL", "true"]);
    const assigned = await inspect();
    expect(assigned.Config.Healthcheck).toMatchObject({ Interval: 5e9, Retries: 2 });
    expect(assigned.Config.Env).toContain("GREETING=hello from the page");
    await poll(async () => (await inspect()).State.Health?.Status).toBe("healthy");
    expect(pageErrors).toEqual([]);
  });
});
