import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { FIREWALL_ACTIONS, FIREWALL_DIRECTIONS, FIREWALL_PROTOCOLS } from "#protocol/firewall";
import { organizations, users } from "./schema-core.ts";
import { servers } from "./schema-servers.ts";

// Firewall groups (issue 13, seed 004): named, ordered rule sets an organization assigns to its
// servers; each server's effective ruleset is written by its host's agent as an iptables chain in
// DOCKER-USER (agent-relay/src/firewall.ts). Same conventions as schema-core.ts.

export const firewallGroups = sqliteTable(
  "firewall_groups",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    /** What happens to a new inbound connection no rule matched: deny if any of a server's groups says so. */
    defaultInbound: text("default_inbound", { enum: FIREWALL_ACTIONS }).notNull().default("allow"),
    defaultOutbound: text("default_outbound", { enum: FIREWALL_ACTIONS }).notNull().default("allow"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("firewall_groups_org_name_unique").on(t.organizationId, t.name)],
);

export const firewallRules = sqliteTable(
  "firewall_rules",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    groupId: text("group_id")
      .notNull()
      .references(() => firewallGroups.id, { onDelete: "cascade" }),
    /** 1, 2, 3 … in the group: rules are read in this order, the first match decides. */
    position: integer("position").notNull(),
    direction: text("direction", { enum: FIREWALL_DIRECTIONS }).notNull(),
    protocol: text("protocol", { enum: FIREWALL_PROTOCOLS }).notNull(),
    portFrom: integer("port_from"),
    portTo: integer("port_to"),
    /** The peer (source of inbound, destination of outbound) as IPv4 CIDR; null for anywhere. */
    cidr: text("cidr"),
    action: text("action", { enum: FIREWALL_ACTIONS }).notNull(),
    description: text("description"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("firewall_rules_group_idx").on(t.groupId, t.position)],
);

/** Which groups a server has, in the order they were assigned (its rules are read in that order). */
export const serverFirewallGroups = sqliteTable(
  "server_firewall_groups",
  {
    serverId: text("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    groupId: text("group_id")
      .notNull()
      .references(() => firewallGroups.id, { onDelete: "cascade" }),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.groupId] }), index("server_firewall_groups_group_idx").on(t.groupId)],
);

/** What the host last did with a server's ruleset: when it was written, for which addresses, or why not. */
export const serverFirewallState = sqliteTable("server_firewall_state", {
  serverId: text("server_id")
    .primaryKey()
    .references(() => servers.id, { onDelete: "cascade" }),
  organizationId: text("organization_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" }),
  /** `applied` (the chain is in force), `removed` (no group: no chain), `failed` (see error). */
  status: text("status", { enum: ["applied", "removed", "failed"] }).notNull(),
  chain: text("chain").notNull(),
  addresses: text("addresses", { mode: "json" }).$type<string[]>().notNull(),
  rules: integer("rules").notNull(),
  error: text("error"),
  updatedAt: text("updated_at").notNull(),
});
