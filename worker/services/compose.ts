import type { OpArgs } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { ApplicationRow } from "./applications.ts";
import { recordAudit } from "./audit.ts";
import { getDeployment, isFinished, readLogs, requestDeployment } from "./deployments.ts";
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

/** How long DevFlow's synchronous `compose/up` waits for the deployment it starts. */
const COMPOSE_UP_WAIT_MS = 30 * 60_000;
const POLL_MS = 500;

/**
 * A Compose application deployed and waited for (DevFlow's `compose/up`): Pier runs a Compose
 * application by deploying it — fetch the commit, then `docker compose up -d --build` as the
 * project named after its app name — so "compose up" is that deployment. Answers the deployment
 * and everything it printed.
 */
export async function composeUpApplication(db: Database, env: Bindings, actor: Authed, app: ApplicationRow) {
  const { principal } = actor;
  requireRole(principal, "member", "deploy applications");
  if (app.buildType !== "compose")
    throw new ApiError(
      409,
      `${app.name} is not a Compose application (its build type is ${app.buildType}): set build_type "compose" and compose_file on it (PATCH /api/v1/applications/${app.id}), or deploy it with POST /api/v1/applications/${app.id}/deployments.`,
    );
  const { deployment } = await requestDeployment(db, env, actor, app.id, { trigger: "devflow", title: "docker compose up" });
  const deadline = Date.now() + COMPOSE_UP_WAIT_MS;
  let row = deployment;
  while (!isFinished(row.status)) {
    if (Date.now() > deadline)
      throw new ApiError(
        504,
        `Deployment ${row.id} is still running after ${COMPOSE_UP_WAIT_MS / 60_000} minutes: follow it at /api/v1/deployments/${row.id}.`,
      );
    await scheduler.wait(POLL_MS);
    row = await getDeployment(db, principal, deployment.id);
  }
  const output = (await readLogs(db, row.id, 0, 100_000)).map((l) => l.data).join("");
  return { deployment: row, output };
}
