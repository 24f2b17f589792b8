import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { ContainerRef } from "./refs.ts";

// Firewall groups (seed 004) on a host: a server's effective ruleset becomes one iptables chain,
// `PIER-<short server id>`, entered from Docker's DOCKER-USER chain by a jump per container address
// (`-d <address>` for inbound, `-s <address>` for outbound). The whole change is one
// `iptables-restore --noflush` transaction, so no packet ever sees half a ruleset.
//
// Semantics (README "Firewall groups"): replies to allowed connections always pass (stateful);
// for a new connection the rules are read in order and the first match decides; when none matches,
// that direction's default decides. `allow` returns to Docker's own chains (which still apply their
// network isolation), `deny` drops.

/** A server id as the control plane makes them; the chain name is derived from it. */
export const FirewallServerRef = z
  .string()
  .check(z.minLength(1), z.maxLength(64), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, "must be a server id: [a-zA-Z0-9][a-zA-Z0-9_-]*"));

export const FIREWALL_DIRECTIONS = ["in", "out"] as const;
export const FIREWALL_PROTOCOLS = ["tcp", "udp", "icmp", "all"] as const;
export const FIREWALL_ACTIONS = ["allow", "deny"] as const;
export type FirewallDirection = (typeof FIREWALL_DIRECTIONS)[number];
export type FirewallProtocol = (typeof FIREWALL_PROTOCOLS)[number];
export type FirewallAction = (typeof FIREWALL_ACTIONS)[number];

const port = z.number().check(z.int(), z.gte(1), z.lte(65535));

export const FirewallRuleSchema = z
  .object({
    /** The rule's id in the control plane: written as the iptables comment, so `iptables -S` names it. */
    id: z.optional(z.string().check(z.maxLength(64), z.regex(/^[a-zA-Z0-9_-]+$/, "must be [a-zA-Z0-9_-]+"))),
    direction: z.enum(FIREWALL_DIRECTIONS),
    protocol: z.enum(FIREWALL_PROTOCOLS),
    /** The port (destination port, both directions), or the first of a range; tcp and udp only. */
    port_from: z.optional(port),
    /** The last port of a range (inclusive). */
    port_to: z.optional(port),
    /** The peer: the source of inbound traffic, the destination of outbound. Absent: anywhere. */
    cidr: z.optional(z.cidrv4({ error: "must be an IPv4 CIDR block such as 10.0.0.0/8" })),
    action: z.enum(FIREWALL_ACTIONS),
  })
  .check(
    z.refine((r) => (r.port_from === undefined && r.port_to === undefined) || r.protocol === "tcp" || r.protocol === "udp", {
      message: "ports apply to tcp and udp only",
      path: ["port_from"],
    }),
    z.refine((r) => r.port_to === undefined || (r.port_from !== undefined && r.port_to >= r.port_from), {
      message: "port_to needs a port_from no greater than it",
      path: ["port_to"],
    }),
  );
export type FirewallRule = z.infer<typeof FirewallRuleSchema>;

export const MAX_FIREWALL_RULES = 1000;

export const FirewallApplyArgs = z.object({
  server: FirewallServerRef,
  /**
   * The server's container (id or name). The agent reads its addresses itself, now and whenever it
   * starts again or joins a network, so a new address is covered without a round trip.
   */
  container: ContainerRef,
  rules: z.array(FirewallRuleSchema).check(z.maxLength(MAX_FIREWALL_RULES)),
  /** When no inbound rule matches a new connection. */
  default_inbound: z.enum(FIREWALL_ACTIONS),
  /** When no outbound rule matches a new connection. */
  default_outbound: z.enum(FIREWALL_ACTIONS),
});
export type FirewallApply = z.infer<typeof FirewallApplyArgs>;

export const FirewallRemoveArgs = z.object({ server: FirewallServerRef });

export const FIREWALL_OPS = {
  // Idempotent: applying the same ruleset again leaves the host as it was.
  "firewall.apply": { args: FirewallApplyArgs, timeoutMs: 30_000, streaming: false, idempotent: true },
  "firewall.remove": { args: FirewallRemoveArgs, timeoutMs: 30_000, streaming: false, idempotent: true },
  /** The PIER- chains on the host and the addresses they are entered for. */
  "firewall.list": { args: z.object({}), timeoutMs: 15_000, streaming: false, idempotent: true },
} as const satisfies Record<string, OpSpec>;

export interface FirewallChainState {
  chain: string;
  /** The container addresses whose traffic enters the chain (none while the container is stopped). */
  addresses: string[];
}

export interface FirewallOpResults {
  "firewall.apply": FirewallChainState & { server: string; rules: number; container: string | null };
  "firewall.remove": { server: string; chain: string; removed: boolean };
  "firewall.list": { chains: FirewallChainState[] };
}

/** The chain that holds a server's rules: `PIER-` and the random part of its id (iptables allows 28 characters). */
export function firewallChainName(server: string): string {
  const short = server
    .replace(/^[a-z]+_/, "")
    .replace(/[^a-zA-Z0-9]/g, "")
    .slice(0, 23);
  return `PIER-${short || "x"}`;
}
