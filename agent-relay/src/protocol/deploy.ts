import * as z from "zod/mini";
import { MountSource, NetworkRef, VolumeName } from "./refs.ts";

// The deployment operations of the relay protocol (`deploy.build`, `deploy.run`, `deploy.remove`):
// their arguments and results, shared by the DeployQueue Durable Object and the agent.
//
// Secrets travel in these arguments (environment values, git tokens, deploy keys, registry
// passwords) because the host needs them; neither end ever logs arguments or writes them to
// deployment output.

export const BUILD_TYPES = ["dockerfile", "static", "compose", "nixpacks", "heroku_buildpacks", "paketo_buildpacks", "railpack"] as const;
export type BuildType = (typeof BUILD_TYPES)[number];

/** Compose's words: `always` pulls every time, `missing` only when absent, `never` fails when absent. */
export const PULL_POLICIES = ["always", "missing", "never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** The label every container, image, network and volume of a deployment carries (with dev.pier.managed). */
export const APP_LABEL = "dev.pier.app";
export const DEPLOYMENT_LABEL = "dev.pier.deployment";
export const DATABASE_LABEL = "dev.pier.database";
export const PROJECT_LABEL = "dev.pier.project";

const id = z.string().check(z.minLength(1), z.maxLength(64));
/** A Docker container name. */
const containerName = z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, "container names are [a-zA-Z0-9][a-zA-Z0-9_.-]*"));
/** A time budget: the agent aborts when it runs out (the DO sets it from the deployment's deadline). */
const timeoutMs = z.number().check(z.int(), z.positive(), z.lte(24 * 3600_000));

export const RegistryAuthSchema = z.object({ username: z.string(), password: z.string(), serveraddress: z.optional(z.string()) });

export const GitSourceSchema = z.object({
  /** https://…, ssh://…, git@host:path, or file:// (a repository on the host itself). */
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  branch: z.string().check(z.minLength(1), z.maxLength(255)),
  /** Full or abbreviated sha; omitted: the branch head. */
  commit: z.optional(z.string().check(z.regex(/^[0-9a-f]{7,64}$/i))),
  /** HTTPS token (sent as basic auth with `username`, default `x-access-token`). Secret. */
  token: z.optional(z.string().check(z.maxLength(4096))),
  username: z.optional(z.string().check(z.maxLength(255))),
  /** An SSH private key for ssh URLs. Secret. */
  deploy_key: z.optional(z.string().check(z.maxLength(16_384))),
  /** Subdirectory of the repository used as the build context. */
  path: z.optional(
    z.string().check(
      z.maxLength(1024),
      z.refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "a relative path inside the repository"),
    ),
  ),
});
export type GitSource = z.infer<typeof GitSourceSchema>;

export const DeployBuildArgs = z.object({
  /**
   * Whose container will be named `app_name` (default `application`): a database's image is
   * "built" (pulled when missing) before every start, and its container carries `dev.pier.database`.
   */
  kind: z.optional(z.enum(["application", "database"])),
  app_id: id,
  deployment_id: id,
  app_name: containerName,
  /** What the result is tagged as (`pier/<app name>:<deployment id>`), so a rollback can reuse it. */
  image_tag: z.string().check(z.minLength(1), z.maxLength(255)),
  source: z.discriminatedUnion("type", [
    z.object({
      type: z.literal("image"),
      image: z.string().check(z.minLength(1), z.maxLength(512)),
      pull_policy: z.enum(PULL_POLICIES),
      auth: z.optional(RegistryAuthSchema),
    }),
    z.object({
      type: z.literal("git"),
      git: GitSourceSchema,
      build_type: z.enum(BUILD_TYPES),
      /** Dockerfile path inside the context (dockerfile builds). */
      dockerfile: z.optional(z.string().check(z.maxLength(1024))),
      /** static builds: the directory to serve and the image that serves it (busybox httpd). */
      publish_dir: z.optional(z.string().check(z.maxLength(1024))),
      static_image: z.optional(z.string().check(z.maxLength(512))),
      /** compose builds: the file, and the environment written to the project's `.env`. Secret. */
      compose_file: z.optional(z.string().check(z.maxLength(1024))),
      env: z.optional(z.record(z.string(), z.string())),
    }),
  ]),
  timeout_ms: timeoutMs,
});
export type DeployBuildArgs = z.infer<typeof DeployBuildArgs>;

export interface DeployBuildResult {
  /** The image to run; null for compose, which ran the application itself. */
  image: string | null;
  image_id: string | null;
  /** The commit that was built (git sources). */
  commit: string | null;
  commit_message: string | null;
  /** True when `docker compose up` already started the application (no `deploy.run`). */
  compose: boolean;
}

