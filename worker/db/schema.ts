// The database schema, one module per area; drizzle-kit reads this file (drizzle.config.ts) and the
// code imports tables from here. The areas import the core tables from schema-core.ts, never from
// this barrel, so the schema has no import cycle.
export * from "./schema-core.ts";
export * from "./schema-monitoring.ts";
export * from "./schema-apps.ts";
export * from "./schema-backups.ts";
export * from "./schema-backup-policies.ts";
export * from "./schema-vault.ts";
export * from "./schema-servers.ts";
export * from "./schema-firewall.ts";
export * from "./schema-iam.ts";
