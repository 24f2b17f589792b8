import type { ImagePullResult, OpArgs, OpName, OpResult, PullProgress, SystemPruneResult } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { runStreamOnHost } from "./host-relay.ts";
import { getHost } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// Streamed host operations waited for on the request path, for surfaces that answer with the
// outcome and the text the Docker CLI would have printed (DevFlow's pull and prune). The
// canonical API runs the same operations as tasks (host-tasks.ts).

type Authed = Actor & { principal: Principal };

/**
 * Runs a streamed op to its end on a host of the organization (checked first); `onStatus`, when
 * given, sees each `{progress, status}` line's status.
 */
export async function runStreamed<O extends OpName>(
  db: Database,
  env: Bindings,
  principal: Principal,
  hostId: string,
  op: O,
  args: OpArgs<O>,
  onStatus?: (status: string) => void,
): Promise<OpResult<O>> {
  await getHost(db, principal.organizationId, hostId);
  if (!onStatus) return runStreamOnHost(env, hostId, op, args);
  let pending = "";
  return runStreamOnHost(env, hostId, op, args, (chunk) => {
    pending += chunk.data;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onStatus((JSON.parse(line) as PullProgress).status);
  });
}

/** `docker pull`, waited for: the outcome and Docker's status lines, each once, in order. */
export async function pullImageNow(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"image.pull">,
): Promise<{ result: ImagePullResult; lines: string[] }> {
  const { principal } = actor;
  requireRole(principal, "member", "pull images");
  const lines: string[] = [];
  const result = await runStreamed(db, env, principal, hostId, "image.pull", args, (status) => {
    if (status && lines.at(-1) !== status) lines.push(status);
  });
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "image.pull",
    targetType: "host",
    targetId: hostId,
    metadata: { image: args.image, id: result.id },
  });
  return { result, lines };
}

/** `docker system prune`, waited for. Members prune; volumes too take an admin. */
export async function pruneSystemNow(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  args: OpArgs<"system.prune">,
): Promise<SystemPruneResult> {
  const { principal } = actor;
  requireRole(principal, "member", "prune a host's containers, networks, images and build cache");
  if (args.volumes) requireRole(principal, "admin", "prune volumes (their data is lost for good)");
  const result = await runStreamed(db, env, principal, hostId, "system.prune", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "system.prune",
    targetType: "host",
    targetId: hostId,
    metadata: {
      all: args.all ?? false,
      volumes: args.volumes ?? false,
      containers: result.containers.length,
      images: result.images.length,
      space_reclaimed: result.space_reclaimed,
    },
  });
  return result;
}
