// Volumes, networks and the host's Docker system through the canonical API, end to end: HTTP →
// Worker → HostRelay → the real agent → the real Docker engine, checked against the `docker` CLI.
// Failure paths keep the engine's words with a fitting status; roles and audit are checked too.
// Every object is labelled for this run, and prunes are filtered by that label, because other
// suites share the engine.
import { randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  auditEvents,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  waitFor,
  withRoles,
} from "./client.ts";

describe.skipIf(!dockerAvailable())("volumes, networks and system housekeeping through the relay", () => {
  const tag = randomUUID().slice(0, 8);
  const label = `dev.pier.e2e=vns-${tag}`;
  const labels = { "dev.pier.e2e": `vns-${tag}` };
  const volume = `pier-e2e-vol-${tag}`;
  const network = `pier-e2e-net-${tag}`;
  const container = `pier-e2e-vns-${tag}`;
  // A subnet of this run's own, outside Docker's default pools (172.17-31/16, 192.168/20s): a fixed
  // one collided with a network an interrupted run left behind, or with one the engine had handed
  // out itself ("Pool overlaps with other one on this address space").
  const NET = `10.214.${randomInt(256)}`;
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  const base = () => `/api/v1/hosts/${host.id}`;

  const audit = (action: string) => auditEvents(owner, action);

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
  });

  afterAll(async () => {
    await agent?.agent.stop();
    const ids = await docker("ps", "-aq", "--filter", `label=${label}`);
    if (ids) await docker("rm", "-f", ...ids.split("\n"));
    for (const n of (await docker("network", "ls", "-q", "--filter", `label=${label}`)).split("\n").filter(Boolean))
      await docker("network", "rm", n);
    for (const v of (await docker("volume", "ls", "-q", "--filter", `label=${label}`)).split("\n").filter(Boolean))
      await docker("volume", "rm", "-f", v);
  });

  it("creates, lists with usage, inspects and removes volumes; one in use is a 409 in the engine's words", async () => {
    const created = await api(`${base()}/volumes`, { token: member, body: { name: volume, driver: "local", labels } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: volume, driver: "local", managed: true, labels: { ...labels, "dev.pier.managed": "true" } });
    expect(await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume)).toBe(created.body.mountpoint);

    await docker(
      "run",
      "-d",
      "--name",
      container,
      "--label",
      label,
      "-v",
      `${volume}:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "head -c 200000 /dev/zero > /data/f; exec sleep 600",
    );
    const listed = await waitFor("the volume's usage", async () => {
      const res = await api(`${base()}/volumes?usage=true&label=${encodeURIComponent(label)}`, { token: viewer });
      return res.body.volumes?.[0]?.size >= 200000 ? res.body : undefined;
    });
    expect(listed.volumes).toHaveLength(1);
    expect(listed.volumes[0]).toMatchObject({ name: volume, ref_count: 1 });
    const plain = await api(`${base()}/volumes?label=${encodeURIComponent(label)}`, { token: viewer });
    expect(plain.body.volumes[0]).toMatchObject({ name: volume, size: null, ref_count: null });
    expect((await api(`${base()}/volumes/${volume}`, { token: viewer })).body.name).toBe(volume);

    const inUse = await api(`${base()}/volumes/${volume}`, { method: "DELETE", token: member });
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toMatch(/volume is in use/);
    expect(await docker("volume", "ls", "-q", "--filter", `name=^${volume}$`)).toBe(volume);

    expect((await api(`${base()}/volumes/${volume}`, { method: "DELETE", token: viewer })).status).toBe(403);
    await docker("rm", "-f", container);
    const removed = await api(`${base()}/volumes/${volume}`, { method: "DELETE", token: member });
    expect(removed).toMatchObject({ status: 200, body: { name: volume, removed: true } });
    expect(await docker("volume", "ls", "-q", "--filter", `name=^${volume}$`)).toBe("");
    expect((await api(`${base()}/volumes/${volume}`, { token: viewer })).status).toBe(404);
    expect((await audit("volume.remove"))[0]?.metadata).toMatchObject({ name: volume });
    expect((await audit("volume.create"))[0]?.metadata).toMatchObject({ name: volume, driver: "local" });
  });

  it("answers bad names and bad fields with 422 naming the field", async () => {
    const badCreate = await api(`${base()}/volumes`, { token: member, body: { name: "../etc" } });
    expect(badCreate.status).toBe(422);
    expect(badCreate.body.errors[0]).toMatchObject({ pointer: "/body/name", detail: expect.stringMatching(/volume name/) });
    expect((await api(`${base()}/volumes/-x`, { token: viewer })).status).toBe(422);
    expect((await api(`${base()}/networks/a%2Fb`, { token: viewer })).status).toBe(422);
    const badNetwork = await api(`${base()}/networks`, { token: member, body: { name: network, subnet: "10.0.0.0" } });
    expect(badNetwork.status).toBe(422);
    expect(badNetwork.body.errors[0].pointer).toBe("/body/subnet");
    const lonelyGateway = await api(`${base()}/networks`, { token: member, body: { name: network, gateway: "10.9.0.1" } });
    expect(lonelyGateway.status).toBe(422);
    expect(lonelyGateway.body.errors[0]).toMatchObject({ pointer: "/body/subnet", detail: "gateway and ip_range need a subnet" });
    const badIp = await api(`${base()}/networks/${network}/connect`, { token: member, body: { container, ipv4_address: "10.9.0.300" } });
    expect(badIp.status).toBe(422);
  });

  it("creates a network with its addresses, connects a container with aliases and a static IPv4, and refuses to remove it while used", async () => {
    const created = await api(`${base()}/networks`, {
      token: member,
      body: {
        name: network,
        driver: "bridge",
        subnet: `${NET}.0/24`,
        gateway: `${NET}.1`,
        ip_range: `${NET}.128/25`,
        internal: true,
        labels,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(await docker("network", "inspect", "-f", "{{json .IPAM.Config}}", network))).toEqual([
      { Subnet: `${NET}.0/24`, Gateway: `${NET}.1`, IPRange: `${NET}.128/25` },
    ]);
    const twice = await api(`${base()}/networks`, { token: member, body: { name: network } });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toMatch(/already exists/);
    expect((await api(`${base()}/networks`, { token: viewer, body: { name: `${network}-v` } })).status).toBe(403);

    await docker("run", "-d", "--name", container, "--label", label, TEST_IMAGE, "sleep", "600");
    const connected = await api(`${base()}/networks/${network}/connect`, {
      token: member,
      body: { container, aliases: ["db-alias"], ipv4_address: `${NET}.20` },
    });
    expect(connected).toMatchObject({ status: 200, body: { connected: true } });
    const endpoint = JSON.parse(await docker("inspect", "-f", `{{json (index .NetworkSettings.Networks "${network}")}}`, container));
    expect(endpoint.IPAddress).toBe(`${NET}.20`);
    expect(endpoint.Aliases).toContain("db-alias");

    const inspected = await api(`${base()}/networks/${network}`, { token: viewer });
    expect(inspected.body).toMatchObject({
      name: network,
      internal: true,
      managed: true,
      predefined: false,
      subnets: [{ subnet: `${NET}.0/24`, gateway: `${NET}.1`, ip_range: `${NET}.128/25` }],
    });
    expect(inspected.body.containers).toEqual([expect.objectContaining({ name: container, ipv4_address: `${NET}.20/24` })]);
    const listed = await api(`${base()}/networks?label=${encodeURIComponent(label)}`, { token: viewer });
    expect(listed.body.networks.map((n: { name: string }) => n.name)).toEqual([network]);

    const busy = await api(`${base()}/networks/${network}`, { method: "DELETE", token: member });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toMatch(/has active endpoints/);
    const again = await api(`${base()}/networks/${network}/connect`, { token: member, body: { container } });
    expect(again.status).toBe(409);
    expect((await api(`${base()}/networks/${network}/connect`, { token: member, body: { container: "no-such-container-x" } })).status).toBe(
      404,
    );

    expect((await api(`${base()}/networks/${network}/disconnect`, { token: member, body: { container } })).body).toMatchObject({
      disconnected: true,
    });
    expect(await docker("inspect", "-f", "{{len .NetworkSettings.Networks}}", container)).toBe("1");
    expect((await api(`${base()}/networks/${network}`, { method: "DELETE", token: member })).status).toBe(200);
    expect((await api(`${base()}/networks/${network}`, { token: viewer })).status).toBe(404);
    const bridge = await api(`${base()}/networks/bridge`, { method: "DELETE", token: member });
    expect(bridge.status).toBe(409);
    expect(bridge.body.detail).toMatch(/pre-defined network/);
    expect((await audit("network.connect"))[0]?.metadata).toMatchObject({
      network,
      container,
      aliases: ["db-alias"],
      ipv4_address: `${NET}.20`,
    });
    await docker("rm", "-f", container);
  });

  it("prunes volumes (admins only) and networks by label", async () => {
    await api(`${base()}/volumes`, { token: member, body: { name: `${volume}-p`, labels } });
    await api(`${base()}/networks`, { token: member, body: { name: `${network}-p`, labels } });
    expect((await api(`${base()}/volumes/prune`, { token: member, body: { label: [label] } })).status).toBe(403);
    const volumes = await api(`${base()}/volumes/prune`, { token: owner.token, body: { label: [label] } });
    expect(volumes.body).toEqual({ deleted: [`${volume}-p`], space_reclaimed: expect.any(Number) });
    const networks = await api(`${base()}/networks/prune`, { token: member, body: { label: [label] } });
    expect(networks.body).toEqual({ deleted: [`${network}-p`] });
    expect((await audit("volume.prune"))[0]?.metadata).toMatchObject({ deleted: [`${volume}-p`] });
  });

  it("shows the engine's info, version and disk usage like the CLI", async () => {
    const info = await api(`${base()}/system/info`, { token: viewer });
    expect(info.body.ServerVersion).toBe(await docker("version", "--format", "{{.Server.Version}}"));
    const version = await api(`${base()}/system/version`, { token: viewer });
    expect(version.body.ApiVersion).toBe(await docker("version", "--format", "{{.Server.APIVersion}}"));

    // Images change only when a suite builds, imports or removes some, so their row is compared
    // as the CLI prints it; both are read again until they agree, because other files change
    // images meanwhile, and Docker 20.10's CLI fails outright when another disk usage is running.
    const { df, cli } = await waitFor(
      "the API's and the CLI's disk usage to agree on the images",
      async () => {
        const df = await api(`${base()}/system/df`, { token: viewer });
        if (df.status !== 200) throw new Error(`system/df answered ${df.status}: ${JSON.stringify(df.body)}`);
        const cli = (await docker("system", "df", "--format", "{{json .}}"))
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, string>);
        const cliImages = cli.find((r) => r.Type === "Images");
        return cliImages && Math.abs(df.body.rows[0].total - Number(cliImages.TotalCount)) <= 3 ? { df, cli } : undefined;
      },
      { timeout: 120_000 },
    );
    expect(df.body.rows.map((r: { type: string }) => r.type)).toEqual(["Images", "Containers", "Local Volumes", "Build Cache"]);
    for (const row of df.body.rows) {
      expect(row.size_text).toMatch(/^\d+(\.\d+)?[kMGT]?B$/);
      expect(row.reclaimable).toBeLessThanOrEqual(row.size);
      expect(cli.some((r) => r.Type === row.type)).toBe(true);
    }
  });

  it("prunes the system as a task with progress and a result; volumes only when asked, and only by an admin", async () => {
    await docker("create", "--name", `${container}-old`, "--label", label, TEST_IMAGE, "true");
    await api(`${base()}/volumes`, { token: member, body: { name: `${volume}-s`, labels } });
    await api(`${base()}/networks`, { token: member, body: { name: `${network}-s`, labels } });

    const started = await api(`${base()}/system/prune`, { token: member, body: { label: [label] } });
    expect(started.status).toBe(202);
    expect(started.body.task).toMatchObject({ kind: "system.prune", target_id: host.id });
    const task = await taskEnd(viewer, started.body.task_id);
    expect(task).toMatchObject({ status: "succeeded", progress: 100, message: expect.stringMatching(/^Total reclaimed space: \d/) });
    expect(task.result.containers).toHaveLength(1);
    expect(task.result.networks).toEqual([`${network}-s`]);
    expect(task.result.volumes).toEqual([]);
    expect(await docker("ps", "-aq", "--filter", `name=${container}-old`)).toBe("");
    expect(await docker("volume", "ls", "-q", "--filter", `name=${volume}-s`)).toBe(`${volume}-s`);

    const denied = await api(`${base()}/system/prune`, { token: member, body: { label: [label], volumes: true } });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toMatch(/admin/);
    const withVolumes = await api(`${base()}/system/prune`, { token: owner.token, body: { label: [label], volumes: true } });
    const done = await taskEnd(owner.token, withVolumes.body.task_id);
    expect(done.result.volumes).toEqual([`${volume}-s`]);
    expect((await audit("system.prune"))[0]?.metadata).toMatchObject({ volumes: true, label: [label], task_id: withVolumes.body.task_id });
    expect((await api(`${base()}/system/prune`, { token: member, body: { until: "yesterday" } })).status).toBe(422);
  });

  it("shows another organization nothing", async () => {
    const stranger = await newOwner("stranger");
    for (const path of ["volumes", "networks", "system/df", "system/info", `volumes/${volume}`]) {
      expect((await api(`${base()}/${path}`, { token: stranger.token })).status).toBe(404);
    }
    expect((await api(`${base()}/system/prune`, { token: stranger.token, body: {} })).status).toBe(404);
    expect((await api(`${base()}/networks`, { token: stranger.token, body: { name: `${network}-x` } })).status).toBe(404);
  });
});
