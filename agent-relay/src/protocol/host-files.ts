import * as z from "zod/mini";
import type { OpSpec } from "./ops.ts";
import { ImageRef, wellFormed } from "./refs.ts";

// Files the agent writes on the host itself (DevFlow's `docker save -o <file>`): only under a
// directory the control plane names (its backups directory), checked at both ends — lexically by
// the Worker, and by the agent again after resolving symbolic links on the host.

const HostPath = z.string().check(
  z.maxLength(4096),
  z.refine((s) => s.startsWith("/") && wellFormed(s) && !s.includes("\0") && !s.split("/").includes(".."), {
    message: "must be an absolute path without '..'",
  }),
);

export const ImageSaveFileArgs = z.object({
  /** The images to save into one tar, as `docker save` takes them. */
  images: z.array(ImageRef).check(z.minLength(1), z.maxLength(50)),
  /** Where to write the tar: a file under `root`. */
  path: HostPath,
  /** The directory the file must stay in (created when missing). */
  root: HostPath,
});

export const HOST_FILE_OPS = {
  "image.save_file": { args: ImageSaveFileArgs, timeoutMs: 60 * 60_000, streaming: false, idempotent: true },
} as const satisfies Record<string, OpSpec>;

export interface HostFileOpResults {
  "image.save_file": { path: string; size: number };
}
