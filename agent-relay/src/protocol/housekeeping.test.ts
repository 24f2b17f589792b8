import { describe, expect, it } from "vitest";
import { commandTimeoutMs, isStreaming, OPS } from "../protocol.ts";

const ok = (op: keyof typeof OPS, args: unknown) => OPS[op].args.safeParse(args).success;

describe("volume, network and system operations", () => {
  it("take volume names by moby's grammar", () => {
    expect(ok("volume.create", { name: "pg-data_1.v2" })).toBe(true);
    expect(ok("volume.create", {})).toBe(true);
    for (const name of ["a", "-x", "../etc", "x/y", "has space", "é-ö"]) expect(ok("volume.remove", { name })).toBe(false);
    expect(ok("volume.create", { name: "v1", labels: { "": "x" } })).toBe(false);
  });

  it("check a network's addresses: CIDR subnets and ranges, an IP gateway, both only with a subnet", () => {
    expect(ok("network.create", { name: "app-net", subnet: "172.30.0.0/16", gateway: "172.30.0.1", ip_range: "172.30.5.0/24" })).toBe(true);
    expect(ok("network.create", { name: "v6", subnet: "fd00:1::/64", enable_ipv6: true })).toBe(true);
    expect(ok("network.create", { name: "app-net", subnet: "172.30.0.0" })).toBe(false);
    expect(ok("network.create", { name: "app-net", subnet: "172.30.0.0/16", gateway: "not-an-ip" })).toBe(false);
    const alone = OPS["network.create"].args.safeParse({ name: "app-net", gateway: "172.30.0.1" });
    expect(alone.success).toBe(false);
    expect(alone.error?.issues[0]).toMatchObject({ path: ["subnet"], message: "gateway and ip_range need a subnet" });
    expect(ok("network.create", { name: "bad/name" })).toBe(false);
    expect(ok("network.connect", { id: "app-net", container: "web", aliases: ["db", "db.internal"], ipv4_address: "172.30.5.9" })).toBe(
      true,
    );
    expect(ok("network.connect", { id: "app-net", container: "web", ipv4_address: "172.30.5.300" })).toBe(false);
    expect(ok("network.disconnect", { id: "..", container: "web" })).toBe(false);
  });

  it("prune the system as a stream, volumes only when asked, `until` in Docker's forms", () => {
    expect(isStreaming("system.prune", {})).toBe(true);
    expect(isStreaming("system.df", {})).toBe(false);
    for (const until of ["24h", "1h30m", "1700000000", "2026-01-02T03:04:05Z", "2026-01-02"])
      expect(ok("system.prune", { until })).toBe(true);
    for (const until of ["yesterday", "24 h", "-1h"]) expect(ok("system.prune", { until })).toBe(false);
    expect(commandTimeoutMs("system.prune", {})).toBe(30 * 60_000);
  });
});
