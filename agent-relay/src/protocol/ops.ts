import { z } from "zod";
import {
  DeployBuildArgs,
  DeployPruneArgs,
  DeployRemoveArgs,
  DeployRunArgs,
  PULL_POLICIES,
  type DeployBuildResult,
  type DeployPruneResult,
  type DeployRemoveResult,
  type DeployRunResult,
} from "./deploy.ts";
import { COMPOSE_OPS, type ComposeOpResults } from "./compose.ts";
import { HOST_FILE_OPS, type HostFileOpResults } from "./host-files.ts";
import { CONTAINER_ADMIN_OPS, type ContainerAdminOpResults } from "./container-admin.ts";
import { IMAGE_OPS, type ImageOpResults } from "./images.ts";
import { NETWORK_OPS, type NetworkOpResults } from "./networks.ts";
import { ContainerRef, ImageRef, MountSource, NetworkRef } from "./refs.ts";
import type { StatsSample } from "./sample.ts";
import { SYSTEM_OPS, type SystemOpResults } from "./system.ts";
import { VOLUME_OPS, type VolumeOpResults } from "./volumes.ts";

/**
 * The operations a HostRelay can ask an agent to run. The Durable Object validates `args` with the
 * same schema before sending, so a bad request is a 422 at the API and never a round trip; the
 * agent validates again because it trusts nothing on the wire.
 */
export interface OpSpec<A extends z.ZodType = z.ZodType> {
  readonly args: A;
  /** Default time budget; the DO sets `deadline = now + commandTimeoutMs(op, args)`. */
  readonly timeoutMs: number;
  /** May answer with `chunk`… `end` instead of `result`; see `isStreaming` for the exact rule. */
  readonly streaming: boolean;
  /** Safe to send again after the socket dropped mid-command. */
  readonly idempotent: boolean;
}

const containerId = ContainerRef;
const byId = z.object({ id: containerId });
const stopTimeout = z.number().int().min(0).max(3600).optional();

export const PortSchema = z.object({
  container_port: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp", "sctp"]).optional(),
  /** Omit to let Docker pick a free host port. */
  host_port: z.number().int().min(0).max(65535).optional(),
  host_ip: z.string().optional(),
});

export const VolumeSchema = z.object({
  /** An absolute host path (bind mount) or a named volume (created with the pier label). */
  source: MountSource,
  target: z.string().startsWith("/"),
  read_only: z.boolean().optional(),
});

export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;

export const ContainerCreateArgs = z.object({
  name: z
    .string()
    .regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, "container names are [a-zA-Z0-9][a-zA-Z0-9_.-]+")
    .optional(),
  image: ImageRef,
  cmd: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  ports: z.array(PortSchema).optional(),
  volumes: z.array(VolumeSchema).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  restart_policy: z.enum(RESTART_POLICIES).optional(),
  /** Only with restart_policy "on-failure". */
  restart_max_retries: z.number().int().min(0).optional(),
  /** CPU limit in cores (0.5 = half a core). */
  cpus: z.number().positive().max(1024).optional(),
  /** Memory limit in bytes (Docker's minimum is 6 MiB). */
  memory: z
    .number()
    .int()
    .min(6 * 1024 * 1024)
    .optional(),
  workdir: z.string().optional(),
  user: z.string().optional(),
  network: NetworkRef.optional(),
  /** Start it after creating it ("docker run -d"). */
  start: z.boolean().optional(),
  /** When to pull the image, in Compose's words: `missing` (default), `always`, `never`. */
  pull_policy: z.enum(PULL_POLICIES).optional(),
});

export const ContainerLogsArgs = z.object({
  id: containerId,
  /** Number of lines from the end, or "all". */
  tail: z.union([z.number().int().min(0), z.literal("all")]).optional(),
  /** Epoch seconds (fractions allowed) or an ISO 8601 time. */
  since: z.union([z.number().min(0), z.iso.datetime({ offset: true })]).optional(),
  timestamps: z.boolean().optional(),
  stdout: z.boolean().optional(),
  stderr: z.boolean().optional(),
  /** Streams `chunk`s (with `stream: "stdout" | "stderr"`) until cancelled or the container stops. */
  follow: z.boolean().optional(),
});

