import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { VolumeName } from "./refs.ts";

// Volumes on a host: list (with usage), inspect, create, remove, prune. Names end up as URL path
// segments on the Docker socket, so they are checked by moby's own grammar at both ends.

/** Docker labels: keys are free text but never empty. */
export const LabelsSchema = z.record(z.string().check(z.minLength(1), z.maxLength(1024)), z.string().check(z.maxLength(4096)));

/** A label filter as `docker … --filter label=…` takes it: `key` or `key=value`. */
export const LabelFilterSchema = z.array(z.string().check(z.minLength(1), z.maxLength(2048))).check(z.maxLength(20));

export const VolumeListArgs = z.object({
  /** Add each volume's size and reference count (`docker system df -v`); costs a disk walk. */
  usage: z.optional(z.boolean()),
  /** Only volumes no container references. */
  dangling: z.optional(z.boolean()),
  label: z.optional(LabelFilterSchema),
});

export const VolumeCreateArgs = z.object({
  /** Omit for an anonymous volume (Docker names it). An existing volume of this name is returned as is. */
  name: z.optional(VolumeName),
  driver: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/, "must be a volume driver name"), z.maxLength(255))),
  /** Driver options (`docker volume create -o type=tmpfs -o device=tmpfs`). */
  driver_opts: z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(255)), z.string().check(z.maxLength(4096)))),
  labels: z.optional(LabelsSchema),
});

export const VolumeRemoveArgs = z.object({ name: VolumeName, force: z.optional(z.boolean()) });
export const VolumePruneArgs = z.object({ label: z.optional(LabelFilterSchema) });

export const VOLUME_OPS = {
  "volume.list": { args: VolumeListArgs, timeoutMs: 60_000, streaming: false, idempotent: true },
  "volume.inspect": { args: z.object({ name: VolumeName }), timeoutMs: 15_000, streaming: false, idempotent: true },
  "volume.create": { args: VolumeCreateArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "volume.remove": { args: VolumeRemoveArgs, timeoutMs: 60_000, streaming: false, idempotent: false },
  "volume.prune": { args: VolumePruneArgs, timeoutMs: 10 * 60_000, streaming: false, idempotent: false },
} as const satisfies Record<string, OpSpec>;

/** One volume, as Docker's inspect shows it; `UsageData` only when usage was asked and known. */
export interface VolumeJson extends Record<string, unknown> {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: string;
  /** Size in bytes and the number of containers using it; -1 when Docker could not tell. */
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeOpResults {
  "volume.list": { volumes: VolumeJson[]; warnings: string[] };
  "volume.inspect": VolumeJson;
  "volume.create": VolumeJson;
  "volume.remove": { name: string; removed: true };
  "volume.prune": { deleted: string[]; space_reclaimed: number };
}
