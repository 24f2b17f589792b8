import { describe, expect, it } from "vitest";
import { parsePorts, portsText } from "./ports.ts";

describe("parsePorts", () => {
  it("reads container ports separated by commas, with an optional protocol", () => {
    expect(parsePorts("80, 443,53/udp , 8080/TCP")).toEqual([
      { container_port: 80 },
      { container_port: 443 },
      { container_port: 53, protocol: "udp" },
      { container_port: 8080, protocol: "tcp" },
    ]);
    expect(parsePorts("  ")).toEqual([]);
    expect(parsePorts("80,,81")).toEqual([{ container_port: 80 }, { container_port: 81 }]);
  });

  it("refuses what is not a port", () => {
    for (const text of ["0", "65536", "http", "80/sctp", "80-90", "80 81"]) expect(parsePorts(text), text).toBeUndefined();
  });

  it("writes back what it reads", () => {
    const ports = parsePorts("80, 53/udp")!;
    expect(portsText(ports)).toBe("80, 53/udp");
    expect(parsePorts(portsText(ports))).toEqual(ports);
  });
});