export const ContainerExecArgs = z.object({
  id: containerId,
  cmd: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).optional(),
  workdir: z.string().optional(),
  user: z.string().optional(),
  /** The process keeps running inside the container after this; Docker cannot kill an exec. */
  timeout_ms: z.number().int().positive().max(3_600_000).optional(),
});

export const ImagePullArgs = z.object({
  /** "busybox", "busybox:1.36", "ghcr.io/org/app@sha256:…" */
  image: ImageRef,
  platform: z.string().optional(),
  /** Registry credentials; never logged. */
  auth: z.object({ username: z.string(), password: z.string(), serveraddress: z.string().optional() }).optional(),
});

const spec = <A extends z.ZodType>(s: OpSpec<A>): OpSpec<A> => s;
const none = z.object({});

export const OPS = {
  "container.list": spec({
    args: z.object({ all: z.boolean().optional() }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  }),
  "container.inspect": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: true }),
  "container.create": spec({ args: ContainerCreateArgs, timeoutMs: 60_000, streaming: false, idempotent: false }),
  "container.start": spec({ args: byId, timeoutMs: 30_000, streaming: false, idempotent: true }),
  "container.stop": spec({
    args: z.object({ id: containerId, timeout: stopTimeout }),
    timeoutMs: 30_000,
    streaming: false,
    idempotent: true,
  }),
  "container.restart": spec({
    args: z.object({ id: containerId, timeout: stopTimeout }),
    timeoutMs: 30_000,
    streaming: false,
    idempotent: false,
  }),
  "container.kill": spec({
    args: z.object({
      id: containerId,
      signal: z
        .string()
        .regex(/^[A-Z0-9+-]+$/i)
        .optional(),
    }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: false,
  }),
  "container.pause": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: false }),
  "container.unpause": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: false }),
  "container.remove": spec({
    args: z.object({ id: containerId, force: z.boolean().optional(), volumes: z.boolean().optional() }),
    timeoutMs: 30_000,
    streaming: false,
    idempotent: false,
  }),
  "container.logs": spec({ args: ContainerLogsArgs, timeoutMs: 30_000, streaming: true, idempotent: true }),
  "container.top": spec({
    args: z.object({ id: containerId, ps_args: z.string().optional() }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  }),
  "container.exec": spec({ args: ContainerExecArgs, timeoutMs: 60_000, streaming: false, idempotent: false }),
  "container.stats": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: true }),
  "stats.all": spec({ args: none, timeoutMs: 5_000, streaming: false, idempotent: true }),
  "image.list": spec({
    args: z.object({ all: z.boolean().optional() }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  }),
  // Progress streams as `chunk`s of JSON lines ({progress, status}); the outcome rides on `end.data`.
  "image.pull": spec({ args: ImagePullArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: true }),
  "image.remove": spec({
    args: z.object({ id: ImageRef, force: z.boolean().optional(), noprune: z.boolean().optional() }),
    timeoutMs: 60_000,
    streaming: false,
    idempotent: false,
  }),
  "system.info": spec({ args: none, timeoutMs: 15_000, streaming: false, idempotent: true }),
  "system.version": spec({ args: none, timeoutMs: 10_000, streaming: false, idempotent: true }),
  // Deployments (protocol/deploy.ts): output streams as `chunk`s, the outcome rides on `end.data`.
  // Their budget is the deployment's remaining time, carried in `args.timeout_ms`.
  "deploy.build": spec({ args: DeployBuildArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: false }),
  "deploy.run": spec({ args: DeployRunArgs, timeoutMs: 10 * 60_000, streaming: true, idempotent: false }),
  "deploy.remove": spec({ args: DeployRemoveArgs, timeoutMs: 60_000, streaming: false, idempotent: true }),
  ...VOLUME_OPS,
  ...NETWORK_OPS,
  ...SYSTEM_OPS,
  ...COMPOSE_OPS,
  ...HOST_FILE_OPS,
  ...IMAGE_OPS,
  ...CONTAINER_ADMIN_OPS,
  "deploy.prune": spec({ args: DeployPruneArgs, timeoutMs: 60_000, streaming: false, idempotent: true }),
} as const;

export type OpName = keyof typeof OPS;
export type OpArgs<O extends OpName> = z.infer<(typeof OPS)[O]["args"]>;
export const OP_NAMES = Object.keys(OPS) as OpName[];

export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPS, name);
}

