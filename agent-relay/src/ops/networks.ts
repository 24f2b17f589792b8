// Networks on the host: what Pier creates carries the managed label; ids and names were checked by
// the protocol's schemas before they reach a URL path.
import { MANAGED_LABEL } from "../docker/client.ts";
import * as api from "../docker/housekeeping.ts";
import type { NetworkOpResults } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";
import { toFilters } from "./volumes.ts";

type NetworkOps =
  | "network.list"
  | "network.inspect"
  | "network.create"
  | "network.remove"
  | "network.connect"
  | "network.disconnect"
  | "network.prune";

export const networkOps: Pick<OpHandlers, NetworkOps> = {
  "network.list": async (args, { docker, signal }) =>
    (await docker.transport.json(api.networkList, { filters: toFilters(args) }, signal)) as NetworkOpResults["network.list"],

  "network.inspect": async (args, { docker, signal }) =>
    (await docker.transport.json(api.networkInspect, args, signal)) as NetworkOpResults["network.inspect"],

  "network.create": async (args, { docker, signal }) => {
    const ipam = args.subnet
      ? { Driver: "default", Config: [{ Subnet: args.subnet, Gateway: args.gateway, IPRange: args.ip_range }] }
      : undefined;
    const created = (await docker.transport.json(
      api.networkCreate,
      {
        body: {
          Name: args.name,
          // Without it an engine before API 1.44 happily makes a second network of the same name.
          CheckDuplicate: true,
          Driver: args.driver,
          Internal: args.internal,
          Attachable: args.attachable,
          EnableIPv6: args.enable_ipv6,
          IPAM: ipam,
          Options: args.options,
          Labels: { ...args.labels, [MANAGED_LABEL]: "true" },
        },
      },
      signal,
    )) as { Id: string; Warning?: string };
    return { id: created.Id, name: args.name, warning: created.Warning ?? "" };
  },

  "network.remove": async (args, { docker, signal }) => {
    await docker.transport.call(api.networkRemove, { id: args.id }, signal);
    return { id: args.id, removed: true };
  },

  "network.connect": async (args, { docker, signal }) => {
    const endpointConfig = {
      ...(args.aliases?.length ? { Aliases: args.aliases } : {}),
      ...(args.ipv4_address ? { IPAMConfig: { IPv4Address: args.ipv4_address } } : {}),
    };
    await docker.transport.call(
      api.networkConnect,
      { id: args.id, body: { Container: args.container, EndpointConfig: endpointConfig } },
      signal,
    );
    return { id: args.id, container: args.container, connected: true };
  },

  "network.disconnect": async (args, { docker, signal }) => {
    await docker.transport.call(
      api.networkDisconnect,
      { id: args.id, body: { Container: args.container, Force: args.force ?? false } },
      signal,
    );
    return { id: args.id, container: args.container, disconnected: true };
  },

  "network.prune": async (args, { docker, signal }) => {
    const report = (await docker.transport.json(api.networkPrune, { filters: toFilters(args) }, signal)) as {
      NetworksDeleted: string[] | null;
    };
    return { deleted: report.NetworksDeleted ?? [] };
  },
};
