// The pure parts of the database and container backup sources: a server's version from its
// binary's `--version` line (as the test images print them), and how a container ran, from its
// inspect document, as the committed image's label keeps it.
import { describe, expect, it } from "vitest";
import { runSpecOf, serverVersionOf } from "./database-backups.ts";

describe("serverVersionOf", () => {
  it("reads each engine's --version line", () => {
    expect(serverVersionOf("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)")).toBe("15.18");
    expect(serverVersionOf("mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)")).toBe(
      "10.11.18-MariaDB-0+deb12u1",
    );
    expect(serverVersionOf("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=e08dbad3e06f3fb")).toBe("7.0.15");
    expect(serverVersionOf('db version v7.0.14\nBuild Info: {\n    "version": "7.0.14",')).toBe("7.0.14");
    expect(serverVersionOf("sh: postgres: not found")).toBeNull();
  });
});

describe("runSpecOf", () => {
  it("keeps ports, mounts, restart policy and a user-defined network; leaves Docker's defaults out", () => {
    const spec = runSpecOf({
      Name: "/shop-web",
      HostConfig: {
        PortBindings: { "8080/tcp": [{ HostIp: "", HostPort: "18080" }], "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }] },
        RestartPolicy: { Name: "unless-stopped" },
        NetworkMode: "pier-prj_1",
      },
      Mounts: [
        { Type: "volume", Name: "shop-data", Destination: "/data", RW: true },
        { Type: "bind", Source: "/srv/config", Destination: "/config", RW: false },
        { Type: "tmpfs", Destination: "/tmp" },
      ],
    });
    expect(spec).toEqual({
      name: "shop-web",
      ports: [
        { container_port: 8080, host_port: 18080 },
        { container_port: 53, protocol: "udp", host_port: 5353, host_ip: "127.0.0.1" },
      ],
      volumes: [
        { source: "shop-data", target: "/data" },
        { source: "/srv/config", target: "/config", read_only: true },
      ],
      restart_policy: "unless-stopped",
      network: "pier-prj_1",
    });
    expect(runSpecOf({ Name: "/x", HostConfig: { NetworkMode: "default", RestartPolicy: { Name: "" } } })).toEqual({
      name: "x",
      ports: [],
      volumes: [],
    });
  });
});
