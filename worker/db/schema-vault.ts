import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations, users } from "./schema-core.ts";

// The organization's secret store (issue 13, seed 002's vault). Same conventions as schema-core.ts.
// A secret is a key (a path such as `DB_PASSWORD` or `secret/ssh`) with numbered versions; every
// write adds a version, none is rewritten, so an older value can still be read (`?version=`).

export const vaultSecrets = sqliteTable(
  "vault_secrets",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** Letters, digits, `_ . - /`; unique in the organization. */
    key: text("key").notNull(),
    /** The newest version's number (versions start at 1). */
    currentVersion: integer("current_version").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("vault_secrets_org_key_unique").on(t.organizationId, t.key)],
);

export const vaultSecretVersions = sqliteTable(
  "vault_secret_versions",
  {
    secretId: text("secret_id")
      .notNull()
      .references(() => vaultSecrets.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The value as JSON (a string or an object of strings), AES-GCM sealed with ENCRYPTION_KEY. */
    valueSealed: text("value_sealed").notNull(),
    /** The value's field names when it is an object (not secret: they say what it holds). */
    fields: text("fields", { mode: "json" }).$type<string[]>(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.secretId, t.version] }), index("vault_secret_versions_created_idx").on(t.secretId, t.createdAt)],
);
