import type { OpArgs } from "../protocol.ts";

type CreateArgs = OpArgs<"container.create">;

export interface CreatePlan {
  name?: string;
  /** Docker's ContainerConfig with HostConfig, ready for POST /containers/create. */
  body: Record<string, unknown>;
  /** Named volumes to create (with the pier label) before the container. */
  namedVolumes: string[];
}

/** Translates the protocol's create arguments into the Engine API's shape. Pure. */
export function planContainerCreate(args: CreateArgs): CreatePlan {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {};
  for (const port of args.ports ?? []) {
    const key = `${port.container_port}/${port.protocol ?? "tcp"}`;
    exposed[key] = {};
    const binding: { HostIp?: string; HostPort?: string } = {};
    if (port.host_ip) binding.HostIp = port.host_ip;
    // An empty HostPort asks Docker for a free ephemeral port.
    binding.HostPort = port.host_port ? String(port.host_port) : "";
    (bindings[key] ??= []).push(binding);
  }

  const binds: string[] = [];
  const namedVolumes: string[] = [];
  for (const volume of args.volumes ?? []) {
    if (!volume.source.startsWith("/")) namedVolumes.push(volume.source);
    binds.push(`${volume.source}:${volume.target}${volume.read_only ? ":ro" : ""}`);
  }

  const hostConfig: Record<string, unknown> = {};
  if (args.ports?.length) hostConfig.PortBindings = bindings;
  if (binds.length) hostConfig.Binds = binds;
  if (args.restart_policy) {
    hostConfig.RestartPolicy = {
      Name: args.restart_policy === "no" ? "" : args.restart_policy,
      MaximumRetryCount: args.restart_policy === "on-failure" ? (args.restart_max_retries ?? 0) : 0,
    };
  }
  if (args.cpus !== undefined) hostConfig.NanoCpus = Math.round(args.cpus * 1e9);
  if (args.memory !== undefined) hostConfig.Memory = args.memory;
  if (args.network) hostConfig.NetworkMode = args.network;
  if (args.storage_size_gb !== undefined) hostConfig.StorageOpt = { size: `${args.storage_size_gb}G` };

  const body: Record<string, unknown> = { Image: args.image, HostConfig: hostConfig };
  if (args.cmd) body.Cmd = args.cmd;
  if (args.entrypoint) body.Entrypoint = args.entrypoint;
  if (args.env) body.Env = Object.entries(args.env).map(([key, value]) => `${key}=${value}`);
  if (args.labels) body.Labels = args.labels;
  if (args.ports?.length) body.ExposedPorts = exposed;
  if (args.workdir) body.WorkingDir = args.workdir;
  if (args.user) body.User = args.user;
  if (args.hostname) body.Hostname = args.hostname;
  if (args.network && args.ipv4_address)
    body.NetworkingConfig = { EndpointsConfig: { [args.network]: { IPAMConfig: { IPv4Address: args.ipv4_address } } } };
  if (args.health_check) {
    const ns = (seconds: number) => seconds * 1e9;
    const hc = args.health_check;
    body.Healthcheck = {
      Test: ["CMD-SHELL", hc.command],
      Interval: ns(hc.interval_seconds ?? 30),
      Timeout: ns(hc.timeout_seconds ?? 5),
      Retries: hc.retries ?? 3,
      StartPeriod: ns(hc.start_period_seconds ?? 0),
    };
  }

  return { name: args.name?.replace(/^\//, ""), body, namedVolumes: [...new Set(namedVolumes)] };
}
