import * as z from "zod/mini";
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
import { DUMP_OPS, type DumpOpResults } from "./dumps.ts";
import { HOST_FILE_OPS, type HostFileOpResults } from "./host-files.ts";
import { CONTAINER_ADMIN_OPS, type ContainerAdminOpResults } from "./container-admin.ts";
import { IMAGE_OPS, type ImageOpResults } from "./images.ts";
import { NETWORK_OPS, type NetworkOpResults } from "./networks.ts";
import { ContainerRef, ImageRef, MountSource, NetworkRef } from "./refs.ts";
import type { StatsSample } from "./sample.ts";
import { SYSTEM_OPS, type SystemOpResults } from "./system.ts";
import type { TransferKind } from "./transfer.ts";
import { VOLUME_OPS, type VolumeOpResults } from "./volumes.ts";
import { BACKUP_OPS, type BackupOpResults } from "./backups.ts";
import { FIREWALL_OPS, type FirewallOpResults } from "./firewall.ts";
import { METRICS_OPS, type MetricsConfigureResult } from "./metrics.ts";

/**
 * The operations a HostRelay can ask an agent to run. The Durable Object validates `args` with the
 * same schema before sending, so a bad request is a 422 at the API and never a round trip; the
 * agent validates again because it trusts nothing on the wire.
 */
export interface OpSpec<A extends z.ZodMiniType = z.ZodMiniType> {
  readonly args: A;
  /** Default time budget; the DO sets `deadline = now + commandTimeoutMs(op, args)`. */
  readonly timeoutMs: number;
  /** May answer with `chunk`… `end` instead of `result`; see `isStreaming` for the exact rule. */
  readonly streaming: boolean;
  /** Safe to send again after the socket dropped mid-command. */
  readonly idempotent: boolean;
  /**
   * A byte transfer (protocol/transfer.ts): its bytes move in credit-controlled binary frames
   * between `cmd` and `result`. Run with HostRelay.openDownload / openUpload, never `command`.
   */
  readonly transfer?: TransferKind;
}

const containerId = ContainerRef;
const byId = z.object({ id: containerId });
const stopTimeout = z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600)));

export const PortSchema = z.object({
  container_port: z.number().check(z.int(), z.gte(1), z.lte(65535)),
  protocol: z.optional(z.enum(["tcp", "udp", "sctp"])),
  /** Omit to let Docker pick a free host port. */
  host_port: z.optional(z.number().check(z.int(), z.gte(0), z.lte(65535))),
  host_ip: z.optional(z.string()),
});

export const VolumeSchema = z.object({
  /** An absolute host path (bind mount) or a named volume (created with the pier label). */
  source: MountSource,
  target: z.string().check(z.startsWith("/")),
  read_only: z.optional(z.boolean()),
});

export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;

export const ContainerCreateArgs = z.object({
  name: z.optional(z.string().check(z.regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, "container names are [a-zA-Z0-9][a-zA-Z0-9_.-]+"))),
  image: ImageRef,
  cmd: z.optional(z.array(z.string())),
  entrypoint: z.optional(z.array(z.string())),
  env: z.optional(z.record(z.string(), z.string())),
  ports: z.optional(z.array(PortSchema)),
  volumes: z.optional(z.array(VolumeSchema)),
  labels: z.optional(z.record(z.string(), z.string())),
  restart_policy: z.optional(z.enum(RESTART_POLICIES)),
  /** Only with restart_policy "on-failure". */
  restart_max_retries: z.optional(z.number().check(z.int(), z.gte(0))),
  /** CPU limit in cores (0.5 = half a core). */
  cpus: z.optional(z.number().check(z.positive(), z.lte(1024))),
  /** Memory limit in bytes (Docker's minimum is 6 MiB). */
  memory: z.optional(z.number().check(z.int(), z.gte(6 * 1024 * 1024))),
  workdir: z.optional(z.string()),
  user: z.optional(z.string()),
  network: z.optional(NetworkRef),
  /** A static address on `network` (a user-defined network with a subnet). */
  ipv4_address: z.optional(z.ipv4()),
  hostname: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/, "a hostname is a DNS label"))),
  /** Docker's HEALTHCHECK as a shell command (`CMD-SHELL`). */
  health_check: z.optional(
    z.object({
      command: z.string().check(z.minLength(1), z.maxLength(4096)),
      interval_seconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(300))),
      timeout_seconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(300))),
      retries: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
      start_period_seconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600))),
    }),
  ),
  /**
   * A size limit for the container's writable layer in GB (`--storage-opt size=`): only overlay2 on
   * xfs with pquota, btrfs and zfs support it; the engine refuses it elsewhere.
   */
  storage_size_gb: z.optional(z.number().check(z.int(), z.gte(1))),
  /** Start it after creating it ("docker run -d"). */
  start: z.optional(z.boolean()),
  /** When to pull the image, in Compose's words: `missing` (default), `always`, `never`. */
  pull_policy: z.optional(z.enum(PULL_POLICIES)),
});

