import { z } from "@hono/zod-openapi";
import { HealthCheckSchema } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { BUILD_TYPES, CERTIFICATE_TYPES, DATABASE_ENGINES, DEPLOYMENT_STATUSES, PULL_POLICIES, RESTART_POLICIES } from "../db/schema.ts";
import type { ApplicationRow } from "../services/applications.ts";
import type { DatabaseRow } from "../services/databases.ts";
import type { DeploymentRow } from "../services/deployments.ts";
import type { DomainRow } from "../services/domains.ts";
import type { EnvVars } from "../services/environment.ts";
import type { ProjectRow } from "../services/projects.ts";
import type { EnvironmentRow } from "../services/project-environments.ts";
import type { DeliveryRow } from "../services/webhooks.ts";
import type { PlacementFilter } from "../services/project-lookup.ts";
import { PageQuery } from "../lib/pagination.ts";

// Request and response schemas of projects, applications, deployments, domains, databases and
// webhook deliveries: one definition validates, types and documents (/openapi.json).

// ---- fields (worker/services/fields.ts) -----------------------------------------------------

export { Name, Description, AppName, ImageRef, isGitUrl, GitUrl, isBranch, Branch, Commit, RelativePath } from "../services/fields.ts";
import { Name, Description, AppName, ImageRef, GitUrl, Branch, Commit, RelativePath } from "../services/fields.ts";

export const Port = z.number().int().min(1).max(65535);
export const PortMapping = z
  .object({
    container_port: Port,
    host_port: Port.optional().openapi({
      description: "Publish on this host port (the old container then stops before the new one starts).",
    }),
    protocol: z.enum(["tcp", "udp"]).optional(),
  })
  .openapi("PortMapping");
export const EnvironmentInput = z
  .union([z.string().max(256 * 1024), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))])
  .openapi({ description: "dotenv text (`KEY=value` lines) or an object of variables." });

// ---- projects -------------------------------------------------------------------------------

export const NewProjectBody = z.object({ name: Name, description: z.string().max(2000).optional() }).openapi("NewProjectRequest");
export const ProjectPatchBody = z.object({ name: Name.optional(), description: Description.optional() }).openapi("ProjectPatch");

export const ProjectView = z
  .object({ id: z.string(), name: z.string(), description: z.string().nullable(), created_at: z.string(), updated_at: z.string() })
  .openapi("Project");
export const toProjectView = (p: ProjectRow): z.infer<typeof ProjectView> => ({
  id: p.id,
  name: p.name,
  description: p.description,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
});

// ---- environments ---------------------------------------------------------------------------