/** How long a following log stream may stay open before the DO must ask again. */
export const LOGS_FOLLOW_TIMEOUT_MS = 60 * 60_000;
const MARGIN_MS = 5_000;

/**
 * The time budget for one command: the op's default, stretched where the arguments ask Docker to
 * wait (a stop timeout, an exec timeout, a followed log). Both ends use it, so they agree.
 */
export function commandTimeoutMs(op: OpName, args: unknown): number {
  const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
  const base = OPS[op].timeoutMs;
  switch (op) {
    case "container.stop":
    case "container.restart":
      // Docker waits `timeout` seconds (default 10) before it kills.
      return Math.max(base, (typeof a.timeout === "number" ? a.timeout : 10) * 1000 + base);
    case "container.exec":
      return typeof a.timeout_ms === "number" ? a.timeout_ms + MARGIN_MS : base;
    case "container.create":
      // It may pull its image first.
      return a.pull_policy === "never" ? base : OPS["image.pull"].timeoutMs;
    case "container.logs":
      return a.follow === true ? LOGS_FOLLOW_TIMEOUT_MS : base;
    case "deploy.build":
    case "deploy.run":
      return typeof a.timeout_ms === "number" ? a.timeout_ms : base;
    default:
      return base;
  }
}

/** Whether this command answers with `chunk`… `end` (true) or with one `result` (false). */
export function isStreaming(op: OpName, args: unknown): boolean {
  if (op === "container.logs") {
    return typeof args === "object" && args !== null && (args as { follow?: unknown }).follow === true;
  }
  return OPS[op].streaming;
}

// ---- result shapes (what `result.data` holds for each op) ----

/** The raw Docker Engine JSON for list/inspect/info style calls, passed through unchanged. */
export type DockerJson = Record<string, unknown>;

/** A few fields of Docker's `GET /containers/json` entries that callers rely on. */
export interface ContainerSummary extends DockerJson {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  Labels: Record<string, string>;
}

/** start/stop/restart/kill/pause/unpause: `changed: false` when Docker said it was a no-op (304). */
export interface StateChangeResult {
  id: string;
  changed: boolean;
  /** Why nothing changed, e.g. "container already started". */
  note?: string;
}

/** One line of `image.pull` output (a chunk may hold several, newline-separated). */
export interface PullProgress {
  /** 0–100 over all layers: downloading counts for 70 %, extracting for the rest. */
  progress: number;
  status: string;
}

export interface ImagePullResult {
  image: string;
  /** The pulled image's id (sha256:…). */
  id: string;
  /** Docker's last word: "Downloaded newer image for …" or "Image is up to date for …". */
  status: string;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
}

export interface OpResults
  extends VolumeOpResults,
    NetworkOpResults,
    SystemOpResults,
    ComposeOpResults,
    HostFileOpResults,
    ImageOpResults,
    ContainerAdminOpResults {
  "container.list": ContainerSummary[];
  "container.inspect": DockerJson;
  "container.create": { id: string; name: string; warnings: string[]; started: boolean };
  "container.start": StateChangeResult;
  "container.stop": StateChangeResult;
  "container.restart": StateChangeResult;
  "container.kill": StateChangeResult;
  "container.pause": StateChangeResult;
  "container.unpause": StateChangeResult;
  "container.remove": { id: string; removed: true };
  /** Without `follow`. Lines without their newline; `truncated` when the oldest were dropped. */
  "container.logs": { lines: LogLine[]; truncated: boolean };
  "container.top": { Titles: string[]; Processes: string[][] };
  "container.exec": { exit_code: number; stdout: string; stderr: string; truncated: boolean };
  "container.stats": StatsSample;
  /** From the agent's live cache; `at` is the agent's epoch ms. */
  "stats.all": { at: number; samples: StatsSample[] };
  "image.list": DockerJson[];
  /** Streaming: the `data` of the final `end`. */
  "image.pull": ImagePullResult;
  "image.remove": { untagged: string[]; deleted: string[] };
  "system.info": DockerJson;
  "system.version": DockerJson;
  /** Streaming: these are the `data` of the final `end`. */
  "deploy.build": DeployBuildResult;
  "deploy.run": DeployRunResult;
  "deploy.remove": DeployRemoveResult;
  "deploy.prune": DeployPruneResult;
}

export type OpResult<O extends OpName> = OpResults[O];
