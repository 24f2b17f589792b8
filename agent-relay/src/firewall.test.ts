import { describe, expect, it } from "vitest";
import { containerAddresses, parseChains, renderApply, renderRemove } from "./firewall.ts";
import { FirewallApplyArgs, firewallChainName } from "./protocol.ts";

describe("firewall rulesets as iptables-restore input", () => {
  it("names a server's chain PIER- and the random part of its id, within iptables' 28 characters", () => {
    expect(firewallChainName("srv_0123456789abcdefghij")).toBe("PIER-0123456789abcdefghij");
    expect(firewallChainName("srv_0123456789abcdefghijklmnopqrstuvwxyz").length).toBeLessThanOrEqual(28);
  });

  it("writes rules per direction for each address, the defaults after them, and swaps the jumps in one transaction", () => {
    const text = renderApply(
      "PIER-abc",
      ["172.20.0.2"],
      {
        rules: [
          { id: "fwr_1", direction: "in", protocol: "tcp", port_from: 8000, port_to: 8100, cidr: "10.0.0.0/8", action: "allow" },
          { direction: "out", protocol: "udp", port_from: 53, action: "deny" },
          { direction: "in", protocol: "icmp", action: "deny" },
          { direction: "in", protocol: "all", cidr: "0.0.0.0/0", action: "allow" },
        ],
        default_inbound: "deny",
        default_outbound: "allow",
      },
      ["-A DOCKER-USER -d 172.20.0.9/32 -j PIER-abc"],
    );
    expect(text.split("\n")).toEqual([
      "*filter",
      ":PIER-abc - [0:0]",
      "-A PIER-abc -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-A PIER-abc -d 172.20.0.2/32 -s 10.0.0.0/8 -p tcp -m tcp --dport 8000:8100 -m comment --comment pier:fwr_1 -j RETURN",
      "-A PIER-abc -d 172.20.0.2/32 -p icmp -j DROP",
      "-A PIER-abc -d 172.20.0.2/32 -j RETURN",
      "-A PIER-abc -d 172.20.0.2/32 -j DROP",
      "-A PIER-abc -s 172.20.0.2/32 -p udp -m udp --dport 53 -j DROP",
      "-D DOCKER-USER -d 172.20.0.9/32 -j PIER-abc",
      "-I DOCKER-USER 1 -d 172.20.0.2/32 -j PIER-abc",
      "-I DOCKER-USER 1 -s 172.20.0.2/32 -j PIER-abc",
      "COMMIT",
      "",
    ]);
  });

  it("builds the chain without jumps when the container has no address (stopped or not created yet)", () => {
    const text = renderApply("PIER-abc", [], { rules: [], default_inbound: "deny", default_outbound: "deny" }, []);
    expect(text).not.toContain("DOCKER-USER");
    expect(text).toContain(":PIER-abc - [0:0]");
  });

  it("removes the jumps, then the chain", () => {
    expect(renderRemove("PIER-abc", ["-A DOCKER-USER -s 172.20.0.2/32 -j PIER-abc"]).split("\n")).toEqual([
      "*filter",
      "-D DOCKER-USER -s 172.20.0.2/32 -j PIER-abc",
      "-F PIER-abc",
      "-X PIER-abc",
      "COMMIT",
      "",
    ]);
  });

  it("reads the PIER- chains and their addresses from iptables -S", () => {
    const chains = parseChains(
      [
        "-P FORWARD DROP",
        "-N DOCKER-USER",
        "-N PIER-abc",
        "-N PIER-def",
        "-A DOCKER-USER -s 172.20.0.2/32 -j PIER-abc",
        "-A DOCKER-USER -d 172.20.0.2/32 -j PIER-abc",
        "-A DOCKER-USER -j RETURN",
        "-A PIER-abc -j RETURN",
      ].join("\n"),
    );
    expect([...chains.keys()]).toEqual(["PIER-abc", "PIER-def"]);
    expect(chains.get("PIER-abc")).toEqual({
      jumps: ["-A DOCKER-USER -s 172.20.0.2/32 -j PIER-abc", "-A DOCKER-USER -d 172.20.0.2/32 -j PIER-abc"],
      addresses: ["172.20.0.2"],
    });
    expect(chains.get("PIER-def")).toEqual({ jumps: [], addresses: [] });
  });

  it("takes a running container's IPv4 addresses on every network, none when it is stopped", () => {
    const inspect = {
      State: { Running: true },
      NetworkSettings: { Networks: { a: { IPAddress: "172.20.0.3" }, b: { IPAddress: "172.21.0.2" }, host: { IPAddress: "" } } },
    };
    expect(containerAddresses(inspect)).toEqual(["172.20.0.3", "172.21.0.2"]);
    expect(containerAddresses({ ...inspect, State: { Running: false } })).toEqual([]);
  });

  it("refuses ports on icmp, a range that runs backwards, and a peer that is not an IPv4 block", () => {
    const base = { server: "srv_x", container: "c", default_inbound: "allow", default_outbound: "allow" };
    const issues = (rule: object) =>
      FirewallApplyArgs.safeParse({ ...base, rules: [rule] }).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(issues({ direction: "in", protocol: "icmp", port_from: 1, action: "deny" })).toEqual([
      "rules.0.port_from: ports apply to tcp and udp only",
    ]);
    expect(issues({ direction: "in", protocol: "tcp", port_from: 90, port_to: 80, action: "deny" })).toEqual([
      "rules.0.port_to: port_to needs a port_from no greater than it",
    ]);
    expect(issues({ direction: "in", protocol: "tcp", cidr: "fe80::/10", action: "deny" })[0]).toContain("IPv4 CIDR");
    expect(issues({ direction: "in", protocol: "tcp", port_from: 80, port_to: 81, cidr: "10.1.2.0/24", action: "allow" })).toEqual([]);
  });
});
