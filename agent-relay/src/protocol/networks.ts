import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { ContainerRef, NetworkRef } from "./refs.ts";
import { LabelFilterSchema, LabelsSchema } from "./volumes.ts";

// Networks on a host: list, inspect, create (driver, IPAM, internal, labels), remove, connect a
// container (aliases, a static IPv4), disconnect, prune.

const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: "must be a CIDR block such as 172.30.0.0/16" });
const ip = z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address" });

export const NetworkListArgs = z.object({
  label: z.optional(LabelFilterSchema),
  driver: z.optional(z.string().check(z.maxLength(255))),
  /** Only networks no container is connected to (what `network prune` would remove). */
  dangling: z.optional(z.boolean()),
});

export const NetworkCreateArgs = z
  .object({
    name: NetworkRef,
    /** bridge (default), overlay, macvlan, ipvlan, or a plugin's. */
    driver: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, "must be a network driver name"), z.maxLength(255))),
    subnet: z.optional(cidr),
    gateway: z.optional(ip),
    /** Where Docker hands out container addresses from, inside the subnet. */
    ip_range: z.optional(cidr),
    /** No route to the outside world. */
    internal: z.optional(z.boolean()),
    /** Standalone containers may join an overlay network. */
    attachable: z.optional(z.boolean()),
    enable_ipv6: z.optional(z.boolean()),
    labels: z.optional(LabelsSchema),
    /** Driver options (`com.docker.network.bridge.name`, …). */
    options: z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(255)), z.string().check(z.maxLength(4096)))),
  })
  .check(
    z.refine((a) => (a.gateway === undefined && a.ip_range === undefined) || a.subnet !== undefined, {
      message: "gateway and ip_range need a subnet",
      path: ["subnet"],
    }),
  );

export const NetworkConnectArgs = z.object({
  id: NetworkRef,
  container: ContainerRef,
  aliases: z.optional(z.array(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a DNS name"))).check(z.maxLength(32))),
  /** A static address inside one of the network's subnets (user-defined networks only). */
  ipv4_address: z.optional(z.ipv4()),
});

export const NetworkDisconnectArgs = z.object({ id: NetworkRef, container: ContainerRef, force: z.optional(z.boolean()) });

export const NETWORK_OPS = {
  "network.list": { args: NetworkListArgs, timeoutMs: 15_000, streaming: false, idempotent: true },
  "network.inspect": {
    args: z.object({ id: NetworkRef, verbose: z.optional(z.boolean()) }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  },
  "network.create": { args: NetworkCreateArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.remove": { args: z.object({ id: NetworkRef }), timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.connect": { args: NetworkConnectArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.disconnect": { args: NetworkDisconnectArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.prune": { args: z.object({ label: z.optional(LabelFilterSchema) }), timeoutMs: 5 * 60_000, streaming: false, idempotent: false },
} as const satisfies Record<string, OpSpec>;

export interface NetworkOpResults {
  /** Docker's `GET /networks` entries, unchanged. */
  "network.list": Array<Record<string, unknown>>;
  "network.inspect": Record<string, unknown>;
  "network.create": { id: string; name: string; warning: string };
  "network.remove": { id: string; removed: true };
  "network.connect": { id: string; container: string; connected: true };
  "network.disconnect": { id: string; container: string; disconnected: true };
  "network.prune": { deleted: string[] };
}
