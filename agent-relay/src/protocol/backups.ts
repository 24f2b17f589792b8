import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { VolumeName } from "./refs.ts";

// Volume backups (issue 12): a volume's files out as a tar, and a tar into a volume, as byte
// transfers (protocol/transfer.ts) so neither ever sits in memory. The tar is what the Engine's
// archive endpoint gives for `<mount>/.` from a created, never started container that mounts the
// volume: entries `./…`, owners and modes kept.

export const VolumeExportArgs = z.object({
  name: VolumeName,
  /** Stop the running containers that use the volume while it is read, and start them again after. */
  stop_containers: z.optional(z.boolean()),
});

export const VolumeImportArgs = z.object({
  name: VolumeName,
  /**
   * `create`: a new volume (refused if one of that name exists; removed again if the import fails).
   * `replace`: over an existing volume's files, its running users stopped meanwhile; its previous
   * files are kept in a safety copy volume until the import succeeded, and put back if it failed.
   */
  mode: z.enum(["create", "replace"]),
  /** `replace` stops the volume's running users in any case; kept for symmetry with export. */
  stop_containers: z.optional(z.boolean()),
});

/** Hours: a volume of many gigabytes through a slow store. */
const TRANSFER_TIMEOUT_MS = 6 * 60 * 60_000;

export const BACKUP_OPS = {
  "volume.export": { args: VolumeExportArgs, timeoutMs: TRANSFER_TIMEOUT_MS, streaming: false, idempotent: true, transfer: "download" },
  "volume.import": { args: VolumeImportArgs, timeoutMs: TRANSFER_TIMEOUT_MS, streaming: false, idempotent: false, transfer: "upload" },
} as const satisfies Record<string, OpSpec>;

export interface BackupOpResults {
  "volume.export": { name: string; bytes: number; stopped: string[] };
  "volume.import": {
    name: string;
    mode: "create" | "replace";
    bytes: number;
    /** `replace`: the containers stopped for the restore and started again. */
    restarted: string[];
    /** `replace`: the safety copy, removed once the import succeeded. */
    safety_volume: string | null;
  };
}
