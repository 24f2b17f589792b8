import { z } from "zod";
import type { OpSpec } from "./ops.ts";
import { ContainerRef, NetworkRef } from "./refs.ts";
import { LabelFilterSchema, LabelsSchema } from "./volumes.ts";

// Networks on a host: list, inspect, create (driver, IPAM, internal, labels), remove, connect a
// container (aliases, a static IPv4), disconnect, prune.

const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: "must be a CIDR block such as 172.30.0.0/16" });
const ip = z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address" });

export const NetworkListArgs = z.object({
  label: LabelFilterSchema.optional(),
  driver: z.string().max(255).optional(),
  /** Only networks no container is connected to (what `network prune` would remove). */
  dangling: z.boolean().optional(),
});

export const NetworkCreateArgs = z
  .object({
    name: NetworkRef,
    /** bridge (default), overlay, macvlan, ipvlan, or a plugin's. */
    driver: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, "must be a network driver name")
      .max(255)
      .optional(),
    subnet: cidr.optional(),
    gateway: ip.optional(),
    /** Where Docker hands out container addresses from, inside the subnet. */
    ip_range: cidr.optional(),
    /** No route to the outside world. */
    internal: z.boolean().optional(),
    /** Standalone containers may join an overlay network. */
    attachable: z.boolean().optional(),
    enable_ipv6: z.boolean().optional(),
    labels: LabelsSchema.optional(),
    /** Driver options (`com.docker.network.bridge.name`, …). */
    options: z.record(z.string().min(1).max(255), z.string().max(4096)).optional(),
  })
  .refine((a) => (a.gateway === undefined && a.ip_range === undefined) || a.subnet !== undefined, {
    message: "gateway and ip_range need a subnet",
    path: ["subnet"],
  });

export const NetworkConnectArgs = z.object({
  id: NetworkRef,
  container: ContainerRef,
  aliases: z
    .array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a DNS name"))
    .max(32)
    .optional(),
  /** A static address inside one of the network's subnets (user-defined networks only). */
  ipv4_address: z.ipv4().optional(),
});

export const NetworkDisconnectArgs = z.object({ id: NetworkRef, container: ContainerRef, force: z.boolean().optional() });

export const NETWORK_OPS = {
  "network.list": { args: NetworkListArgs, timeoutMs: 15_000, streaming: false, idempotent: true },
  "network.inspect": {
    args: z.object({ id: NetworkRef, verbose: z.boolean().optional() }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  },
  "network.create": { args: NetworkCreateArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.remove": { args: z.object({ id: NetworkRef }), timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.connect": { args: NetworkConnectArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.disconnect": { args: NetworkDisconnectArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "network.prune": { args: z.object({ label: LabelFilterSchema.optional() }), timeoutMs: 5 * 60_000, streaming: false, idempotent: false },
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