export const HealthCheckSchema = z.object({
  /** A shell command run by Docker's HEALTHCHECK (`CMD-SHELL`). */
  command: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  /** An HTTP path probed from inside the container (`wget` on 127.0.0.1:`port`). */
  http_path: z.optional(z.string().check(z.startsWith("/"), z.maxLength(2048))),
  port: z.optional(z.number().check(z.int(), z.gte(1), z.lte(65535))),
  interval_seconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(300))),
  timeout_seconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(300))),
  retries: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
  start_period_seconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600))),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

const PortSpec = z.object({
  container_port: z.number().check(z.int(), z.gte(1), z.lte(65535)),
  protocol: z.optional(z.enum(["tcp", "udp", "sctp"])),
  host_port: z.optional(z.number().check(z.int(), z.gte(0), z.lte(65535))),
  host_ip: z.optional(z.string()),
});

export const DeployRunArgs = z.object({
  /** Containers are found by `dev.pier.app` (applications) or `dev.pier.database` (databases). */
  kind: z.enum(["application", "database"]),
  owner_id: id,
  deployment_id: z.optional(id),
  /** The container's final name; the new one runs as `<name>-<deployment>` until it takes over. */
  name: containerName,
  image: z.string().check(z.minLength(1), z.maxLength(512)),
  /**
   * `start-first`: the new container starts beside the old one, which is removed once the new one
   * is healthy. `stop-first`: the old one is stopped first (fixed host ports, databases) and
   * started again if the new one fails.
   */
  strategy: z.enum(["start-first", "stop-first"]),
  /** Secret. */
  env: z.optional(z.record(z.string(), z.string())),
  cmd: z.optional(z.array(z.string())),
  ports: z.optional(z.array(PortSpec)),
  volumes: z.optional(
    z.array(z.object({ source: MountSource, target: z.string().check(z.startsWith("/")), read_only: z.optional(z.boolean()) })),
  ),
  labels: z.optional(z.record(z.string(), z.string())),
  restart_policy: z.optional(z.enum(["no", "always", "unless-stopped", "on-failure"])),
  cpus: z.optional(z.number().check(z.positive(), z.lte(1024))),
  memory: z.optional(z.number().check(z.int(), z.gte(6 * 1024 * 1024))),
  network: z.optional(z.object({ name: NetworkRef, aliases: z.optional(z.array(z.string())) })),
  health_check: z.optional(HealthCheckSchema),
  /** How long the container must stay up when there is no health check (default 2 s). */
  min_uptime_ms: z.optional(z.number().check(z.int(), z.gte(0), z.lte(600_000))),
  timeout_ms: timeoutMs,
});
export type DeployRunArgs = z.infer<typeof DeployRunArgs>;

export interface DeployRunResult {
  container_id: string;
  container_name: string;
  /** Ids of the containers it replaced (now removed). */
  replaced: string[];
}

export const DeployRemoveArgs = z.object({
  kind: z.enum(["application", "database"]),
  owner_id: id,
  /** Named volumes to remove too (a purged database). */
  volumes: z.optional(z.array(VolumeName)),
  /** The project's network, removed too once no container is attached to it. */
  network: z.optional(NetworkRef),
  /** Applications: their images go too (tags `pier/<app_name>:*` and images labelled with the app). */
  images: z.optional(z.boolean()),
  app_name: z.optional(containerName),
  /** Applications: the agent's bare clone of the repository goes too. */
  clone: z.optional(z.boolean()),
});
export type DeployRemoveArgs = z.infer<typeof DeployRemoveArgs>;

export interface DeployRemoveResult {
  containers: string[];
  volumes: string[];
  network_removed: boolean;
  /** Image tags (or ids, for untagged images) removed. */
  images?: string[];
  clone_removed?: boolean;
}

/**
 * `deploy.prune`: removes an application's deployment images except `keep` (the images of its
 * last successful deployments, kept for rollback). An image a container still uses stays.
 */
export const DeployPruneArgs = z.object({
  app_id: id,
  app_name: containerName,
  keep: z.array(z.string().check(z.minLength(1), z.maxLength(255))).check(z.maxLength(1000)),
});
export type DeployPruneArgs = z.infer<typeof DeployPruneArgs>;

export interface DeployPruneResult {
  removed: string[];
  kept: string[];
  /** Not in `keep` but used by a container, so left alone. */
  in_use: string[];
}

/** The label that finds the containers of an application or a database. */
export const ownerLabel = (kind: "application" | "database"): string => (kind === "application" ? APP_LABEL : DATABASE_LABEL);
