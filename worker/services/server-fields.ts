import { z } from "@hono/zod-openapi";
import ipaddr from "ipaddr.js";
import { ImageRef } from "./fields.ts";
import { SERVER_NAME_PATTERN, SERVER_NAME_RULE } from "./servers.ts";

// The field rules of servers and server roles, shared by the canonical API and the seed documents'
// adapters (002/004), so a body is valid on one surface exactly when it is valid on the other.

export const ServerName = z.string().trim().regex(SERVER_NAME_PATTERN, SERVER_NAME_RULE);
export const RoleName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, "lower-case letters, digits, '_' and '-', starting with a letter, at most 40 characters");

export const Cpu = z.number().positive().max(1024).openapi({ description: "CPU limit in cores (0.5 = half a core)." });
/** Docker's minimum memory limit is 6 MiB. */
export const MemoryMb = z
  .number()
  .int()
  .min(6)
  .max(16 * 1024 * 1024)
  .openapi({ description: "Memory limit in MB." });
export const DiskGb = z
  .number()
  .int()
  .min(1)
  .max(1024 * 1024)
  .openapi({ description: "Size of the data volume in GB." });

export const ServerPortSchema = z.object({
  container_port: z.number().int().min(1).max(65535),
  host_port: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
});

export const ServerHealthCheckSchema = z
  .object({
    command: z.string().min(1).max(4096).optional(),
    http_path: z.string().startsWith("/").max(2048).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    interval_seconds: z.number().int().min(1).max(300).optional(),
    timeout_seconds: z.number().int().min(1).max(300).optional(),
    retries: z.number().int().min(1).max(100).optional(),
    start_period_seconds: z.number().int().min(0).max(3600).optional(),
  })
  .refine((h) => h.command !== undefined || h.http_path !== undefined, "give command or http_path");

export const EnvMap = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable names are letters, digits and '_', not starting with a digit"),
    z.string().max(32 * 1024),
  )
  .refine((e) => Object.keys(e).length <= 200, "at most 200 variables");

export const Command = z.array(z.string().max(4096)).min(1).max(100);
export const DataPath = z
  .string()
  .startsWith("/")
  .max(1024)
  .refine((p) => !p.split("/").includes("..") && p !== "/", "an absolute directory in the container, not /");

export const RoleInput = z
  .object({
    name: RoleName,
    description: z.string().max(2000).nullable().optional(),
    image: ImageRef,
    command: Command.nullable().optional(),
    ports: z.array(ServerPortSchema).max(20).optional(),
    health_check: ServerHealthCheckSchema.nullable().optional(),
    data_path: DataPath.optional(),
    firewall_groups: z.array(z.string().min(1).max(64)).max(20).optional(),
    env: EnvMap.optional(),
  })
  .openapi("ServerRoleInput");
export type RoleInput = z.infer<typeof RoleInput>;
export const RolePatch = RoleInput.omit({ name: true }).partial().openapi("ServerRolePatch");
export type RolePatch = z.infer<typeof RolePatch>;

// ---- addresses -----------------------------------------------------------------------------------

const ipv4 = z.ipv4({ error: "must be an IPv4 address such as 192.168.0.22" });

/**
 * The documents' `subnet`: a prefix length ("24"), a netmask ("255.255.255.0") or a CIDR
 * ("192.168.0.0/24"). With a prefix or a mask the network is the one `near` (the gateway or an
 * address) is in.
 */
