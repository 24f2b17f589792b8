import type { OpArgs } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { changeOnHost, runOnOrgHost } from "./host-relay.ts";
import type { Actor, Principal } from "./principal.ts";

// Networks on a host, for the canonical API and the compatibility surfaces. Viewers read; members
// create, remove, connect, disconnect and prune (a network holds no data).

type Authed = Actor & { principal: Principal };

interface DockerNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string; IPv4Address?: string; IPv6Address?: string; MacAddress?: string }> | null;
}

export interface NetworkView {
  id: string;
  short_id: string;
  name: string;
  driver: string;
  scope: string;
  created_at: string | null;
  internal: boolean;
  attachable: boolean;
  ipv6: boolean;
  subnets: Array<{ subnet: string | null; gateway: string | null; ip_range: string | null }>;
  options: Record<string, string>;
  labels: Record<string, string>;
  managed: boolean;
  /** Docker's own bridge, host and none: they cannot be removed. */
  predefined: boolean;
  /** Connected containers; the list endpoint of the engine leaves them out, inspect has them. */
  containers: Array<{ id: string; name: string; ipv4_address: string | null; ipv6_address: string | null; mac_address: string | null }>;
}

const PREDEFINED = new Set(["bridge", "host", "none"]);
const orNull = (s: string | undefined) => (s ? s : null);

export function toNetworkView(raw: Record<string, unknown>): NetworkView {
  const n = raw as unknown as DockerNetwork;
  return {
    id: n.Id,
    short_id: n.Id.slice(0, 12),
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    created_at: n.Created ?? null,
    internal: n.Internal ?? false,
    attachable: n.Attachable ?? false,
    ipv6: n.EnableIPv6 ?? false,
    subnets: (n.IPAM?.Config ?? []).map((c) => ({ subnet: orNull(c.Subnet), gateway: orNull(c.Gateway), ip_range: orNull(c.IPRange) })),
    options: n.Options ?? {},
    labels: n.Labels ?? {},
    managed: n.Labels?.["dev.pier.managed"] === "true",
    predefined: PREDEFINED.has(n.Name),
    containers: Object.entries(n.Containers ?? {}).map(([id, c]) => ({
      id,
      name: c.Name ?? "",
      ipv4_address: orNull(c.IPv4Address),
      ipv6_address: orNull(c.IPv6Address),
      mac_address: orNull(c.MacAddress),
    })),
  };
}

export async function listNetworks(db: Database, env: Bindings, principal: Principal, hostId: string, query: OpArgs<"network.list">) {
  return (await runOnOrgHost(db, env, principal.organizationId, hostId, "network.list", query)).map(toNetworkView);
}

export async function inspectNetwork(db: Database, env: Bindings, principal: Principal, hostId: string, id: string) {
  return toNetworkView(await runOnOrgHost(db, env, principal.organizationId, hostId, "network.inspect", { id }));
}

export const createNetwork = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"network.create">) =>
  changeOnHost(db, env, actor, hostId, "network.create", args, {
    role: "member",
    what: "create networks",
    metadata: () => ({ name: args.name, driver: args.driver ?? "bridge", subnet: args.subnet ?? null, internal: args.internal ?? false }),
  });

export const removeNetwork = (db: Database, env: Bindings, actor: Authed, hostId: string, id: string) =>
  changeOnHost(
    db,
    env,
    actor,
    hostId,
    "network.remove",
    { id },
    { role: "member", what: "remove networks", metadata: () => ({ network: id }) },
  );

export const connectNetwork = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"network.connect">) =>
  changeOnHost(db, env, actor, hostId, "network.connect", args, {
    role: "member",
    what: "connect containers to networks",
    metadata: () => ({ network: args.id, container: args.container, aliases: args.aliases ?? [], ipv4_address: args.ipv4_address ?? null }),
  });

export const disconnectNetwork = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"network.disconnect">) =>
  changeOnHost(db, env, actor, hostId, "network.disconnect", args, {
    role: "member",
    what: "disconnect containers from networks",
    metadata: () => ({ network: args.id, container: args.container, force: args.force ?? false }),
  });

export const pruneNetworks = (db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"network.prune">) =>
  changeOnHost(db, env, actor, hostId, "network.prune", args, {
    role: "member",
    what: "prune networks",
    metadata: (pruned) => ({ label: args.label ?? [], deleted: pruned.deleted }),
  });
