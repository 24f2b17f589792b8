import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Timestamps are UTC ISO 8601 text (`2026-01-28T21:33:51.123Z`): they sort as strings and read
// well in any SQL shell. IDs are opaque prefixed strings made by `newId` in lib/ids.ts.

const createdAt = () => text("created_at").notNull();

export const ROLES = ["owner", "admin", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    username: text("username").notNull(),
    name: text("name"),
    passwordHash: text("password_hash").notNull(),
    passwordChangedAt: text("password_changed_at").notNull(),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // Emails and usernames are stored lower-cased, so these are case-insensitive.
    uniqueIndex("users_email_unique").on(t.email),
    uniqueIndex("users_username_unique").on(t.username),
  ],
);

export const memberships = sqliteTable(
  "memberships",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ROLES }).notNull(),
    /**
     * Limited to the projects in member_projects (schema-iam.ts), possibly none. A flag apart from
     * those rows, so that deleting a scoped member's last project leaves them seeing nothing
     * rather than everything.
     */
    projectScoped: integer("project_scoped", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the current refresh token's id; rotated on every refresh. */
    refreshTokenHash: text("refresh_token_hash").notNull(),
    createdAt: createdAt(),
    refreshedAt: text("refreshed_at"),
    expiresAt: text("expires_at").notNull(),
    revokedAt: text("revoked_at"),
    revokedReason: text("revoked_reason"),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key, shown in lists so a person can tell keys apart. */
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    createdAt: createdAt(),
    expiresAt: text("expires_at"),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.keyHash), index("api_keys_org_idx").on(t.organizationId)],
);

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    actorType: text("actor_type", { enum: ["user", "api_key", "agent", "system", "anonymous"] }).notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** JSON object with non-secret details of the action. */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [index("audit_events_org_created_idx").on(t.organizationId, t.createdAt)],
);

export const HOST_STATES = ["never_connected", "online", "disconnected", "lost"] as const;
export type HostState = (typeof HOST_STATES)[number];

/**
 * Docker hosts. `state` and the fields below it are a mirror of the host's HostRelay Durable
 * Object (the source of truth for presence), written by that object so that lists are one query.
 */
export const hosts = sqliteTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** SHA-256 of the agent token; the token itself is shown once. */
    agentTokenHash: text("agent_token_hash").notNull(),
    agentTokenPrefix: text("agent_token_prefix").notNull(),
    agentTokenCreatedAt: text("agent_token_created_at").notNull(),
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull(),
    state: text("state", { enum: HOST_STATES }).notNull().default("never_connected"),
    lastSeenAt: text("last_seen_at"),
    connectedAt: text("connected_at"),
    disconnectedAt: text("disconnected_at"),
    agentVersion: text("agent_version"),
    engineVersion: text("engine_version"),
    hostname: text("hostname"),
    os: text("os"),
    arch: text("arch"),
    addresses: text("addresses", { mode: "json" }).$type<string[]>(),
    containers: text("containers", { mode: "json" }).$type<{ total: number; running: number; paused: number; stopped: number }>(),
    /** The engine's CPU count as the agent last said in hello (null: not said yet); limits are checked against it. */
    cpus: integer("cpus"),
  },
  (t) => [uniqueIndex("hosts_org_name_unique").on(t.organizationId, t.name), uniqueIndex("hosts_agent_token_unique").on(t.agentTokenHash)],
);

/**
 * An organization's registry credentials, one per registry server, used for pulls, pushes and
 * deployments on every host of the organization. The secret (password or token) is sealed with
 * AES-GCM; answers only ever show a mask of it.
 */
export const registries = sqliteTable(
  "registries",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** Normalized: lower-case `host[:port]`, Docker Hub as `docker.io`. */
    server: text("server").notNull(),
    username: text("username").notNull(),
    secretEncrypted: text("secret_encrypted").notNull(),
    /** The last 4 characters of a long secret, for the mask (`…a1b2`); empty for short ones. */
    secretHint: text("secret_hint").notNull(),
    /** When the credentials last passed the registry's /v2/ check, and from which host. */
    verifiedAt: text("verified_at").notNull(),
    verifiedFromHostId: text("verified_from_host_id"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("registries_org_server_unique").on(t.organizationId, t.server)],
);
