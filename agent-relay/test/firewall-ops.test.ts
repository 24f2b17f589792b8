// Firewall groups on the host against the real engine and the real iptables: two containers on one
// network, reachability checked from inside one of them before and after each ruleset, through the
// agent's own op handlers (arguments through the protocol's schema, as the executor runs them).
import { execFile } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkWriter } from "../src/chunker.ts";
import { DockerClient } from "../src/docker/client.ts";
import { toRelayError } from "../src/errors.ts";
import { EventForwarder } from "../src/events.ts";
import { HostFirewall } from "../src/firewall.ts";
import { createLogger } from "../src/log.ts";
import { handlers, type OpContext } from "../src/ops/index.ts";
import { firewallChainName, OPS, type FirewallRule, type OpArgs, type OpName, type OpResult } from "../src/protocol.ts";
import { waitFor } from "../../test/support/wait.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const available = await requireDocker("agent-relay/test/firewall-ops.test.ts");
const docker = new DockerClient({ host: process.env.DOCKER_HOST });
const cli = (...args: string[]) => exec("docker", args, { timeout: 60_000 }).then((r) => r.stdout.trim());
const iptables = (...args: string[]) => exec("iptables", ["-w", "10", ...args]).then((r) => r.stdout);
const log = createLogger({ level: "error", sink: () => undefined });

async function op<O extends OpName>(firewall: HostFirewall, name: O, args: OpArgs<O>): Promise<OpResult<O>> {
  const signal = AbortSignal.timeout(60_000);
  const output = new ChunkWriter({ send: () => true, buffered: () => 0, signal });
  const ctx: OpContext = { docker, signal, output, stats: { all: () => [] }, firewall };
  const parsed = OPS[name].args.parse(args) as OpArgs<O>;
  return (await (handlers[name] as (a: OpArgs<O>, c: OpContext) => Promise<unknown>)(parsed, ctx)) as OpResult<O>;
}