export const NewEnvironmentBody = z.object({ name: Name, description: z.string().max(2000).optional() }).openapi("NewEnvironmentRequest");
export const EnvironmentPatchBody = z.object({ name: Name.optional(), description: Description.optional() }).openapi("EnvironmentPatch");
export const EnvironmentView = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    is_default: z.boolean().openapi({ description: "The project's `production` environment: made with it, never deleted." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Environment");
export const toEnvironmentView = (e: EnvironmentRow): z.infer<typeof EnvironmentView> => ({
  id: e.id,
  project_id: e.projectId,
  name: e.name,
  description: e.description,
  is_default: e.isDefault,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

// ---- applications ---------------------------------------------------------------------------

const applicationFields = {
  host_id: z.string().min(1).max(64).nullable().optional().openapi({ description: "Defaults to the organization's default host." }),
  name: Name,
  app_name: AppName.optional(),
  description: Description.optional(),
  source_type: z.enum(["image", "git"]).nullable().optional().openapi({ description: "Inferred from `image` or `git_url` when omitted." }),
  image: ImageRef.nullable().optional(),
  pull_policy: z.enum(PULL_POLICIES).optional().openapi({ description: "Compose's words: always, missing (default), never." }),
  registry_username: z.string().max(255).nullable().optional(),
  registry_password: z.string().max(4096).nullable().optional().openapi({ description: "Write-only, stored encrypted (admin)." }),
  registry_server: z.string().max(255).nullable().optional(),
  git_url: GitUrl.nullable().optional(),
  git_branch: Branch.optional(),
  git_path: RelativePath.nullable().optional().openapi({ description: "Subdirectory used as the build context." }),
  git_token: z
    .string()
    .min(1)
    .max(4096)
    .nullable()
    .optional()
    .openapi({ description: "HTTPS token for a private repository. Write-only, stored encrypted (admin)." }),
  git_username: z
    .string()
    .max(255)
    .nullable()
    .optional()
    .openapi({ description: "Username sent with the token (default x-access-token; GitLab: oauth2; Bitbucket: your user)." }),
  git_deploy_key: z
    .string()
    .min(1)
    .max(16_384)
    .nullable()
    .optional()
    .openapi({ description: "SSH private key for ssh URLs. Write-only, stored encrypted (admin)." }),
  build_type: z.enum(BUILD_TYPES).optional(),
  dockerfile: RelativePath.nullable().optional(),
  publish_dir: RelativePath.nullable()
    .optional()
    .openapi({ description: "static builds: the directory to serve (default the repository root)." }),
  static_image: ImageRef.nullable()
    .optional()
    .openapi({ description: "static builds: the image that serves the files with busybox httpd (default busybox:stable)." }),
  compose_file: RelativePath.nullable().optional(),
  ports: z.array(PortMapping).max(32).nullable().optional(),
  command: z.array(z.string().max(4096)).max(64).nullable().optional(),
  cpus: z.number().positive().max(1024).nullable().optional().openapi({ description: "CPU limit in cores." }),
  memory: z
    .number()
    .int()
    .min(6 * 1024 * 1024)
    .nullable()
    .optional()
    .openapi({ description: "Memory limit in bytes." }),
  restart_policy: z.enum(RESTART_POLICIES).optional(),
  health_check: classic(HealthCheckSchema)
    .nullable()
    .optional()
    .openapi({ description: "A Docker HEALTHCHECK command, and/or an HTTP path probed from inside the container." }),
  deploy_timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .optional()
    .openapi({ description: "A deployment running longer is failed and aborted (default 1800)." }),
  environment: EnvironmentInput.optional().openapi({ description: "Write-only here; stored encrypted (admin)." }),
};

const placementFields = {
  project_id: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "The project; the service goes into its default environment unless environment_id is given." }),
  environment_id: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "The environment (its project is implied). Give this or project_id." }),
};

/** A page of applications or databases, of one project (`?project_id=`) or environment (`?environment_id=`). */
export const PlacedPageQuery = PageQuery.extend({
  project_id: z.string().max(64).optional(),
  environment_id: z.string().max(64).optional(),
});
export const placementFilter = (q: { project_id?: string; environment_id?: string }): PlacementFilter => ({
  projectId: q.project_id,
  environmentId: q.environment_id,
});

export const NewApplicationBody = z.object({ ...placementFields, ...applicationFields }).openapi("NewApplicationRequest");
export const ApplicationPatchBody = z
  .object({ ...applicationFields, name: Name.optional() })
  .partial()
  .openapi("ApplicationPatch");

