import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import { backupsDir } from "../settings.ts";
import { recordAudit } from "./audit.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// `docker save -o <file>` on a host (DevFlow's `images/save`): a write to the host's filesystem, so
// admins only, and only under the backups directory (PIER_BACKUPS_DIR, default /backups). The
// agent checks the path again once symbolic links are resolved on the host.

type Authed = Actor & { principal: Principal };

/** Why `path` is not a file under `root`, or null when it is. */
export function outsideBackups(root: string, path: string): string | null {
  const segments = path.split("/");
  if (!path.startsWith("/")) return "must be an absolute path";
  if (segments.includes("..") || segments.includes(".")) return "must not contain '.' or '..' segments";
  if (path.includes("\0")) return "must not contain NUL";
  const prefix = root === "/" ? "/" : `${root}/`;
  if (!path.startsWith(prefix) || path.length <= prefix.length || path.endsWith("/"))
    return `must be a file under ${root} (the backups directory, PIER_BACKUPS_DIR)`;
  return null;
}

export async function saveImagesToHostFile(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: { images: string[]; path: string },
  field = "path",
) {
  const { principal } = actor;
  requireRole(principal, "admin", "write files on a host");
  const root = backupsDir(env);
  const why = outsideBackups(root, args.path);
  if (why) throw new ApiError(422, `${field} ${why}.`, { errors: [{ pointer: `/body/${field}`, detail: why }] });
  const saved = await runOnOrgHost(db, env, principal.organizationId, hostId, "image.save_file", { ...args, root });
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "image.save_file",
    targetType: "host",
    targetId: hostId,
    metadata: { images: args.images, path: saved.path, size: saved.size },
  });
  return saved;
}
