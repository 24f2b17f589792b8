import { arch, hostname, networkInterfaces, platform } from "node:os";
import type { DockerClient } from "./docker/client.ts";
import type { Logger } from "./log.ts";
import type { ContainerCounts, Hello, Outgoing } from "./protocol.ts";
import { AGENT_VERSION } from "./version.ts";

// Docker's own bridges and veth pairs are not addresses anyone reaches the host on.
const VIRTUAL_INTERFACE = /^(docker\d*|br-|veth|virbr|cni|flannel|cali|kube-ipvs)/;

export function hostAddresses(): string[] {
  const addresses: string[] = [];
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    if (VIRTUAL_INTERFACE.test(name)) continue;
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      // Link-local IPv6 needs a zone id to be usable; leave it out.
      if (entry.family === "IPv6" && entry.address.toLowerCase().startsWith("fe80:")) continue;
      addresses.push(entry.address);
    }
  }
  return addresses;
}

/**
 * The `hello` the agent opens every connection with. Docker may be down: the agent still connects
 * and reports `engine_version: null`, so the host shows up as online-but-engine-unavailable.
 */
export async function buildHello(
  docker: DockerClient,
  options: { capabilities: string[]; log: Logger; hostname?: string; containers?: ContainerCounts; heartbeatMs: number },
): Promise<Outgoing<Hello>> {
  const hello: Outgoing<Hello> = {
    type: "hello",
    agent_version: AGENT_VERSION,
    hostname: options.hostname ?? hostname(),
    engine_version: null,
    api_version: null,
    os: platform(),
    arch: arch(),
    addresses: hostAddresses(),
    capabilities: options.capabilities,
    time: Date.now(),
    acks: true,
    heartbeat_ms: options.heartbeatMs,
  };
  if (options.containers) hello.containers = options.containers;
  try {
    const signal = AbortSignal.timeout(5_000);
    const version = await docker.negotiateApiVersion(signal);
    hello.engine_version = typeof version.Version === "string" ? version.Version : null;
    hello.api_version = docker.apiVersion;
    if (typeof version.Arch === "string") hello.arch = version.Arch;
    const info = await docker.info(signal);
    // Inside a container os.hostname() is the container id; the engine knows the host's name.
    if (!options.hostname && typeof info.Name === "string" && info.Name) hello.hostname = info.Name;
    if (typeof info.OperatingSystem === "string") hello.os = info.OperatingSystem;
    if (typeof info.KernelVersion === "string") hello.kernel_version = info.KernelVersion;
    if (typeof info.NCPU === "number") hello.cpus = info.NCPU;
    if (typeof info.MemTotal === "number") hello.memory_bytes = info.MemTotal;
    if (!hello.containers && typeof info.Containers === "number") {
      const running = Number(info.ContainersRunning ?? 0);
      const paused = Number(info.ContainersPaused ?? 0);
      hello.containers = { total: info.Containers, running, paused, stopped: Number(info.ContainersStopped ?? 0) };
    }
  } catch (error) {
    options.log.warn("docker engine unavailable; connecting without it", { error });
  }
  hello.time = Date.now();
  return hello;
}
