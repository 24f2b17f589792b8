import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { LabelFilterSchema } from "./volumes.ts";

// Host housekeeping beyond info/version: disk usage as `docker system df` reports it, and
// `docker system prune` (containers, networks, images, build cache; volumes only when asked).

export const SystemPruneArgs = z.object({
  /** Also every unused image, not only dangling ones (`docker system prune -a`), and all build cache. */
  all: z.optional(z.boolean()),
  /** Also unused volumes (`--volumes`): their data is gone for good. */
  volumes: z.optional(z.boolean()),
  /** Only objects created before this: a Go duration (24h, 90m), an RFC 3339 time or epoch seconds. */
  until: z.optional(
    z.string().check(
      z.maxLength(64),
      z.regex(/^(\d+(\.\d+)?|(\d+(ns|us|ms|s|m|h))+|\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)$/, {
        message: "must be a duration (24h, 90m), an RFC 3339 time or epoch seconds",
      }),
    ),
  ),
  label: z.optional(LabelFilterSchema),
});

export const SYSTEM_OPS = {
  "system.df": { args: z.object({}), timeoutMs: 5 * 60_000, streaming: false, idempotent: true },
  // Progress streams as `chunk`s of JSON lines ({progress, status}), one step per object type; the
  // outcome rides on `end.data`.
  "system.prune": { args: SystemPruneArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: false },
} as const satisfies Record<string, OpSpec>;

export const DISK_USAGE_TYPES = ["Images", "Containers", "Local Volumes", "Build Cache"] as const;

/** One row of `docker system df`: sizes in bytes. */
export interface DiskUsageRow {
  type: (typeof DISK_USAGE_TYPES)[number];
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

export interface SystemPruneResult {
  containers: string[];
  networks: string[];
  /** Empty unless volumes were asked for. */
  volumes: string[];
  images: Array<{ untagged?: string; deleted?: string }>;
  build_cache: string[];
  /** Bytes freed, summed over the steps. */
  space_reclaimed: number;
}

export interface SystemOpResults {
  "system.df": { rows: DiskUsageRow[] };
  /** Streaming: the `data` of the final `end`. */
  "system.prune": SystemPruneResult;
}