export const ContainerLogsArgs = z.object({
  id: containerId,
  /** Number of lines from the end, or "all". */
  tail: z.optional(z.union([z.number().check(z.int(), z.gte(0)), z.literal("all")])),
  /** Epoch seconds (fractions allowed) or an ISO 8601 time. */
  since: z.optional(z.union([z.number().check(z.gte(0)), z.iso.datetime({ offset: true })])),
  timestamps: z.optional(z.boolean()),
  stdout: z.optional(z.boolean()),
  stderr: z.optional(z.boolean()),
  /** Streams `chunk`s (with `stream: "stdout" | "stderr"`) until cancelled or the container stops. */
  follow: z.optional(z.boolean()),
});

export const ContainerExecArgs = z.object({
  id: containerId,
  cmd: z.array(z.string()).check(z.minLength(1)),
  env: z.optional(z.record(z.string(), z.string())),
  workdir: z.optional(z.string()),
  user: z.optional(z.string()),
  /** The process keeps running inside the container after this; Docker cannot kill an exec. */
  timeout_ms: z.optional(z.number().check(z.int(), z.positive(), z.lte(3_600_000))),
});

export const ImagePullArgs = z.object({
  /** "busybox", "busybox:1.36", "ghcr.io/org/app@sha256:…" */
  image: ImageRef,
  platform: z.optional(z.string()),
  /** Registry credentials; never logged. */
  auth: z.optional(z.object({ username: z.string(), password: z.string(), serveraddress: z.optional(z.string()) })),
});

const spec = <A extends z.ZodMiniType>(s: OpSpec<A>): OpSpec<A> => s;
const none = z.object({});

export const OPS = {
  "container.list": spec({
    args: z.object({ all: z.optional(z.boolean()) }),
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
      signal: z.optional(z.string().check(z.regex(/^[A-Z0-9+-]+$/i))),
    }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: false,
  }),
  "container.pause": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: false }),
  "container.unpause": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: false }),
  "container.remove": spec({
    args: z.object({ id: containerId, force: z.optional(z.boolean()), volumes: z.optional(z.boolean()) }),
    timeoutMs: 30_000,
    streaming: false,
    idempotent: false,
  }),
  "container.logs": spec({ args: ContainerLogsArgs, timeoutMs: 30_000, streaming: true, idempotent: true }),
  "container.top": spec({
    args: z.object({ id: containerId, ps_args: z.optional(z.string()) }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  }),
  "container.exec": spec({ args: ContainerExecArgs, timeoutMs: 60_000, streaming: false, idempotent: false }),
  "container.stats": spec({ args: byId, timeoutMs: 15_000, streaming: false, idempotent: true }),
  "stats.all": spec({ args: none, timeoutMs: 5_000, streaming: false, idempotent: true }),
  "image.list": spec({
    args: z.object({ all: z.optional(z.boolean()) }),
    timeoutMs: 15_000,
    streaming: false,
    idempotent: true,
  }),
  // Progress streams as `chunk`s of JSON lines ({progress, status}); the outcome rides on `end.data`.
  "image.pull": spec({ args: ImagePullArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: true }),
  "image.remove": spec({
    args: z.object({ id: ImageRef, force: z.optional(z.boolean()), noprune: z.optional(z.boolean()) }),
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
  ...BACKUP_OPS,
  ...NETWORK_OPS,
  ...SYSTEM_OPS,
  ...COMPOSE_OPS,
  ...HOST_FILE_OPS,
  ...IMAGE_OPS,
  ...CONTAINER_ADMIN_OPS,
  ...DUMP_OPS,
  ...FIREWALL_OPS,
  ...METRICS_OPS,
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

/** Whether the op moves bytes (protocol/transfer.ts), and which way. */
export function transferKind(op: OpName): TransferKind | undefined {
  return (OPS[op] as OpSpec).transfer;
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
    BackupOpResults,
    NetworkOpResults,
    SystemOpResults,
    ComposeOpResults,
    HostFileOpResults,
    ImageOpResults,
    ContainerAdminOpResults,
    DumpOpResults,
    FirewallOpResults {
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
  "metrics.configure": MetricsConfigureResult;
  /** Streaming: these are the `data` of the final `end`. */
  "deploy.build": DeployBuildResult;
  "deploy.run": DeployRunResult;
  "deploy.remove": DeployRemoveResult;
  "deploy.prune": DeployPruneResult;
}

export type OpResult<O extends OpName> = OpResults[O];
