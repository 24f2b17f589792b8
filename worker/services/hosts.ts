import { and, count, eq, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { auditEvents, hosts, type HostState } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Bindings } from "../env.ts";
import { conflict, notFound, unauthorized } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import type { LocalAgentRelease } from "../lib/local-agent.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { STALE_MIRROR_MS } from "../lib/presence.ts";
import { nowIso } from "../lib/time.ts";
import { hostLostAfterMs, localAgentControlUrl } from "../settings.ts";
import { auditRow } from "./audit.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";

export type HostRow = typeof hosts.$inferSelect;
type Admin = Actor & { principal: Principal };

export const AGENT_TOKEN_PREFIX = "pagt_";

/** The state to show: the relay's mirror, unless it has gone stale. */
export function effectiveState(row: HostRow, now = Date.now()): HostState {
  if (row.state === "online" && row.lastSeenAt && now - Date.parse(row.lastSeenAt) > STALE_MIRROR_MS) return "disconnected";
  return row.state;
}

async function newAgentToken() {
  const token = `${AGENT_TOKEN_PREFIX}${randomString(40)}`;
  return { token, hash: await sha256Hex(token), prefix: token.slice(0, AGENT_TOKEN_PREFIX.length + 6), createdAt: nowIso() };
}

function rethrowNameTaken(err: unknown, name: string): never {
  if (isUniqueViolation(err, "hosts", "name")) {
    throw conflict(`A host named ${name} already exists in your organization: choose another name.`);
  }
  throw err;
}

export async function createHost(db: Database, actor: Admin, input: { name: string }): Promise<{ row: HostRow; token: string }> {
  const p = actor.principal;
  requireRole(p, "admin", "register hosts");
  const existing = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(and(eq(hosts.organizationId, p.organizationId), eq(hosts.name, input.name)))
    .limit(1);
  if (existing.length > 0) throw conflict(`A host named ${input.name} already exists in your organization: choose another name.`);
  const [{ n } = { n: 0 }] = await db.select({ n: count() }).from(hosts).where(eq(hosts.organizationId, p.organizationId));
  const token = await newAgentToken();
  const now = nowIso();
  const row: HostRow = {
    id: newId("hst"),
    organizationId: p.organizationId,
    name: input.name,
    agentTokenHash: token.hash,
    agentTokenPrefix: token.prefix,
    agentTokenCreatedAt: token.createdAt,
    // The organization's first host is its default (where Dokploy-style calls without a server go).
    isDefault: n === 0,
    createdAt: now,
    updatedAt: now,
    state: "never_connected",
    lastSeenAt: null,
    connectedAt: null,
    disconnectedAt: null,
    agentVersion: null,
    engineVersion: null,
    hostname: null,
    os: null,
    arch: null,
    addresses: null,
    containers: null,
    cpus: null,
  };
  try {
    await db.batch([
      db.insert(hosts).values(row),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "host.create",
          targetType: "host",
          targetId: row.id,
          metadata: { name: row.name },
        }),
      ),
    ]);
  } catch (err) {
    rethrowNameTaken(err, input.name);
  }
  return { row, token: token.token };
}

/** Makes a host the organization's default (where servers and Dokploy-style calls without a host go). */
export async function setDefaultHost(db: Database, actor: Admin, id: string): Promise<HostRow> {
  const p = actor.principal;
  requireRole(p, "admin", "choose the default host");
  const row = await getHost(db, p.organizationId, id);
  await db.batch([
    db.update(hosts).set({ isDefault: false }).where(eq(hosts.organizationId, p.organizationId)),
    db.update(hosts).set({ isDefault: true, updatedAt: nowIso() }).where(eq(hosts.id, row.id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "host.default",
        targetType: "host",
        targetId: row.id,
        metadata: { name: row.name },
      }),
    ),
  ]);
  return { ...row, isDefault: true };
}

export async function listHosts(db: Database, organizationId: string, page: PageQuery) {
  return newestFirstPage(db.select().from(hosts).$dynamic(), hosts, page, eq(hosts.organizationId, organizationId));
}

export async function allHosts(db: Database, organizationId: string): Promise<HostRow[]> {
  return db.select().from(hosts).where(eq(hosts.organizationId, organizationId)).orderBy(hosts.name);
}

/** A host of the organization by id; another organization's host is "not found". */
export async function getHost(db: Database, organizationId: string, id: string): Promise<HostRow> {
  const [row] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.organizationId, organizationId), eq(hosts.id, id)))
    .limit(1);
  if (!row) throw notFound(`Host ${id}`);
  return row;
}

