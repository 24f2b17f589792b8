// The agent's volume, network and housekeeping operations against the real engine, called
// directly (no control plane), each checked against the `docker` CLI, failure paths included.
import { execFile } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkWriter } from "../src/chunker.ts";
import { DockerClient } from "../src/docker/client.ts";
import { handlers, type OpContext } from "../src/ops/index.ts";
import { OPS, type OpArgs, type OpName, type OpResult } from "../src/protocol.ts";
import { waitFor } from "../../test/support/wait.ts";
import { failure } from "./op-failure.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const available = await requireDocker("agent-relay/test/housekeeping-ops.test.ts");
const docker = new DockerClient({ host: process.env.DOCKER_HOST });
const cli = (...args: string[]) => exec("docker", args).then((r) => r.stdout.trim());

/** Runs an op as the executor would: arguments through the protocol's schema first. */
async function op<O extends OpName>(name: O, args: OpArgs<O>): Promise<{ result: OpResult<O>; output: string }> {
  const signal = AbortSignal.timeout(60_000);
  let text = "";
  const output = new ChunkWriter({ send: (data) => ((text += data), true), buffered: () => 0, signal, flushMs: 1 });
  const ctx: OpContext = { docker, signal, output, stats: { all: () => [] } };
  const parsed = OPS[name].args.parse(args) as OpArgs<O>;
  const result = (await (handlers[name] as (a: OpArgs<O>, c: OpContext) => Promise<unknown>)(parsed, ctx)) as OpResult<O>;
  await output.flush();
  return { result, output: text };
}