export const ApplicationView = z
  .object({
    id: z.string(),
    project_id: z.string(),
    environment_id: z.string().nullable(),
    host_id: z.string().nullable(),
    name: z.string(),
    app_name: z.string(),
    description: z.string().nullable(),
    source_type: z.enum(["image", "git"]).nullable(),
    image: z.string().nullable(),
    pull_policy: z.enum(PULL_POLICIES),
    registry_auth: z.boolean(),
    git_url: z.string().nullable(),
    git_branch: z.string(),
    git_path: z.string().nullable(),
    git_auth: z
      .enum(["token", "deploy_key"])
      .nullable()
      .openapi({ description: "Which credential is stored; the credential itself is never shown." }),
    build_type: z.enum(BUILD_TYPES),
    dockerfile: z.string().nullable(),
    publish_dir: z.string().nullable(),
    static_image: z.string().nullable(),
    compose_file: z.string().nullable(),
    ports: z.array(PortMapping),
    command: z.array(z.string()).nullable(),
    cpus: z.number().nullable(),
    memory: z.number().nullable(),
    restart_policy: z.enum(RESTART_POLICIES),
    health_check: z.record(z.string(), z.unknown()).nullable(),
    deploy_timeout_seconds: z.number(),
    environment: z
      .record(z.string(), z.string())
      .openapi({ description: "Variable names with masked values (`?reveal=true` shows them to admins)." }),
    status: z.string(),
    current_deployment_id: z.string().nullable(),
    current_image: z.string().nullable(),
    webhook_url: z
      .string()
      .nullable()
      .openapi({ description: "Admins only (null for others): where GitHub, GitLab or Bitbucket send pushes." }),
    webhook_secret: z.string().nullable().openapi({ description: "Admins only (null for others): the secret those providers sign with." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Application");

export function toApplicationView(
  a: ApplicationRow,
  extra: { environment: EnvVars; webhook?: { url: string; secret: string } | null },
): z.infer<typeof ApplicationView> {
  return {
    id: a.id,
    project_id: a.projectId,
    environment_id: a.environmentId,
    host_id: a.hostId,
    name: a.name,
    app_name: a.appName,
    description: a.description,
    source_type: a.sourceType,
    image: a.image,
    pull_policy: a.pullPolicy,
    registry_auth: a.registryAuthEncrypted !== null,
    git_url: a.gitUrl,
    git_branch: a.gitBranch,
    git_path: a.gitPath,
    git_auth: a.gitAuth,
    build_type: a.buildType,
    dockerfile: a.dockerfile,
    publish_dir: a.publishDir,
    static_image: a.staticImage,
    compose_file: a.composeFile,
    ports: a.ports ?? [],
    command: a.command,
    cpus: a.cpus,
    memory: a.memoryBytes,
    restart_policy: a.restartPolicy,
    health_check: (a.healthCheck as Record<string, unknown> | null) ?? null,
    deploy_timeout_seconds: a.deployTimeoutSeconds,
    environment: extra.environment,
    status: a.status,
    current_deployment_id: a.currentDeploymentId,
    current_image: a.currentImage,
    webhook_url: extra.webhook?.url ?? null,
    webhook_secret: extra.webhook?.secret ?? null,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

// ---- deployments ----------------------------------------------------------------------------

export const DeployBody = z
  .object({
    ref: Branch.optional().openapi({ description: "Branch to build (default the application's)." }),
    commit: Commit.optional().openapi({ description: "Commit to build (default the branch head)." }),
    title: z.string().max(200).optional(),
  })
  .openapi("DeployRequest");

export const DeploymentView = z
  .object({
    id: z.string(),
    application_id: z.string(),
    host_id: z.string().nullable(),
    status: z.enum(DEPLOYMENT_STATUSES),
    trigger: z.string(),
    title: z.string(),
    ref: z.string().nullable(),
    commit: z.string().nullable(),
    commit_message: z.string().nullable(),
    image_tag: z.string().nullable(),
    rollback_of: z.string().nullable(),
    task_id: z.string().nullable(),
    error: z.string().nullable(),
    container_id: z.string().nullable(),
    timeout_seconds: z.number(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi("Deployment");

export const toDeploymentView = (d: DeploymentRow): z.infer<typeof DeploymentView> => ({
  id: d.id,
  application_id: d.applicationId,
  host_id: d.hostId,
  status: d.status,
  trigger: d.trigger,
  title: d.title,
  ref: d.ref,
  commit: d.commitSha,
  commit_message: d.commitMessage,
  image_tag: d.imageTag,
  rollback_of: d.rollbackOf,
  task_id: d.taskId,
  error: d.error,
  container_id: d.containerId,
  timeout_seconds: d.timeoutSeconds,
  created_at: d.createdAt,
  started_at: d.startedAt,
  finished_at: d.finishedAt,
});

export const QueuedDeploymentView = DeploymentView.extend({
  coalesced: z.boolean().openapi({ description: "The same commit was already waiting: this is that deployment." }),
}).openapi("QueuedDeployment");

export const LogPiece = z
  .object({ seq: z.number(), stream: z.enum(["stdout", "stderr", "system"]), text: z.string(), at: z.string() })
  .openapi("DeploymentLogPiece");

// ---- domains --------------------------------------------------------------------------------

export const DomainBody = z
  .object({
    host: z.string().min(1).max(253),
    path: z.string().max(1024).optional(),
    https: z.boolean().optional(),
    certificate_type: z.enum(CERTIFICATE_TYPES).optional(),
    container_port: Port.nullable().optional().openapi({ description: "Default: the application's first port, else 80." }),
  })
  .openapi("DomainRequest");

export const DomainView = z
  .object({
    id: z.string(),
    application_id: z.string(),
    host: z.string(),
    path: z.string(),
    https: z.boolean(),
    certificate_type: z.enum(CERTIFICATE_TYPES),
    container_port: z.number().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Domain");

export const toDomainView = (d: DomainRow): z.infer<typeof DomainView> => ({
  id: d.id,
  application_id: d.applicationId,
  host: d.host,
  path: d.path,
  https: d.https,
  certificate_type: d.certificateType,
  container_port: d.containerPort,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

// ---- databases ------------------------------------------------------------------------------

export const NewDatabaseBody = z
  .object({
    ...placementFields,
    engine: z.enum(DATABASE_ENGINES),
    name: Name,
    app_name: AppName.optional(),
    description: z.string().max(2000).optional(),
    host_id: z.string().min(1).max(64).optional(),
    database_name: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}$/, "letters, digits, '_', '$', '-'")
      .optional(),
    database_user: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, "letters, digits, '_', '.', '-'")
      .optional(),
    database_password: z.string().min(8).max(256).optional().openapi({ description: "Generated when omitted; stored encrypted." }),
    root_password: z.string().min(8).max(256).optional(),
    image: ImageRef.optional().openapi({
      description: "Default: the engine's official image (postgres:16, mysql:8.4, mariadb:11, mongo:7, redis:7).",
    }),
    command: z.array(z.string().max(4096)).max(64).optional(),
    external_port: Port.nullable().optional(),
    start: z.boolean().optional().openapi({ description: "Start the container now (default true)." }),
  })
  .openapi("NewDatabaseRequest");

export const DatabaseView = z
  .object({
    id: z.string(),
    project_id: z.string(),
    environment_id: z.string().nullable(),
    host_id: z.string().nullable(),
    engine: z.enum(DATABASE_ENGINES),
    name: z.string(),
    app_name: z.string(),
    description: z.string().nullable(),
    image: z.string(),
    database_name: z.string().nullable(),
    database_user: z.string().nullable(),
    internal_host: z.string(),
    internal_port: z.number(),
    external_port: z.number().nullable(),
    volume: z.string(),
    status: z.string(),
    error: z.string().nullable(),
    container_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Database");

export const toDatabaseView = (d: DatabaseRow): z.infer<typeof DatabaseView> => ({
  id: d.id,
  project_id: d.projectId,
  environment_id: d.environmentId,
  host_id: d.hostId,
  engine: d.engine,
  name: d.name,
  app_name: d.appName,
  description: d.description,
  image: d.image,
  database_name: d.databaseName,
  database_user: d.databaseUser,
  internal_host: d.appName,
  internal_port: d.internalPort,
  external_port: d.externalPort,
  volume: d.volumeName,
  status: d.status,
  error: d.lastError,
  container_id: d.containerId,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

export const ConnectionView = z
  .object({
    host: z.string(),
    port: z.number(),
    database: z.string().nullable(),
    user: z.string().nullable(),
    password: z.string(),
    root_password: z.string().nullable(),
    connection_string: z.string(),
  })
  .openapi("DatabaseConnection");

// ---- webhook deliveries ---------------------------------------------------------------------

export const DeliveryView = z
  .object({
    id: z.string(),
    provider: z.string(),
    event: z.string().nullable(),
    delivery_id: z.string().nullable(),
    verified: z.boolean(),
    outcome: z.string(),
    detail: z.string().nullable(),
    ref: z.string().nullable(),
    commit: z.string().nullable(),
    deployment_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");

export const toDeliveryView = (d: DeliveryRow): z.infer<typeof DeliveryView> => ({
  id: d.id,
  provider: d.provider,
  event: d.event,
  delivery_id: d.deliveryId,
  verified: d.verified,
  outcome: d.outcome,
  detail: d.detail,
  ref: d.ref,
  commit: d.commitSha,
  deployment_id: d.deploymentId,
  created_at: d.createdAt,
});