export function subnetCidr(subnet: string | number, near: string | undefined): string | undefined {
  const s = String(subnet).trim();
  try {
    if (s.includes("/")) {
      const [addr, len] = ipaddr.IPv4.parseCIDR(s);
      return `${ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`).toString()}/${len}`;
    }
    const prefix = /^\d{1,2}$/.test(s)
      ? Number(s)
      : ipaddr.IPv4.isValidFourPartDecimal(s)
        ? ipaddr.IPv4.parse(s).prefixLengthFromSubnetMask()
        : null;
    if (prefix === null || prefix < 8 || prefix > 30 || !near || !ipaddr.IPv4.isValidFourPartDecimal(near)) return undefined;
    return `${ipaddr.IPv4.networkAddressFromCIDR(`${near}/${prefix}`).toString()}/${prefix}`;
  } catch {
    return undefined;
  }
}

export const inSubnet = (ip: string, cidr: string): boolean => {
  try {
    return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parseCIDR(cidr));
  } catch {
    return false;
  }
};

/** `a.b.c.d-a.b.c.e`, or a CIDR: the addresses in order. At most `max`; undefined when malformed. */
export function expandIpRange(range: string, max = 4096): string[] | undefined {
  const text = range.trim();
  try {
    let first: number;
    let last: number;
    if (text.includes("/")) {
      const [addr, len] = ipaddr.IPv4.parseCIDR(text);
      const base = toInt(ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`).toString());
      const size = 2 ** (32 - len);
      // Skip the network and broadcast addresses of a real subnet.
      first = size > 2 ? base + 1 : base;
      last = size > 2 ? base + size - 2 : base + size - 1;
    } else {
      const parts = text.split("-").map((p) => p.trim());
      if (parts.length !== 2 || !parts.every((p) => ipaddr.IPv4.isValidFourPartDecimal(p))) return undefined;
      first = toInt(parts[0]!);
      last = toInt(parts[1]!);
    }
    if (last < first || last - first + 1 > max) return undefined;
    const out: string[] = [];
    for (let n = first; n <= last; n++) out.push(fromInt(n));
    return out;
  } catch {
    return undefined;
  }
}

/** The subnet's first host address (`.1` of a /24): the gateway when none is given. */
export const firstHostAddress = (cidr: string): string => fromInt(toInt(cidr.split("/")[0]!) + 1);

const toInt = (ip: string) => ipaddr.IPv4.parse(ip).octets.reduce((n, o) => n * 256 + o, 0);
const fromInt = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** A network for one server: its address, and the subnet and gateway of the bridge it joins. */
export const NetworkConfig = z
  .object({
    ip_address: ipv4.optional(),
    /** `ip` is accepted for the address too. */
    ip: ipv4.optional(),
    subnet: z.union([z.string().max(43), z.number().int()]).optional(),
    gateway: ipv4.optional(),
  })
  .openapi("ServerNetworkConfig");
export type NetworkConfig = z.infer<typeof NetworkConfig>;

/** A bulk create's network: addresses handed out from `ip_range` in order, skipping used ones. */
export const BulkNetworkConfig = z
  .object({
    ip_range: z.string().max(64).optional(),
    subnet: z.union([z.string().max(43), z.number().int()]).optional(),
    gateway: ipv4.optional(),
  })
  .openapi("ServerBulkNetworkConfig");
export type BulkNetworkConfig = z.infer<typeof BulkNetworkConfig>;

/** What creating one server takes, on every surface (the adapters rename their fields into it). */
export const ServerCreateInput = z
  .object({
    name: ServerName,
    role: RoleName.nullable().optional(),
    image: ImageRef.optional(),
    host_id: z.string().min(1).max(64).optional(),
    project_id: z.string().min(1).max(64).nullable().optional(),
    cpu: Cpu.optional(),
    memory_mb: MemoryMb.optional(),
    disk_gb: DiskGb.optional(),
    command: Command.optional(),
    env: EnvMap.optional(),
    ports: z.array(ServerPortSchema).max(20).optional(),
    network: NetworkConfig.optional(),
    /** Start it once created (default true). */
    start: z.boolean().optional(),
  })
  .refine((s) => s.role || s.image, { message: "give a role or an image", path: ["role"] })
  .openapi("ServerCreate");
export type ServerCreateInput = z.infer<typeof ServerCreateInput>;