describe.skipIf(!available.available)("volume, network and system operations on the real engine", () => {
  const tag = randomUUID().slice(0, 8);
  const label = `dev.pier.test=${tag}`;
  const volume = `pier-vns-${tag}`;
  const network = `pier-vns-net-${tag}`;
  const container = `pier-vns-c-${tag}`;

  beforeAll(async () => {
    await docker.negotiateApiVersion(AbortSignal.timeout(10_000));
  });
  afterAll(async () => {
    await cli("rm", "-f", container, `${container}-s`).catch(() => undefined);
    await cli("network", "rm", network).catch(() => undefined);
    await cli("volume", "rm", "-f", volume).catch(() => undefined);
    await docker.close();
  });

  it("creates, lists with usage, inspects and removes a volume; one in use is a conflict with the engine's words", async () => {
    const { result: created } = await op("volume.create", { name: volume, labels: { "dev.pier.test": tag }, driver_opts: {} });
    expect(created).toMatchObject({ Name: volume, Driver: "local", Labels: { "dev.pier.test": tag, "dev.pier.managed": "true" } });
    expect(await cli("volume", "inspect", "-f", "{{.Labels}}", volume)).toContain(`dev.pier.test:${tag}`);

    await cli(
      "run",
      "-d",
      "--name",
      container,
      "-v",
      `${volume}:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "head -c 300000 /dev/zero > /data/blob; exec sleep 300",
    );
    await expect
      .poll(async () => (await op("volume.list", { usage: true, label: [label] })).result.volumes[0]?.UsageData)
      .toEqual({ Size: expect.any(Number), RefCount: 1 });
    const { result: listed } = await op("volume.list", { usage: true, label: [label] });
    expect(listed.volumes.map((v) => v.Name)).toEqual([volume]);
    expect(listed.volumes[0]!.UsageData!.Size).toBeGreaterThanOrEqual(300000);
    expect((await op("volume.inspect", { name: volume })).result.Mountpoint).toBe(
      await cli("volume", "inspect", "-f", "{{.Mountpoint}}", volume),
    );

    const inUse = await failure(op("volume.remove", { name: volume }));
    expect(inUse).toMatchObject({ code: "conflict", status: 409, message: expect.stringMatching(/volume is in use/) });
    expect(await failure(op("volume.inspect", { name: `${volume}-missing` }))).toMatchObject({ code: "not_found", status: 404 });

    await cli("rm", "-f", container);
    expect((await op("volume.remove", { name: volume })).result).toEqual({ name: volume, removed: true });
    expect(await cli("volume", "ls", "-q", "--filter", `name=^${volume}$`)).toBe("");
  });

  it("prunes only the unused volumes the label picks", async () => {
    const keep = `${volume}-keep`;
    await op("volume.create", { name: `${volume}-a`, labels: { "dev.pier.test": tag } });
    await op("volume.create", { name: keep, labels: { "dev.pier.test": `${tag}-other` } });
    const { result } = await op("volume.prune", { label: [label] });
    expect(result.deleted).toEqual([`${volume}-a`]);
    expect(await cli("volume", "ls", "-q", "--filter", `name=${keep}`)).toBe(keep);
    await cli("volume", "rm", keep);
  });

  it("creates a network with its addresses, connects a container with aliases and a static IPv4, and refuses to remove it while used", async () => {
    // A subnet of this run's own, outside Docker's default pools (172.17-31/16, 192.168/20s): a fixed
    // one collided with a network an interrupted run left behind, or with one the engine had handed
    // out itself ("Pool overlaps with other one on this address space").
    const NET = `10.215.${randomInt(256)}`;
    const { result: created } = await op("network.create", {
      name: network,
      driver: "bridge",
      subnet: `${NET}.0/24`,
      gateway: `${NET}.1`,
      ip_range: `${NET}.128/25`,
      internal: true,
      labels: { "dev.pier.test": tag },
    });
    expect(created.id).toMatch(/^[0-9a-f]{64}$/);
    const inspected = (await op("network.inspect", { id: network })).result as {
      Internal: boolean;
      IPAM: { Config: Array<{ Subnet: string; Gateway: string; IPRange: string }> };
      Labels: Record<string, string>;
    };
    expect(inspected.Internal).toBe(true);
    expect(inspected.IPAM.Config[0]).toEqual({ Subnet: `${NET}.0/24`, Gateway: `${NET}.1`, IPRange: `${NET}.128/25` });
    expect(inspected.Labels["dev.pier.managed"]).toBe("true");

    const twice = await failure(op("network.create", { name: network }));
    expect(twice).toMatchObject({ code: "conflict", status: 409, message: expect.stringMatching(/already exists/) });

    await cli("run", "-d", "--name", container, TEST_IMAGE, "sleep", "300");
    await op("network.connect", { id: network, container, aliases: ["db-alias"], ipv4_address: `${NET}.20` });
    const attached = JSON.parse(await cli("inspect", "-f", `{{json (index .NetworkSettings.Networks "${network}")}}`, container));
    expect(attached.IPAddress).toBe(`${NET}.20`);
    expect(attached.Aliases).toContain("db-alias");
    expect(await cli("exec", container, "ip", "-4", "addr")).toContain(`${NET}.20`);

    const used = await failure(op("network.remove", { id: network }));
    expect(used).toMatchObject({ code: "conflict", status: 403, message: expect.stringMatching(/has active endpoints/) });
    const listed = (await op("network.list", { label: [label] })).result;
    expect(listed.map((n) => n.Name)).toEqual([network]);

    expect((await op("network.disconnect", { id: network, container })).result).toMatchObject({ disconnected: true });
    expect(await failure(op("network.disconnect", { id: `${network}-missing`, container }))).toMatchObject({ code: "not_found" });
    expect((await op("network.remove", { id: network })).result).toEqual({ id: network, removed: true });
    await cli("rm", "-f", container);
    expect(await failure(op("network.remove", { id: "bridge" }))).toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/pre-defined/),
    });
  });

  it("prunes networks by label", async () => {
    await op("network.create", { name: `${network}-p`, labels: { "dev.pier.test": tag } });
    expect((await op("network.prune", { label: [label] })).result.deleted).toEqual([`${network}-p`]);
  });

  it("reports disk usage like `docker system df`", async () => {
    const { result } = await op("system.df", {});
    expect(result.rows.map((r) => r.type)).toEqual(["Images", "Containers", "Local Volumes", "Build Cache"]);
    // Counts are exact; the CLI's own numbers may move while other tests run, so compare images,
    // which only this machine's setup creates.
    // Docker 20.10's CLI fails outright while another disk usage runs (another file's), and other
    // files add and remove images: read both again until they agree.
    await waitFor("the CLI's image count to agree", async () => {
      const { result: now } = await op("system.df", {});
      const cliRows = (await cli("system", "df", "--format", "{{json .}}"))
        .split("\n")
        .map((l) => JSON.parse(l) as { Type: string; TotalCount: number });
      const images = cliRows.find((r) => r.Type === "Images")!;
      return Math.abs(now.rows[0]!.total - Number(images.TotalCount)) <= 2;
    });
    for (const row of result.rows) expect(row.reclaimable).toBeLessThanOrEqual(row.size);
  });

  it("measures disk usage asked for several times at once (Docker before 23.0 measures one at a time and refuses the rest)", async () => {
    await op("volume.create", { name: `${volume}-df`, labels: { "dev.pier.test": tag } });
    try {
      // Two people on the dashboard, or the Volumes tab and the System page: each call is answered.
      const [df1, sized1, df2, sized2, df3] = await Promise.all([
        op("system.df", {}),
        op("volume.list", { usage: true, label: [label] }),
        op("system.df", {}),
        op("volume.list", { usage: true, label: [label] }),
        op("system.df", {}),
      ]);
      for (const { result } of [df1, df2, df3])
        expect(result.rows.map((r) => r.type)).toEqual(["Images", "Containers", "Local Volumes", "Build Cache"]);
      for (const { result } of [sized1, sized2]) {
        expect(result.volumes.map((v) => [v.Name, v.UsageData?.RefCount])).toEqual([[`${volume}-df`, 0]]);
      }
    } finally {
      await cli("volume", "rm", "-f", `${volume}-df`);
    }
  });

  it("prunes the system as a stream of steps; volumes only when asked", async () => {
    await cli("create", "--name", `${container}-s`, "--label", label, TEST_IMAGE, "true");
    await op("volume.create", { name: `${volume}-s`, labels: { "dev.pier.test": tag } });
    await op("network.create", { name: `${network}-s`, labels: { "dev.pier.test": tag } });

    const first = await op("system.prune", { label: [label] });
    expect(first.result.containers).toHaveLength(1);
    expect(first.result.networks).toEqual([`${network}-s`]);
    expect(first.result.volumes).toEqual([]);
    const steps = first.output
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { progress: number; status: string });
    expect(steps.map((s) => s.status).slice(0, 4)).toEqual([
      "Pruning containers",
      "Pruning networks",
      "Pruning images",
      "Pruning build cache",
    ]);
    expect(steps.at(-1)!.progress).toBe(100);
    expect(await cli("volume", "ls", "-q", "--filter", `name=${volume}-s`)).toBe(`${volume}-s`);

    const second = await op("system.prune", { label: [label], volumes: true });
    expect(second.result.volumes).toEqual([`${volume}-s`]);
    expect(second.output).toContain("Pruning volumes");
  });
});
