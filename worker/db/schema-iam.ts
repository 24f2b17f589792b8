import { foreignKey, index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { projects } from "./schema-apps.ts";
import { memberships, organizations } from "./schema-core.ts";

// Permissions and project-scoped access (issue 13, seed 004's IAM). Same conventions as
// schema-core.ts. A member's permissions are their role's defaults (services/permissions.ts) with
// these rows applied: a `grant` adds one, a `revoke` takes one away. Both go with the membership.

export const PERMISSIONS = [
  "create_server",
  "manage_servers",
  "assign_roles",
  "manage_firewall",
  "manage_backups",
  "admin_access",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const memberPermissions = sqliteTable(
  "member_permissions",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    permission: text("permission", { enum: PERMISSIONS }).notNull(),
    effect: text("effect", { enum: ["grant", "revoke"] }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId, t.permission] }),
    foreignKey({ columns: [t.organizationId, t.userId], foreignColumns: [memberships.organizationId, memberships.userId] }).onDelete(
      "cascade",
    ),
  ],
);

/** The projects a member with `memberships.project_scoped` may see; a deleted project goes from here. */
export const memberProjects = sqliteTable(
  "member_projects",
  {
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId, t.projectId] }),
    foreignKey({ columns: [t.organizationId, t.userId], foreignColumns: [memberships.organizationId, memberships.userId] }).onDelete(
      "cascade",
    ),
    index("member_projects_project_idx").on(t.projectId),
  ],
);
