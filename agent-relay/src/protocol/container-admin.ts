import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { TaggedRef } from "./images.ts";
import { ContainerRef, wellFormed } from "./refs.ts";

// Changes to an existing container: resource limits and restart policy live (`docker update`),
// commit to an image, rename.

const RESTART_NAMES = ["no", "always", "unless-stopped", "on-failure"] as const;

/** What `docker update` can change; every field optional, at least one given (see the rules below). */
export const ContainerUpdateFields = z.object({
  // In an update, 0 means "leave as is" to the engine, so no field takes 0 to mean "no limit".
  /** Memory limit in bytes (Docker's minimum is 6 MiB). */
  memory: z.optional(z.number().check(z.int(), z.gte(6 * 1024 * 1024, "must be at least 6 MiB (6291456 bytes), Docker's minimum"))),
  /** Memory plus swap in bytes; -1 for unlimited swap. Must be at least `memory`. */
  memory_swap: z.optional(z.number().check(z.int(), z.gte(-1))),
  /** Memory reservation (soft limit) in bytes. */
  memory_reservation: z.optional(z.number().check(z.int(), z.gte(1))),
  /** Relative CPU weight (`--cpu-shares`; 1024 is the default weight). */
  cpu_shares: z.optional(z.number().check(z.int(), z.gte(2), z.lte(262_144))),
  /** CFS quota in µs per `cpu_period` (`--cpu-quota`); -1 removes it. Docker needs at least 1000. */
  cpu_quota: z.optional(
    z.number().check(
      z.int(),
      z.refine((n) => n === -1 || n >= 1000, "must be at least 1000 µs, or -1 for no quota"),
    ),
  ),
  /** CFS period in µs (`--cpu-period`, 1000–1000000). */
  cpu_period: z.optional(z.number().check(z.int(), z.gte(1000), z.lte(1_000_000))),
  /** CPU limit in cores (`--cpus`, 0.5 = half a core). Not together with cpu_quota. */
  cpus: z.optional(z.number().check(z.gte(0.01), z.lte(1024))),
  /** CPUs the container may run on (`--cpuset-cpus`: "0-2", "0,1"). */
  cpuset_cpus: z.optional(z.string().check(z.regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'must be a CPU list such as "0-2" or "0,1"'))),
  /** Most processes the container may run; -1 for no limit. */
  pids_limit: z.optional(
    z.number().check(
      z.int(),
      z.refine((n) => n === -1 || n > 0, "must be positive, or -1 for no limit"),
    ),
  ),
  restart_policy: z.optional(z.enum(RESTART_NAMES)),
  /** Only with restart_policy "on-failure". */
  restart_max_retries: z.optional(z.number().check(z.int(), z.gte(0))),
});

/** The cross-field rules of an update, for the op's arguments and for a route's body alike. */
export function withUpdateRules<T extends z.ZodMiniType<z.infer<typeof ContainerUpdateFields>>>(schema: T) {
  return schema.check(
    z.refine((a) => Object.entries(a).some(([key, value]) => key !== "id" && value !== undefined), {
      message:
        "nothing to change: give at least one of memory, memory_swap, memory_reservation, cpu_shares, cpu_quota, cpu_period, cpus, cpuset_cpus, pids_limit, restart_policy",
    }),
    z.refine((a) => !(a.cpus !== undefined && a.cpu_quota !== undefined && a.cpu_quota > 0), {
      message: "cpus and cpu_quota both limit CPU time: give one of them",
      path: ["cpus"],
    }),
    z.refine((a) => a.restart_max_retries === undefined || a.restart_policy === "on-failure", {
      message: 'restart_max_retries goes with restart_policy "on-failure"',
      path: ["restart_max_retries"],
    }),
  );
}

export const ContainerUpdateArgs = withUpdateRules(z.extend(ContainerUpdateFields, { id: ContainerRef }));

export const ContainerCommitArgs = z.object({
  id: ContainerRef,
  /** The new image, `[registry/]name[:tag]` (`latest` when the tag is left out). */
  image: TaggedRef,
  comment: z.optional(z.string().check(z.maxLength(4096))),
  author: z.optional(z.string().check(z.maxLength(1024))),
  /** Pause the container while committing (Docker's default: true). */
  pause: z.optional(z.boolean()),
  /** Dockerfile instructions to apply (`docker commit --change`): CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR. */
  changes: z.optional(
    z
      .array(
        z.string().check(
          z.maxLength(4096),
          z.regex(/^\s*(CMD|ENTRYPOINT|ENV|EXPOSE|LABEL|ONBUILD|USER|VOLUME|WORKDIR|STOPSIGNAL|HEALTHCHECK)\s/i, {
            message:
              "must be a Dockerfile instruction docker commit accepts (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, …)",
          }),
          z.refine((s) => !s.includes("\n"), "one instruction per entry, without newlines"),
        ),
      )
      .check(z.maxLength(50)),
  ),
});

export const ContainerRenameArgs = z.object({
  id: ContainerRef,
  name: z.string().check(z.maxLength(255), z.regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, "container names are [a-zA-Z0-9][a-zA-Z0-9_.-]+")),
});

/** A path inside a container: absolute; the engine resolves it (and its links) inside the container's root. */
export const ContainerPath = z.string().check(
  z.minLength(1),
  z.maxLength(4096),
  z.refine((s) => s.startsWith("/") && wellFormed(s) && !s.includes("\0"), { message: "must be an absolute path in the container" }),
);

export const ContainerArchiveArgs = z.object({ id: ContainerRef, path: ContainerPath });

export const ContainerArchivePutArgs = z.object({
  id: ContainerRef,
  /** The directory the tar is extracted into (it must exist). */
  path: ContainerPath,
  /** Refuse to replace a directory with a non-directory or the reverse (`noOverwriteDirNonDir`). */
  no_overwrite_dir_non_dir: z.optional(z.boolean()),
  /** Give the extracted files the container's main user and group (`docker cp -a`). */
  copy_uid_gid: z.optional(z.boolean()),
});

export const CONTAINER_ADMIN_OPS = {
  "container.update": { args: ContainerUpdateArgs, timeoutMs: 30_000, streaming: false, idempotent: true },
  // Committing a large container writes its whole filesystem diff.
  "container.commit": { args: ContainerCommitArgs, timeoutMs: 30 * 60_000, streaming: false, idempotent: false },
  "container.rename": { args: ContainerRenameArgs, timeoutMs: 15_000, streaming: false, idempotent: false },
  // Files in and out of a container through the engine's archive endpoint (`docker cp`).
  "container.archive_stat": { args: ContainerArchiveArgs, timeoutMs: 15_000, streaming: false, idempotent: true },
  "container.archive_get": {
    args: ContainerArchiveArgs,
    timeoutMs: 60 * 60_000,
    streaming: false,
    idempotent: true,
    transfer: "download",
  },
  "container.archive_put": {
    args: ContainerArchivePutArgs,
    timeoutMs: 60 * 60_000,
    streaming: false,
    idempotent: false,
    transfer: "upload",
  },
} as const satisfies Record<string, OpSpec>;

/** The engine's `X-Docker-Container-Path-Stat`, decoded: what the path is. */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits (directory: 1 << 31, symlink: 1 << 27) over the permission bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface ContainerAdminOpResults {
  "container.update": { id: string; warnings: string[] };
  "container.commit": { id: string; image: string };
  "container.rename": { id: string; name: string };
  "container.archive_stat": ContainerPathStat;
  /** Transfer: the bytes are the tar; `transfer_start.meta.stat` is the path's stat. */
  "container.archive_get": { bytes: number };
  "container.archive_put": { path: string; bytes: number };
}
