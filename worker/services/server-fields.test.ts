import { describe, expect, it } from "vitest";
import { expandIpRange, firstHostAddress, inSubnet, subnetCidr } from "./server-fields.ts";

describe("server addresses", () => {
  it("reads the documents' subnet as a prefix length, a netmask or a CIDR block, placed by the gateway", () => {
    expect(subnetCidr("24", "192.168.0.1")).toBe("192.168.0.0/24");
    expect(subnetCidr(16, "10.20.30.40")).toBe("10.20.0.0/16");
    expect(subnetCidr("255.255.255.0", "192.168.7.9")).toBe("192.168.7.0/24");
    expect(subnetCidr("10.1.2.3/24", undefined)).toBe("10.1.2.0/24");
    expect(subnetCidr("24", undefined)).toBeUndefined();
    expect(subnetCidr("33", "10.0.0.1")).toBeUndefined();
    expect(subnetCidr("banana", "10.0.0.1")).toBeUndefined();
  });

  it("expands a range in order, or a CIDR block without its network and broadcast addresses; refuses a reversed or oversized one", () => {
    expect(expandIpRange("192.168.0.21-192.168.0.23")).toEqual(["192.168.0.21", "192.168.0.22", "192.168.0.23"]);
    expect(expandIpRange("10.0.0.254-10.0.1.1")).toEqual(["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
    expect(expandIpRange("10.9.0.0/30")).toEqual(["10.9.0.1", "10.9.0.2"]);
    expect(expandIpRange("192.168.0.30-192.168.0.21")).toBeUndefined();
    expect(expandIpRange("10.0.0.0/8")).toBeUndefined();
    expect(expandIpRange("192.168.0.21")).toBeUndefined();
    expect(firstHostAddress("10.215.3.0/24")).toBe("10.215.3.1");
    expect(inSubnet("10.215.3.40", "10.215.3.0/24")).toBe(true);
    expect(inSubnet("10.215.4.40", "10.215.3.0/24")).toBe(false);
  });
});