export async function getHostByName(db: Database, organizationId: string, name: string): Promise<HostRow> {
  const [row] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.organizationId, organizationId), eq(hosts.name, name)))
    .limit(1);
  if (!row) throw notFound(`Host ${name}`);
  return row;
}

/** A host of the organization by one of the addresses its agent reported (seed 004 names servers by IP). */
export async function getHostByAddress(db: Database, organizationId: string, address: string): Promise<HostRow> {
  const row = (await allHosts(db, organizationId)).find((h) => h.addresses?.includes(address));
  if (!row) throw notFound(`A host with the address ${address}`);
  return row;
}

/** The host an agent token belongs to; 401 for anything else. */
export async function hostForAgentToken(db: Database, token: string): Promise<HostRow> {
  if (!token.startsWith(AGENT_TOKEN_PREFIX)) throw unauthorized("This is not an agent token: use the token from POST /api/v1/hosts.");
  const [row] = await db
    .select()
    .from(hosts)
    .where(eq(hosts.agentTokenHash, await sha256Hex(token)))
    .limit(1);
  if (!row) throw unauthorized("This agent token is not valid (revoked or rotated): rotate it with POST /api/v1/hosts/:id/rotate-token.");
  return row;
}

/** A new agent token; the old one stops working and its agent is dropped now. */
export async function rotateAgentToken(db: Database, env: Bindings, actor: Admin, id: string): Promise<{ row: HostRow; token: string }> {
  const p = actor.principal;
  requireRole(p, "admin", "rotate agent tokens");
  const row = await getHost(db, p.organizationId, id);
  const token = await newAgentToken();
  await db.batch([
    db
      .update(hosts)
      .set({ agentTokenHash: token.hash, agentTokenPrefix: token.prefix, agentTokenCreatedAt: token.createdAt, updatedAt: nowIso() })
      .where(eq(hosts.id, id)),
    db
      .insert(auditEvents)
      .values(auditRow(actor, { organizationId: p.organizationId, action: "host.rotate_token", targetType: "host", targetId: id })),
  ]);
  await env.HOST_RELAY.getByName(id).disconnect("the agent token was rotated");
  return {
    row: { ...row, agentTokenHash: token.hash, agentTokenPrefix: token.prefix, agentTokenCreatedAt: token.createdAt },
    token: token.token,
  };
}

export async function deleteHost(db: Database, env: Bindings, actor: Admin, id: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "delete hosts");
  const row = await getHost(db, p.organizationId, id);
  await db.batch([
    db.delete(hosts).where(eq(hosts.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "host.delete",
        targetType: "host",
        targetId: id,
        metadata: { name: row.name },
      }),
    ),
  ]);
  await env.HOST_RELAY.getByName(id).disconnect("the host was deleted", true);
  // Under npm start, the local host's supervisor would keep restarting an agent whose token is now
  // revoked (and resume it with every npm start): it stops and forgets it. Best effort: npm start
  // may be gone, and the host is deleted either way. Contract: lib/local-agent.ts.
  const control = localAgentControlUrl(env);
  if (control) {
    await fetch(control, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ host_id: id } satisfies LocalAgentRelease),
      signal: AbortSignal.timeout(5000),
    }).then(
      (res) => res.body?.cancel(),
      () => undefined,
    );
  }
}

/**
 * The presence sweep (cron): hosts whose mirror says online but has gone stale, or disconnected
 * for longer than the lost grace, have a relay that missed its own checks (no alarm was pending
 * when the control plane restarted). Waking each one re-arms its alarm and settles its state, so
 * the host list and the notices come right without waiting for the agent.
 */
export async function sweepPresence(db: Database, env: Bindings, now = Date.now()): Promise<number> {
  const staleBefore = new Date(now - STALE_MIRROR_MS).toISOString();
  const lostBefore = new Date(now - hostLostAfterMs(env)).toISOString();
  const rows = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(
      or(
        and(eq(hosts.state, "online"), or(isNull(hosts.lastSeenAt), lt(hosts.lastSeenAt, staleBefore))),
        and(eq(hosts.state, "disconnected"), or(isNull(hosts.disconnectedAt), lt(hosts.disconnectedAt, lostBefore))),
      ),
    );
  await Promise.all(rows.map((row) => env.HOST_RELAY.getByName(row.id).settlePresence()));
  return rows.length;
}
