import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./schema-apps.ts";
import { hosts, organizations, users } from "./schema-core.ts";

// Servers (issue 13, seeds 002/004): long-running containers Pier manages as servers, each with a
// role from the organization's catalog, resource limits, a data volume and an address. Same
// conventions as schema-core.ts: ISO 8601 text timestamps, prefixed text ids, every row carries its
// organization. A server's environment is sealed like an application's.

export const SERVER_STATUSES = [
  /** Its create task has not finished yet. */
  "creating",
  "running",
  "stopped",
  "paused",
  "restarting",
  /** Its container failed to be made, died, or went missing on its host (sync says so). */
  "error",
  /** Its delete task is removing it. */
  "deleting",
] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

export interface ServerPort {
  container_port: number;
  host_port?: number;
  protocol?: "tcp" | "udp";
}

export interface ServerHealthCheck {
  command?: string;
  http_path?: string;
  port?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  retries?: number;
  start_period_seconds?: number;
}

/** What a server runs besides its image and limits; the environment is sealed apart (env_encrypted). */
export interface ServerConfig {
  command?: string[];
  ports?: ServerPort[];
  health_check?: ServerHealthCheck;
  /** Where the data volume is mounted (the role's data_path, else /data). */
  data_path?: string;
  /** The subnet (CIDR) and gateway of the server's network, when it has a static address. */
  subnet?: string;
  gateway?: string;
  /** Firewall groups the role names by default, applied by the firewall service. */
  firewall_groups?: string[];
  /** Whether `disk_gb` is enforced as a storage quota (true) or reported against usage (false). */
  disk_quota?: boolean;
}

const org = () =>
  text("organization_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" });

export const servers = sqliteTable(
  "servers",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    /** The documents' numeric id (`"id": 1`): a small integer, unique in the organization, never reused while the row lives. */
    alias: integer("alias").notNull(),
    /** Unique in the organization; the container is named after it (services/servers.ts serverContainerName). */
    name: text("name").notNull(),
    /** Where its container runs; null once that host is deleted (the server is then in error). */
    hostId: text("host_id").references(() => hosts.id, { onDelete: "set null" }),
    /** Project-scoped access: a server with a project belongs to it; without one, only unscoped members see it. */
    projectId: text("project_id").references(() => projects.id, { onDelete: "set null" }),
    /** The role's name in the organization's catalog (server_roles), or null for none. */
    role: text("role"),
    image: text("image").notNull(),
    /** CPU limit in cores. */
    cpu: real("cpu"),
    memoryMb: integer("memory_mb"),
    /** Size of the data volume in GB: a quota where the storage driver allows one, otherwise a figure usage is measured against. */
    diskGb: integer("disk_gb"),
    ipAddress: text("ip_address"),
    networkId: text("network_id"),
    networkName: text("network_name"),
    /** The named volume mounted at the data path; kept across recreates (role, image, config changes). */
    volumeName: text("volume_name").notNull(),
    containerId: text("container_id"),
    status: text("status", { enum: SERVER_STATUSES }).notNull(),
    lastError: text("last_error"),
    /** The latest lifecycle task (create, start, …), for status pages and cleanup. */
    taskId: text("task_id"),
    config: text("config", { mode: "json" }).$type<ServerConfig>().notNull(),
    /** Sealed JSON object of environment variables (lib/crypto.ts encryptSecret). */
    envEncrypted: text("env_encrypted"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("servers_org_name_unique").on(t.organizationId, t.name),
    uniqueIndex("servers_org_alias_unique").on(t.organizationId, t.alias),
    // One address per host: two servers of one host never share one (NULLs do not collide).
    uniqueIndex("servers_host_ip_unique").on(t.hostId, t.ipAddress),
    index("servers_org_created_idx").on(t.organizationId, t.createdAt),
    index("servers_project_idx").on(t.projectId),
    index("servers_host_idx").on(t.hostId),
  ],
);

/**
 * The organization's catalog of server templates. Built-in `web`, `was` and `db` are written on
 * first use (services/server-roles.ts) and may be edited like any other.
 */
export const serverRoles = sqliteTable(
  "server_roles",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    name: text("name").notNull(),
    description: text("description"),
    image: text("image").notNull(),
    command: text("command", { mode: "json" }).$type<string[]>(),
    ports: text("ports", { mode: "json" }).$type<ServerPort[]>().notNull(),
    healthCheck: text("health_check", { mode: "json" }).$type<ServerHealthCheck>(),
    /** Where the server's data volume is mounted. */
    dataPath: text("data_path").notNull(),
    /** Firewall groups (by name) a server of this role gets by default. */
    firewallGroups: text("firewall_groups", { mode: "json" }).$type<string[]>().notNull(),
    /** Sealed JSON object of default environment variables. */
    envEncrypted: text("env_encrypted"),
    builtin: integer("builtin", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("server_roles_org_name_unique").on(t.organizationId, t.name)],
);

/** Extra data volumes of a server (004's disks), mounted at their path; the server is recreated to add or remove one. */
export const serverDisks = sqliteTable(
  "server_disks",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    serverId: text("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    /** The document's `<device>`: `disk1`, `disk2`, … unless named. */
    device: text("device").notNull(),
    volumeName: text("volume_name").notNull(),
    mountPath: text("mount_path").notNull(),
    sizeGb: integer("size_gb"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("server_disks_server_device_unique").on(t.serverId, t.device), index("server_disks_org_idx").on(t.organizationId)],
);
