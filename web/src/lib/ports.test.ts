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

  it("reads a host port to publish on before a colon", () => {
    expect(parsePorts("8080:80, 5353:53/udp, 81")).toEqual([
      { container_port: 80, host_port: 8080 },
      { container_port: 53, host_port: 5353, protocol: "udp" },
      { container_port: 81 },
    ]);
  });

  it("refuses what is not a port", () => {
    for (const text of ["0", "65536", "http", "80/sctp", "80-90", "80 81", "0:80", "80:0", ":80", "70000:80", "1:2:3"])
      expect(parsePorts(text), text).toBeUndefined();
  });

  it("writes back what it reads", () => {
    const ports = parsePorts("80, 53/udp, 8080:8000")!;
    expect(portsText(ports)).toBe("80, 53/udp, 8080:8000");
    expect(parsePorts(portsText(ports))).toEqual(ports);
  });
});
