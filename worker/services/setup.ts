import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { hosts, users } from "../db/schema.ts";
import { ApiError, conflict } from "../errors.ts";
import { hostNameOf, LocalAgentStatus, type LocalAgentAssignment } from "../lib/local-agent.ts";
import { createHost, deleteHost, type HostRow } from "./hosts.ts";
import type { Bindings } from "../env.ts";
import type { Actor, Principal } from "./principal.ts";
import { requireRole } from "./principal.ts";
import { localAgentControlUrl } from "../settings.ts";

// What an empty Pier needs to show its first run, and npm start's one-click local host
// (the control contract is in lib/local-agent.ts).

export interface SetupState {
  needsOwner: boolean;
  registrationOpen: boolean;
  localHost: { available: boolean; hostId: string | null };
}

const ONLY_UNDER_NPM_START =
  "The local host exists only under `npm start`, which runs its agent: elsewhere register a host with POST /api/v1/hosts and run the agent it prints.";

async function askControl(url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new ApiError(502, `npm start's local agent control did not answer (${(err as Error).message}): is npm start still running?`);
  }
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    throw new ApiError(502, `npm start's local agent control answered ${res.status}: ${text.slice(0, 200)}`);
  }
  return res;
}

async function controlStatus(url: string): Promise<LocalAgentStatus> {
  const parsed = LocalAgentStatus.safeParse(await (await askControl(url)).json());
  if (!parsed.success) throw new ApiError(502, "npm start's local agent control answered something unexpected: restart npm start.");
  return parsed.data;
}

/** The host npm start runs an agent for, while it still exists. */
async function localHostRow(db: Database, status: LocalAgentStatus): Promise<Pick<HostRow, "id" | "organizationId"> | undefined> {
  if (!status.host_id) return undefined;
  const [row] = await db
    .select({ id: hosts.id, organizationId: hosts.organizationId })
    .from(hosts)
    .where(eq(hosts.id, status.host_id))
    .limit(1);
  return row;
}

export async function setupState(db: Database, env: Bindings, openRegistration: boolean): Promise<SetupState> {
  const anyUser = await db.select({ id: users.id }).from(users).limit(1);
  const needsOwner = anyUser.length === 0;
  const url = localAgentControlUrl(env);
  let hostId: string | null = null;
  if (url) {
    // The first-run screen must load even if the control is briefly unreachable.
    const status = await controlStatus(url).catch(() => undefined);
    if (status) hostId = (await localHostRow(db, status))?.id ?? null;
  }
  return { needsOwner, registrationOpen: needsOwner || openRegistration, localHost: { available: url !== undefined, hostId } };
}

/**
 * Registers this machine as a host of the caller's organization and has npm start run its agent.
 * One local host per npm start: while it exists, attaching again is a conflict.
 */
export async function attachLocalHost(db: Database, env: Bindings, actor: Actor & { principal: Principal }): Promise<HostRow> {
  const url = localAgentControlUrl(env);
  if (!url) throw new ApiError(404, ONLY_UNDER_NPM_START);
  requireRole(actor.principal, "admin", "attach this machine as a host");
  const status = await controlStatus(url);
  const existing = await localHostRow(db, status);
  if (existing) {
    throw existing.organizationId === actor.principal.organizationId
      ? conflict(`This machine is already attached as host ${existing.id}.`)
      : conflict("This machine is already attached to another organization.");
  }
  const name = hostNameOf(status.machine);
  let created: Awaited<ReturnType<typeof createHost>>;
  try {
    created = await createHost(db, actor, { name });
  } catch (err) {
    // A host of that name already exists (another machine of the same name): say it is the local one.
    if (!(err instanceof ApiError) || err.status !== 409) throw err;
    created = await createHost(db, actor, { name: `${name.slice(0, 57)}-local` });
  }
  const assignment: LocalAgentAssignment = { host_id: created.row.id, token: created.token };
  try {
    await askControl(url, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(assignment) });
  } catch (err) {
    // No agent will ever hold this token: the host would only be a dead entry.
    await deleteHost(db, env, actor, created.row.id).catch(() => undefined);
    throw err;
  }
  return created.row;
}