describe.skipIf(!available.available)("firewall groups on the real engine and iptables", () => {
  const tag = randomUUID().replaceAll("-", "").slice(0, 12);
  const network = `pier-fw-net-${tag}`;
  const [a, b, filler] = [`pier-fw-a-${tag}`, `pier-fw-b-${tag}`, `pier-fw-f-${tag}`];
  const server = `srv_fwtest${tag}`;
  const chain = firewallChainName(server);
  const firewall = new HostFirewall(docker, log);
  // The agent's event feed, as startAgent wires it: the firewall sees every event.
  const events = new EventForwarder(docker, log, { send: () => true, observe: (event) => firewall.onEvent(event) });
  const address = (name: string) => cli("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name);
  /** Whether `from` gets A's page over HTTP (busybox nc: a 2 s connect timeout inside the container). */
  const reaches = async (from: string, ip: string) => {
    try {
      const out = await cli("exec", from, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 8080`);
      return out.includes("pier test image");
    } catch {
      return false;
    }
  };
  const jumps = async () => (await iptables("-S", "DOCKER-USER")).split("\n").filter((l) => l.endsWith(`-j ${chain}`));
  const base = { server, container: a, default_outbound: "allow" as const };
  let ipA = "";
  let ipB = "";

  beforeAll(async () => {
    await docker.negotiateApiVersion(AbortSignal.timeout(10_000));
    events.start();
    await events.subscribed;
    // A subnet of our own, so the test can hand A's address to another container.
    for (let attempt = 0; ; attempt++) {
      const subnet = `10.${200 + randomInt(50)}.${randomInt(250)}.0/24`;
      try {
        await cli("network", "create", "--label", `dev.pier.test=${tag}`, "--subnet", subnet, network);
        break;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
    const httpd = ["httpd", "-f", "-p", "8080", "-h", "/www"];
    await cli("run", "-d", "--name", a, "--label", `dev.pier.test=${tag}`, "--network", network, TEST_IMAGE, ...httpd);
    await cli("run", "-d", "--name", b, "--label", `dev.pier.test=${tag}`, "--network", network, TEST_IMAGE, "sleep", "3600");
    [ipA, ipB] = [await address(a), await address(b)];
    await waitFor("A's httpd to answer B", () => reaches(b, ipA));
  });

  afterAll(async () => {
    firewall.stop();
    await events.stop();
    await firewall.remove(server, AbortSignal.timeout(30_000)).catch(() => undefined);
    await cli("rm", "-f", a, b, filler).catch(() => undefined);
    await cli("network", "rm", network).catch(() => undefined);
    await docker.close();
    expect(await iptables("-S")).not.toContain(chain);
  });

  it("denies by the group's inbound default, lets an allowed address through, re-applies idempotently", async () => {
    const applied = await op(firewall, "firewall.apply", { ...base, rules: [], default_inbound: "deny" });
    expect(applied).toMatchObject({ server, chain, addresses: [ipA], rules: 0 });
    expect((await jumps()).sort()).toEqual([`-A DOCKER-USER -d ${ipA}/32 -j ${chain}`, `-A DOCKER-USER -s ${ipA}/32 -j ${chain}`].sort());
    expect(await reaches(b, ipA)).toBe(false);

    const allowB: FirewallRule = {
      id: "fwr_allowb",
      direction: "in",
      protocol: "tcp",
      port_from: 8080,
      cidr: `${ipB}/32`,
      action: "allow",
    };
    await op(firewall, "firewall.apply", { ...base, rules: [allowB], default_inbound: "deny" });
    expect(await reaches(b, ipA)).toBe(true);
    const once = await iptables("-S", chain);
    expect(once).toContain("pier:fwr_allowb");

    await op(firewall, "firewall.apply", { ...base, rules: [allowB], default_inbound: "deny" });
    expect(await iptables("-S", chain)).toBe(once);
    expect(await jumps()).toHaveLength(2);
    expect((await op(firewall, "firewall.list", {})).chains).toContainEqual({ chain, addresses: [ipA] });
  });

  it("an explicit deny rule blocks only what it names", async () => {
    const denyB: FirewallRule = { direction: "in", protocol: "tcp", port_from: 8000, port_to: 8090, cidr: `${ipB}/32`, action: "deny" };
    await op(firewall, "firewall.apply", { ...base, rules: [denyB], default_inbound: "allow" });
    expect(await reaches(b, ipA)).toBe(false);
    // B's own outbound chain is untouched: B is not a server here, so only A's inbound rules count.
    await op(firewall, "firewall.apply", { ...base, rules: [{ ...denyB, port_from: 9000, port_to: 9001 }], default_inbound: "allow" });
    expect(await reaches(b, ipA)).toBe(true);
  });

  it("follows the container to its new address when it restarts, and leaves its old address to whoever gets it", async () => {
    await op(firewall, "firewall.apply", { ...base, rules: [], default_inbound: "deny" });
    expect(await reaches(b, ipA)).toBe(false);
    const old = ipA;
    await cli("stop", "-t", "1", a);
    await waitFor("the jumps to go with the stopped container's address", async () => ((await jumps()).length === 0 ? true : undefined));
    // Another container takes the freed address …
    await cli(
      "run",
      "-d",
      "--name",
      filler,
      "--label",
      `dev.pier.test=${tag}`,
      "--network",
      network,
      "--ip",
      old,
      TEST_IMAGE,
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/www",
    );
    await waitFor("the filler's httpd to answer B at A's old address", () => reaches(b, old));
    // … so A comes back on another one, and its rules come with it.
    await cli("start", a);
    ipA = await address(a);
    expect(ipA).not.toBe(old);
    await waitFor("the jumps to follow A to its new address", async () =>
      (await jumps()).some((j) => j.includes(`${ipA}/32`)) ? true : undefined,
    );
    // A's httpd is up (asked from inside A, where the firewall does not apply), and B is kept out.
    await waitFor("A's httpd to be up again", () => reaches(a, "127.0.0.1"));
    expect(await reaches(b, ipA)).toBe(false);
    expect(await reaches(b, old)).toBe(true);
  });

  it("remove takes the chain and its jumps away, and is idempotent", async () => {
    expect(await op(firewall, "firewall.remove", { server })).toEqual({ server, chain, removed: true });
    expect(await jumps()).toEqual([]);
    expect(await iptables("-S")).not.toContain(chain);
    expect(await reaches(b, ipA)).toBe(true);
    expect(await op(firewall, "firewall.remove", { server })).toEqual({ server, chain, removed: false });
  });

  it("says plainly when the agent may not change iptables, or has no iptables", async () => {
    const unprivileged = new HostFirewall(docker, log, {
      iptables: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "iptables"],
    });
    const refused = toRelayError(await op(unprivileged, "firewall.apply", { ...base, rules: [], default_inbound: "deny" }).catch((e) => e));
    expect(refused.code).toBe("firewall_unavailable");
    expect(refused.message).toMatch(/may not change iptables.*Permission denied.*run it as root, or give its container NET_ADMIN/);

    const missing = new HostFirewall(docker, log, { iptables: [`/nonexistent-${tag}/iptables`] });
    const absent = toRelayError(await op(missing, "firewall.list", {}).catch((e) => e));
    expect(absent).toMatchObject({ code: "firewall_unavailable" });
    expect(absent.message).toContain("is not installed on this host");
    expect(await iptables("-S")).not.toContain(chain);
  });
});
