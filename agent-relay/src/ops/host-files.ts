// `docker save -o <file>` on the host, confined to the directory the control plane names: the
// path is checked lexically by both ends, and here again once symbolic links are resolved, so a
// link inside the directory cannot lead the write elsewhere. The tar goes to a temporary file
// beside the target and is renamed over it only when complete.
import { createWriteStream } from "node:fs";
import { lstat, mkdir, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { imageSave } from "../docker/image-admin.ts";
import { InvalidArgsError } from "../errors.ts";
import type { OpHandlers } from "./context.ts";

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

export const hostFileOps: Pick<OpHandlers, "image.save_file"> = {
  "image.save_file": async (args, { docker, signal }) => {
    const root = resolve(args.root);
    const target = resolve(args.path);
    if (!inside(root, target) || target === root) throw new InvalidArgsError(`${args.path} is not a file under ${root}`);
    await mkdir(root, { recursive: true, mode: 0o750 });
    const realRoot = await realpath(root);
    const parent = dirname(target);
    await mkdir(parent, { recursive: true, mode: 0o750 });
    const realParent = await realpath(parent);
    if (!inside(realRoot, realParent)) throw new InvalidArgsError(`${args.path} leads outside ${root} through a symbolic link`);
    const final = join(realParent, basename(target));
    const existing = await lstat(final).catch(() => null);
    if (existing && !existing.isFile()) throw new InvalidArgsError(`${args.path} exists and is not a regular file`);

    const partial = join(realParent, `.${basename(target)}.${process.pid}-${Date.now()}.partial`);
    try {
      const reply = await docker.transport.send(imageSave, { names: args.images }, signal);
      // `wx`: never through a file (or link) someone put there in the meantime.
      await pipeline(reply.body, createWriteStream(partial, { flags: "wx", mode: 0o640 }), { signal });
      await rename(partial, final);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { path: final, size: (await stat(final)).size };
  },
};
