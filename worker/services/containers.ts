import type { OpArgs, OpResult } from "#protocol";
import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError } from "../errors.ts";
import { MASK } from "./environment.ts";
import { getHost } from "./hosts.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { startHostTask } from "./host-tasks.ts";
import { roleAtLeast, type Actor, type Principal } from "./principal.ts";
import type { TaskRow } from "./tasks.ts";

export type CreateOutcome = { created: OpResult<"container.create"> } | { task: TaskRow };

/**
 * `docker run -d`, without holding the request through a pull: when the image is on the host (or
 * `pull_policy` is `never`) the container is created now; when it must be pulled (`always`, or
 * `missing` and absent) the pull runs as a task with progress, and the task creates the container
 * when the pull ends (its result is the container). An agent too old to inspect images pulls
 * inside the create, as before.
 */
export async function createContainerOrPull(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  hostId: string,
  args: OpArgs<"container.create">,
): Promise<CreateOutcome> {
  const orgId = actor.principal.organizationId;
  const policy = args.pull_policy ?? "missing";
  if (policy === "always" || (policy === "missing" && !(await imageOnHost(db, env, orgId, hostId, args.image)))) {
    const host = await getHost(db, orgId, hostId);
    return { task: await startHostTask(db, env, actor, host, { kind: "container.create", args }) };
  }
  return { created: await runOnOrgHost(db, env, orgId, hostId, "container.create", args) };
}

async function imageOnHost(db: Database, env: Bindings, orgId: string, hostId: string, image: string): Promise<boolean> {
  try {
    await runOnOrgHost(db, env, orgId, hostId, "image.inspect", { id: image });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    // 501: the agent predates image.inspect; the create pulls by itself.
    if (error instanceof ApiError && error.status === 501) return true;
    throw error;
  }
}

/**
 * Hides environment values in a container's inspect document from callers below admin. Pier puts
 * decrypted application secrets and database passwords into containers' environments, and only
 * admins may read those (as with `?reveal=true` on an application's environment).
 */
export function maskEnvBelowAdmin<T>(principal: Principal, doc: T): T {
  if (roleAtLeast(principal.role, "admin")) return doc;
  const config = (doc as { Config?: { Env?: unknown } }).Config;
  if (!config || !Array.isArray(config.Env)) return doc;
  const env = config.Env.map((entry: unknown) =>
    typeof entry === "string" && entry.includes("=") ? `${entry.slice(0, entry.indexOf("="))}=${MASK}` : entry,
  );
  return { ...doc, Config: { ...config, Env: env } };
}
