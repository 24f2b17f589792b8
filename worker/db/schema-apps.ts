import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { BUILD_TYPES, PULL_POLICIES } from "#protocol/deploy";
import { hosts, organizations, users } from "./schema-core.ts";

// Projects, applications, deployments, webhooks, domains and database services (issue 4). Same
// conventions as schema-core.ts: ISO 8601 text timestamps, prefixed text ids, every row carries its
// organization. Secrets are stored sealed (`v1.<nonce>.<ciphertext>`, lib/crypto.ts) in
// `*_encrypted` columns and never selected into a response unless an admin asked to reveal them.

export { BUILD_TYPES, PULL_POLICIES };
export const SOURCE_TYPES = ["image", "git"] as const;
export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;
export const APPLICATION_STATUSES = ["idle", "deploying", "running", "stopped", "failed"] as const;
export const DEPLOYMENT_STATUSES = ["queued", "building", "deploying", "succeeded", "failed", "cancelled"] as const;
export const DEPLOYMENT_TRIGGERS = ["api", "webhook", "rollback", "dokploy", "devflow"] as const;
export const DATABASE_ENGINES = ["postgres", "mysql", "mariadb", "mongo", "redis"] as const;
export const DATABASE_STATUSES = ["idle", "running", "stopped", "error"] as const;
export const CERTIFICATE_TYPES = ["letsencrypt", "none"] as const;
export const WEBHOOK_PROVIDERS = ["github", "gitlab", "bitbucket", "generic"] as const;

export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

export interface PortMapping {
  container_port: number;
  host_port?: number;
  protocol?: "tcp" | "udp";
}

export interface HealthCheckConfig {
  command?: string;
  http_path?: string;
  port?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  retries?: number;
  start_period_seconds?: number;
}

const org = () =>
  text("organization_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" });

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("projects_org_name_unique").on(t.organizationId, t.name),
    index("projects_org_created_idx").on(t.organizationId, t.createdAt),
  ],
);

/**
 * Dokploy's model: a project holds environments (`production` is made with the project and is its
 * default), and every application and database service lives in exactly one of them.
 */
export const environments = sqliteTable(
  "environments",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    /** The project's default (`production`): where services go when only a project is named; never removed. */
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("environments_project_name_unique").on(t.projectId, t.name), index("environments_org_idx").on(t.organizationId)],
);

