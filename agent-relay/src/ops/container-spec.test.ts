import { describe, expect, it } from "vitest";
import { planContainerCreate } from "./container-spec.ts";

describe("planContainerCreate", () => {
  it("maps every option onto the Engine API's shape", () => {
    const plan = planContainerCreate({
      name: "web",
      image: "nginx:1.27",
      cmd: ["nginx", "-g", "daemon off;"],
      env: { A: "1", B: "two=2" },
      ports: [
        { container_port: 80, host_port: 8080 },
        { container_port: 53, protocol: "udp" },
      ],
      volumes: [
        { source: "/srv/www", target: "/usr/share/nginx/html", read_only: true },
        { source: "data", target: "/data" },
      ],
      labels: { team: "web" },
      restart_policy: "on-failure",
      restart_max_retries: 3,
      cpus: 0.5,
      memory: 256 * 1024 * 1024,
    });
    expect(plan).toEqual({
      name: "web",
      namedVolumes: ["data"],
      body: {
        Image: "nginx:1.27",
        Cmd: ["nginx", "-g", "daemon off;"],
        Env: ["A=1", "B=two=2"],
        Labels: { team: "web" },
        ExposedPorts: { "80/tcp": {}, "53/udp": {} },
        HostConfig: {
          PortBindings: { "80/tcp": [{ HostPort: "8080" }], "53/udp": [{ HostPort: "" }] },
          Binds: ["/srv/www:/usr/share/nginx/html:ro", "data:/data"],
          RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
          NanoCpus: 500_000_000,
          Memory: 268_435_456,
        },
      },
    });
  });

  it("leaves out what was not asked for", () => {
    expect(planContainerCreate({ image: "busybox" })).toEqual({
      name: undefined,
      namedVolumes: [],
      body: { Image: "busybox", HostConfig: {} },
    });
  });

  it("gives a server its static address, hostname, health check and storage limit", () => {
    const plan = planContainerCreate({
      image: "nginx:1.27",
      network: "pier-srv-10.213.0.0-24",
      ipv4_address: "10.213.0.21",
      hostname: "web-01",
      health_check: { command: "wget -q -O /dev/null http://127.0.0.1/", interval_seconds: 10 },
      storage_size_gb: 50,
    });
    expect(plan.body).toEqual({
      Image: "nginx:1.27",
      Hostname: "web-01",
      NetworkingConfig: { EndpointsConfig: { "pier-srv-10.213.0.0-24": { IPAMConfig: { IPv4Address: "10.213.0.21" } } } },
      Healthcheck: {
        Test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/"],
        Interval: 10e9,
        Timeout: 5e9,
        Retries: 3,
        StartPeriod: 0,
      },
      HostConfig: { NetworkMode: "pier-srv-10.213.0.0-24", StorageOpt: { size: "50G" } },
    });
  });
});
