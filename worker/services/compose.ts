import type { OpArgs } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { recordAudit } from "./audit.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { startHostTask } from "./host-tasks.ts";
import { getHost } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// Compose projects on a host: `up` and `pull` run as tasks (they take as long as the images do),
// `down`, `ps` and `logs` answer at once. Viewers read; members change; naming a directory on the
// host takes an admin (it reads and runs whatever that directory holds).

type Authed = Actor & { principal: Principal };

function requireSourceRole(principal: Principal, args: { directory?: string }, action: string) {
  if (args.directory !== undefined) requireRole(principal, "admin", `${action} a Compose project from a directory on the host`);
}

/**
 * Compose's own check of the project before a task is started: a file it refuses (422) or a host
 * without Compose (501) is answered now, not by a task that fails a moment later.
 */
function checkProject(db: Database, env: Bindings, principal: Principal, hostId: string, args: OpArgs<"compose.config">) {
  const { project, content, directory, files } = args;
  return runOnOrgHost(db, env, principal.organizationId, hostId, "compose.config", {
    project,
    ...(content !== undefined ? { content } : {}),
    ...(directory !== undefined ? { directory } : {}),
    ...(files !== undefined ? { files } : {}),
  });
}

export async function startComposeUp(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"compose.up">) {
  requireRole(actor.principal, "member", "start Compose projects");
  requireSourceRole(actor.principal, args, "start");
  const host = await getHost(db, actor.principal.organizationId, hostId);
  await checkProject(db, env, actor.principal, host.id, args);
  return startHostTask(db, env, actor, host, { kind: "compose.up", args });
}

export async function startComposePull(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"compose.pull">) {
  requireRole(actor.principal, "member", "pull the images of Compose projects");
  requireSourceRole(actor.principal, args, "pull");
  const host = await getHost(db, actor.principal.organizationId, hostId);
  await checkProject(db, env, actor.principal, host.id, args);
  return startHostTask(db, env, actor, host, { kind: "compose.pull", args });
}

export async function composeDown(db: Database, env: Bindings, actor: Authed, hostId: string, args: OpArgs<"compose.down">) {
  const { principal } = actor;
  requireRole(principal, "member", "stop and remove Compose projects");
  requireSourceRole(principal, args, "remove");
  if (args.volumes) requireRole(principal, "admin", "remove a Compose project's volumes (their data is lost for good)");
  const result = await runOnOrgHost(db, env, principal.organizationId, hostId, "compose.down", args);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "compose.down",
    targetType: "host",
    targetId: hostId,
    metadata: {
      project: args.project,
      volumes: args.volumes ?? false,
      source: args.directory ?? (args.content !== undefined ? "content" : "kept"),
    },
  });
  return result;
}

export const composePs = (db: Database, env: Bindings, principal: Principal, hostId: string, args: OpArgs<"compose.ps">) =>
  runOnOrgHost(db, env, principal.organizationId, hostId, "compose.ps", args);

export function composeLogs(db: Database, env: Bindings, principal: Principal, hostId: string, args: OpArgs<"compose.logs">) {
  requireSourceRole(principal, args, "read the logs of");
  return runOnOrgHost(db, env, principal.organizationId, hostId, "compose.logs", args);
}