export const applications = sqliteTable(
  "applications",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** Null only in the DDL: rows that predate environments were moved into `production` by 0005's backfill. */
    environmentId: text("environment_id").references(() => environments.id, { onDelete: "cascade" }),
    /** Where it runs; null when the organization had no host yet (deployments then fail clearly). */
    hostId: text("host_id").references(() => hosts.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    /** The container name on the host (Dokploy's `appName`); unique in the organization. */
    appName: text("app_name").notNull(),
    description: text("description"),
    /** Null until a source is saved (Dokploy creates applications without one). */
    sourceType: text("source_type", { enum: SOURCE_TYPES }),
    image: text("image"),
    pullPolicy: text("pull_policy", { enum: PULL_POLICIES }).notNull().default("missing"),
    /** Sealed JSON `{username, password, serveraddress?}` for a private registry. */
    registryAuthEncrypted: text("registry_auth_encrypted"),
    gitUrl: text("git_url"),
    gitBranch: text("git_branch").notNull().default("main"),
    /** Subdirectory of the repository used as the build context. */
    gitPath: text("git_path"),
    /** Sealed JSON `{token?, username?, deploy_key?}`. */
    gitCredentialsEncrypted: text("git_credentials_encrypted"),
    /** What kind of credential is stored, for display: the credential itself never leaves. */
    gitAuth: text("git_auth", { enum: ["token", "deploy_key"] }),
    buildType: text("build_type", { enum: BUILD_TYPES }).notNull().default("dockerfile"),
    dockerfile: text("dockerfile"),
    publishDir: text("publish_dir"),
    staticImage: text("static_image"),
    composeFile: text("compose_file"),
    /** Sealed JSON object of environment variables, injected at deploy time. */
    envEncrypted: text("env_encrypted"),
    ports: text("ports", { mode: "json" }).$type<PortMapping[]>(),
    command: text("command", { mode: "json" }).$type<string[]>(),
    cpus: real("cpus"),
    memoryBytes: integer("memory_bytes"),
    restartPolicy: text("restart_policy", { enum: RESTART_POLICIES }).notNull().default("unless-stopped"),
    healthCheck: text("health_check", { mode: "json" }).$type<HealthCheckConfig>(),
    deployTimeoutSeconds: integer("deploy_timeout_seconds").notNull().default(1800),
    /** SHA-256 of the webhook token, for lookups; the token itself is sealed for admins to see. */
    webhookTokenHash: text("webhook_token_hash").notNull(),
    webhookTokenEncrypted: text("webhook_token_encrypted").notNull(),
    webhookSecretEncrypted: text("webhook_secret_encrypted").notNull(),
    status: text("status", { enum: APPLICATION_STATUSES }).notNull().default("idle"),
    /** The deployment whose container is serving. */
    currentDeploymentId: text("current_deployment_id"),
    currentImage: text("current_image"),
    containerId: text("container_id"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("applications_org_app_name_unique").on(t.organizationId, t.appName),
    uniqueIndex("applications_webhook_token_unique").on(t.webhookTokenHash),
    index("applications_project_idx").on(t.projectId),
    index("applications_environment_idx").on(t.environmentId),
    index("applications_org_created_idx").on(t.organizationId, t.createdAt),
  ],
);

export const deployments = sqliteTable(
  "deployments",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    applicationId: text("application_id")
      .notNull()
      .references(() => applications.id, { onDelete: "cascade" }),
    hostId: text("host_id"),
    status: text("status", { enum: DEPLOYMENT_STATUSES }).notNull(),
    trigger: text("trigger", { enum: DEPLOYMENT_TRIGGERS }).notNull(),
    title: text("title").notNull(),
    /** The branch or ref asked for; the commit once resolved. */
    ref: text("ref"),
    commitSha: text("commit_sha"),
    commitMessage: text("commit_message"),
    /** `pier/<app name>:<deployment id>`: what a rollback runs again. */
    imageTag: text("image_tag"),
    imageId: text("image_id"),
    /** For rollbacks: the deployment whose image is reused. */
    rollbackOf: text("rollback_of"),
    taskId: text("task_id"),
    error: text("error"),
    containerId: text("container_id"),
    webhookDeliveryId: text("webhook_delivery_id"),
    timeoutSeconds: integer("timeout_seconds").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [
    index("deployments_app_created_idx").on(t.applicationId, t.createdAt),
    index("deployments_org_status_idx").on(t.organizationId, t.status),
  ],
);

/**
 * Build and deploy output, one row per piece as it arrives: appended, never rewritten, so a
 * follower reads `seq > last` and a large log is never one growing value.
 */
export const deploymentLogs = sqliteTable(
  "deployment_logs",
  {
    deploymentId: text("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    organizationId: org(),
    stream: text("stream", { enum: ["stdout", "stderr", "system"] }).notNull(),
    data: text("data").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.seq] })],
);

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    applicationId: text("application_id")
      .notNull()
      .references(() => applications.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: WEBHOOK_PROVIDERS }).notNull(),
    event: text("event"),
    /** The provider's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, X-Request-UUID). */
    deliveryId: text("delivery_id"),
    /** Set on the first verified delivery of an id only: the unique index makes "deploys once" atomic. */
    dedupeKey: text("dedupe_key"),
    verified: integer("verified", { mode: "boolean" }).notNull(),
    /** received, deployed, coalesced, duplicate, ignored, skipped, rejected, ping, failed. */
    outcome: text("outcome").notNull(),
    detail: text("detail"),
    ref: text("ref"),
    commitSha: text("commit_sha"),
    deploymentId: text("deployment_id"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_dedupe_unique").on(t.applicationId, t.dedupeKey),
    index("webhook_deliveries_app_created_idx").on(t.applicationId, t.createdAt),
  ],
);

export const domains = sqliteTable(
  "domains",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    applicationId: text("application_id")
      .notNull()
      .references(() => applications.id, { onDelete: "cascade" }),
    host: text("host").notNull(),
    path: text("path").notNull().default("/"),
    https: integer("https", { mode: "boolean" }).notNull().default(false),
    certificateType: text("certificate_type", { enum: CERTIFICATE_TYPES }).notNull().default("none"),
    /** The container port Traefik sends traffic to; null: the application's first port, else 80. */
    containerPort: integer("container_port"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("domains_org_host_unique").on(t.organizationId, t.host), index("domains_app_idx").on(t.applicationId)],
);

export const databaseServices = sqliteTable(
  "database_services",
  {
    id: text("id").primaryKey(),
    organizationId: org(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    environmentId: text("environment_id").references(() => environments.id, { onDelete: "cascade" }),
    hostId: text("host_id").references(() => hosts.id, { onDelete: "set null" }),
    engine: text("engine", { enum: DATABASE_ENGINES }).notNull(),
    name: text("name").notNull(),
    appName: text("app_name").notNull(),
    description: text("description"),
    image: text("image").notNull(),
    databaseName: text("database_name"),
    databaseUser: text("database_user"),
    passwordEncrypted: text("password_encrypted").notNull(),
    rootPasswordEncrypted: text("root_password_encrypted"),
    internalPort: integer("internal_port").notNull(),
    externalPort: integer("external_port"),
    volumeName: text("volume_name").notNull(),
    command: text("command", { mode: "json" }).$type<string[]>(),
    status: text("status", { enum: DATABASE_STATUSES }).notNull().default("idle"),
    lastError: text("last_error"),
    containerId: text("container_id"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("database_services_org_app_name_unique").on(t.organizationId, t.appName),
    index("database_services_project_idx").on(t.projectId),
    index("database_services_environment_idx").on(t.environmentId),
  ],
);
