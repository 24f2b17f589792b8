// Firewall groups (issue 13, seed 004): named, ordered rule sets of an organization, assigned to
// servers. A server's effective ruleset — its groups' rules in assignment order, each group's by
// position, the first match deciding, and per direction a default that is `deny` when any of its
// groups says so — is written by its host's agent as one iptables chain in DOCKER-USER
// (agent-relay/src/firewall.ts). Every change to a group is pushed to each server that has it;
// a host that cannot take it is recorded per server and pushed again when its agent says hello.
import { z } from "@hono/zod-openapi";
import { and, asc, eq, gte, inArray, sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import {
  FIREWALL_ACTIONS,
  FIREWALL_DIRECTIONS,
  FIREWALL_PROTOCOLS,
  firewallChainName,
  type FirewallApply,
  type FirewallRule,
  MAX_FIREWALL_RULES,
  type OpName,
} from "#protocol";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { firewallGroups, firewallRules, serverFirewallGroups, serverFirewallState, servers } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import type { CommandOutcome } from "../lib/relay.ts";
import { relayFailure } from "../lib/relay.ts";
import { nowIso } from "../lib/time.ts";
import { recordAudit } from "./audit.ts";
import { runOnHost } from "./host-relay.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";
import { getServer, serverContainerName, serverScope, type ServerRow } from "./servers.ts";

type Caller = Actor & { principal: Principal };
export type FirewallGroupRow = typeof firewallGroups.$inferSelect;
export type FirewallRuleRow = typeof firewallRules.$inferSelect;

/** Who may change groups, their rules and which servers have them (004's `manage_firewall`). */
const requireManageFirewall = (p: Principal) => assertPermission(p, "manage_firewall");

// ---- fields (shared by the canonical API and seed 004's adapter) ------------------------------------

export const GroupName = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "1–63 letters, digits, '_', '.' and '-', starting with a letter or digit");

/** `80`, `"80"`, `"8000-8100"` or `"8000:8100"` → the first and last port. */
export const PortSpec = z
  .union([z.number().int(), z.string().trim()])
  .transform((value, ctx) => {
    const m = /^(\d{1,5})(?:\s*[-:]\s*(\d{1,5}))?$/.exec(String(value));
    const from = m ? Number(m[1]) : Number.NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < 1 || to > 65535 || to < from) {
      ctx.addIssue({ code: "custom", message: "must be a port (1–65535) or a range such as 8000-8100" });
      return z.NEVER;
    }
    return { from, to };
  })
  .openapi({ type: "string", description: "A port (`80`) or an inclusive range (`8000-8100`); tcp and udp only.", example: "8000-8100" });

/** An IPv4 address or CIDR block; `0.0.0.0/0` (or nothing) is anywhere. An address alone is its /32. */
export const PeerCidr = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const text = value.includes("/") ? value : `${value}/32`;
    try {
      const [address, bits] = ipaddr.IPv4.parseCIDR(text);
      // The network address, so `10.1.2.3/24` is stored as the block it names.
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      const net = (address.toByteArray().reduce((n, b) => (n << 8) | b, 0) & mask) >>> 0;
      return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${bits}`;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an IPv4 address or CIDR block such as 10.0.0.0/8 (IPv6 is not filtered)" });
      return z.NEVER;
    }
  })
  .openapi({ type: "string", example: "10.0.0.0/8" });

export const RuleInput = z
  .object({
    direction: z.enum(FIREWALL_DIRECTIONS).openapi({ description: "`in`: traffic to the server; `out`: traffic from it." }),
    protocol: z.enum(FIREWALL_PROTOCOLS).default("tcp"),
    port: PortSpec.nullish(),
    cidr: PeerCidr.nullish().openapi({
      description: "The peer: source of inbound, destination of outbound traffic. Absent or 0.0.0.0/0: anywhere.",
    }),
    action: z.enum(FIREWALL_ACTIONS).default("allow"),
    description: z.string().trim().max(255).nullish(),
    position: z.number().int().min(1).max(MAX_FIREWALL_RULES).optional().openapi({
      description: "Where the rule goes in the group (1 = first); the end by default.",
    }),
  })
  .refine((r) => !r.port || r.protocol === "tcp" || r.protocol === "udp", { message: "ports apply to tcp and udp only", path: ["port"] });
export type RuleInput = z.infer<typeof RuleInput>;

export const RulePatch = z
  .object({
    direction: z.enum(FIREWALL_DIRECTIONS).optional(),
    protocol: z.enum(FIREWALL_PROTOCOLS).optional(),
    port: PortSpec.nullish(),
    cidr: PeerCidr.nullish(),
    action: z.enum(FIREWALL_ACTIONS).optional(),
    description: z.string().trim().max(255).nullish(),
    position: z.number().int().min(1).max(MAX_FIREWALL_RULES).optional(),
  })
  .openapi("FirewallRulePatch");
export type RulePatch = z.infer<typeof RulePatch>;

const MAX_GROUP_RULES = 200;

export const GroupInput = z.object({
  name: GroupName,
  description: z.string().trim().max(1000).nullish(),
  default_inbound: z.enum(FIREWALL_ACTIONS).default("allow").openapi({
    description: "A new inbound connection no rule matched: `deny` makes the group a whitelist.",
  }),
  default_outbound: z.enum(FIREWALL_ACTIONS).default("allow"),
  rules: z.array(RuleInput).max(MAX_GROUP_RULES).default([]),
});
export type GroupInput = z.infer<typeof GroupInput>;

export const GroupPatch = z
  .object({
    name: GroupName.optional(),
    description: z.string().trim().max(1000).nullish(),
    default_inbound: z.enum(FIREWALL_ACTIONS).optional(),
    default_outbound: z.enum(FIREWALL_ACTIONS).optional(),
    rules: z.array(RuleInput).max(MAX_GROUP_RULES).optional().openapi({ description: "Replaces every rule of the group, in this order." }),
  })
  .openapi("FirewallGroupPatch");
export type GroupPatch = z.infer<typeof GroupPatch>;

// ---- views --------------------------------------------------------------------------------------------

export const toRuleView = (r: FirewallRuleRow) => ({
  id: r.id,
  position: r.position,
  direction: r.direction,
  protocol: r.protocol,
  port: r.portFrom === null ? null : r.portTo !== null && r.portTo !== r.portFrom ? `${r.portFrom}-${r.portTo}` : String(r.portFrom),
  port_from: r.portFrom,
  port_to: r.portTo,
  cidr: r.cidr ?? "0.0.0.0/0",
  action: r.action,
  description: r.description,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});
export type RuleView = ReturnType<typeof toRuleView>;

export interface GroupDetail {
  group: FirewallGroupRow;
  rules: FirewallRuleRow[];
  servers: Array<Pick<ServerRow, "id" | "name" | "alias">>;
}

export const toGroupView = ({ group, rules, servers: assigned }: GroupDetail) => ({
  id: group.id,
  name: group.name,
  description: group.description,
  default_inbound: group.defaultInbound,
  default_outbound: group.defaultOutbound,
  rules: rules.map(toRuleView),
  servers: assigned.map((s) => ({ id: s.id, name: s.name, alias: s.alias })),
  created_at: group.createdAt,
  updated_at: group.updatedAt,
});
export type GroupView = ReturnType<typeof toGroupView>;

/** What the host did with one server's ruleset. */
export interface PushOutcome {
  server_id: string;
  server_name: string;
  /** `applied`: in force; `removed`: no group, no chain; `failed`: see `error` (pushed again when the agent reconnects). */
  status: "applied" | "removed" | "failed";
  chain: string;
  addresses: string[];
  rules: number;
  error: string | null;
  /** The HTTP status the failure maps to (503 offline, 409 the host cannot enforce rules, …). */
  http_status?: number;
}

// ---- reading ------------------------------------------------------------------------------------------

async function details(db: Database, groups: FirewallGroupRow[]): Promise<GroupDetail[]> {
  if (groups.length === 0) return [];
  const ids = groups.map((g) => g.id);
  const [rules, assigned] = await Promise.all([
    db
      .select()
      .from(firewallRules)
      .where(inArray(firewallRules.groupId, ids))
      .orderBy(asc(firewallRules.position), asc(firewallRules.createdAt)),
    db
      .select({ groupId: serverFirewallGroups.groupId, id: servers.id, name: servers.name, alias: servers.alias })
      .from(serverFirewallGroups)
      .innerJoin(servers, eq(servers.id, serverFirewallGroups.serverId))
      .where(inArray(serverFirewallGroups.groupId, ids))
      .orderBy(asc(servers.alias)),
  ]);
  return groups.map((group) => ({
    group,
    rules: rules.filter((r) => r.groupId === group.id),
    servers: assigned.filter((s) => s.groupId === group.id).map(({ id, name, alias }) => ({ id, name, alias })),
  }));
}

export async function listGroups(db: Database, organizationId: string): Promise<GroupDetail[]> {
  const groups = await db
    .select()
    .from(firewallGroups)
    .where(eq(firewallGroups.organizationId, organizationId))
    .orderBy(asc(firewallGroups.name));
  return details(db, groups);
}

/** A group of the organization by id (`fwg_…`) or name; another organization's is "not found". */
export async function getGroupRow(db: Database, organizationId: string, ref: string): Promise<FirewallGroupRow> {
  const by = /^fwg_[0-9a-z]+$/.test(ref) ? eq(firewallGroups.id, ref) : eq(firewallGroups.name, ref);
  const [row] = await db
    .select()
    .from(firewallGroups)
    .where(and(eq(firewallGroups.organizationId, organizationId), by))
    .limit(1);
  if (!row) throw notFound(`Firewall group ${ref}`);
  return row;
}

export async function getGroup(db: Database, organizationId: string, ref: string): Promise<GroupDetail> {
  return (await details(db, [await getGroupRow(db, organizationId, ref)]))[0]!;
}

/** The groups a server has, in assignment order. */
async function groupsOfServer(db: Database, serverId: string): Promise<FirewallGroupRow[]> {
  const rows = await db
    .select({ group: firewallGroups })
    .from(serverFirewallGroups)
    .innerJoin(firewallGroups, eq(firewallGroups.id, serverFirewallGroups.groupId))
    .where(eq(serverFirewallGroups.serverId, serverId))
    .orderBy(asc(serverFirewallGroups.createdAt), asc(firewallGroups.name));
  return rows.map((r) => r.group);
}

/** The ruleset the agent writes for a server: its groups' rules in order, and the stricter default per direction. */
export async function effectiveRuleset(db: Database, server: ServerRow): Promise<{ groups: FirewallGroupRow[]; apply: FirewallApply }> {
  const groups = await groupsOfServer(db, server.id);
  const rules: FirewallRule[] = [];
  for (const detail of await details(db, groups)) {
    for (const r of detail.rules) {
      rules.push({
        id: r.id,
        direction: r.direction,
        protocol: r.protocol,
        ...(r.portFrom !== null ? { port_from: r.portFrom } : {}),
        ...(r.portTo !== null && r.portTo !== r.portFrom ? { port_to: r.portTo } : {}),
        ...(r.cidr ? { cidr: r.cidr } : {}),
        action: r.action,
      });
    }
  }
  const stricter = (pick: (g: FirewallGroupRow) => "allow" | "deny") => (groups.some((g) => pick(g) === "deny") ? "deny" : "allow");
  return {
    groups,
    apply: {
      server: server.id,
      container: serverContainerName(server),
      rules: rules.slice(0, MAX_FIREWALL_RULES),
      default_inbound: stricter((g) => g.defaultInbound),
      default_outbound: stricter((g) => g.defaultOutbound),
    },
  };
}

export async function serverFirewall(db: Database, server: ServerRow) {
  const [{ groups, apply }, [state]] = await Promise.all([
    effectiveRuleset(db, server),
    db.select().from(serverFirewallState).where(eq(serverFirewallState.serverId, server.id)),
  ]);
  return {
    server_id: server.id,
    server_name: server.name,
    groups: groups.map((g) => ({ id: g.id, name: g.name })),
    chain: firewallChainName(server.id),
    default_inbound: apply.default_inbound,
    default_outbound: apply.default_outbound,
    rules: apply.rules.length,
    state: state
      ? { status: state.status, addresses: state.addresses, rules: state.rules, error: state.error, updated_at: state.updatedAt }
      : null,
  };
}
export type ServerFirewallView = Awaited<ReturnType<typeof serverFirewall>>;

// ---- pushing rulesets to hosts --------------------------------------------------------------------------

/** Runs one op on a host: the Worker's relay client, or the HostRelay itself when its agent says hello. */
export type HostRunner = (hostId: string, op: OpName, args: unknown) => Promise<CommandOutcome>;

const relayRunner =
  (env: Bindings): HostRunner =>
  async (hostId, op, args) => {
    try {
      return { ok: true, data: await runOnHost(env, hostId, op, args) };
    } catch (error) {
      if (error instanceof ApiError) return { ok: false, error: { code: "relay", message: error.detail, http: error.status } };
      throw error;
    }
  };

async function recordState(db: Database, server: ServerRow, outcome: PushOutcome): Promise<void> {
  const row = {
    serverId: server.id,
    organizationId: server.organizationId,
    status: outcome.status,
    chain: outcome.chain,
    addresses: outcome.addresses,
    rules: outcome.rules,
    error: outcome.error,
    updatedAt: nowIso(),
  };
  await db.insert(serverFirewallState).values(row).onConflictDoUpdate({ target: serverFirewallState.serverId, set: row });
}

/** Writes (or, with no group left, removes) a server's chain on its host, and records how that went. */
export async function pushServer(db: Database, run: HostRunner, server: ServerRow): Promise<PushOutcome> {
  const { groups, apply } = await effectiveRuleset(db, server);
  const base = { server_id: server.id, server_name: server.name, chain: firewallChainName(server.id), rules: apply.rules.length };
  let outcome: PushOutcome;
  if (!server.hostId) {
    outcome = {
      ...base,
      status: "failed",
      addresses: [],
      error: "The server has no host (it was deleted): nothing can enforce its rules.",
      http_status: 409,
    };
  } else {
    const result =
      groups.length > 0
        ? await run(server.hostId, "firewall.apply", apply)
        : await run(server.hostId, "firewall.remove", { server: server.id });
    if (result.ok) {
      const data = result.data as { addresses?: string[] };
      outcome = { ...base, status: groups.length > 0 ? "applied" : "removed", addresses: data.addresses ?? [], error: null };
    } else {
      const failure =
        result.error.code === "relay" ? new ApiError(result.error.http as 409, result.error.message) : relayFailure(result.error);
      outcome = { ...base, status: "failed", addresses: [], error: failure.detail, http_status: failure.status };
    }
  }
  await recordState(db, server, outcome);
  return outcome;
}

/** Pushes every server that has `groupId`: a group's rules changed. */
async function pushGroupServers(db: Database, env: Bindings, organizationId: string, serverIds: string[]): Promise<PushOutcome[]> {
  if (serverIds.length === 0) return [];
  const rows = await db
    .select()
    .from(servers)
    .where(and(eq(servers.organizationId, organizationId), inArray(servers.id, serverIds)))
    .orderBy(asc(servers.alias));
  const run = relayRunner(env);
  return Promise.all(rows.map((s) => pushServer(db, run, s)));
}

async function serversWithGroup(db: Database, groupId: string): Promise<string[]> {
  const rows = await db
    .select({ id: serverFirewallGroups.serverId })
    .from(serverFirewallGroups)
    .where(eq(serverFirewallGroups.groupId, groupId));
  return rows.map((r) => r.id);
}

/**
 * When a host's agent says hello: it forgot what it followed (a restart), so every server of the
 * host that has groups, or whose last push failed, is pushed again. Never throws.
 */
export async function reapplyHostFirewalls(db: Database, run: HostRunner, hostId: string): Promise<PushOutcome[]> {
  const withGroups = db.select({ id: serverFirewallGroups.serverId }).from(serverFirewallGroups);
  const failed = db.select({ id: serverFirewallState.serverId }).from(serverFirewallState).where(eq(serverFirewallState.status, "failed"));
  const rows = await db
    .select()
    .from(servers)
    .where(and(eq(servers.hostId, hostId), sql`(${servers.id} in ${withGroups} or ${servers.id} in ${failed})`));
  const outcomes: PushOutcome[] = [];
  for (const server of rows) outcomes.push(await pushServer(db, run, server));
  return outcomes;
}

/**
 * Takes a server's chain off its host (for deleting a server; its assignments go with its row).
 * A host that is offline keeps the chain until the server's address is given to nobody else —
 * the agent removes the jumps once the container is gone — and `firewall.remove` is idempotent.
 */
export async function removeServerFirewall(env: Bindings, server: Pick<ServerRow, "id" | "hostId">): Promise<PushOutcome["status"]> {
  if (!server.hostId) return "removed";
  const outcome = await relayRunner(env)(server.hostId, "firewall.remove", { server: server.id });
  return outcome.ok ? "removed" : "failed";
}

/** The groups a role names, all of which must exist: a 409 says which do not, before anything is made. */
export async function requireRoleGroups(db: Database, organizationId: string, role: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const found = await db
    .select({ name: firewallGroups.name })
    .from(firewallGroups)
    .where(and(eq(firewallGroups.organizationId, organizationId), inArray(firewallGroups.name, [...names])));
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length)
    throw conflict(
      `Role ${role} names firewall group${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which this organization does not have: create ${missing.length > 1 ? "them" : "it"} (POST /api/v1/firewall/groups) or edit the role.`,
    );
}

/**
 * A role's default groups on a server, when it is created with the role or its role changes: the
 * old role's defaults go (groups assigned by hand stay), the new role's are added, and the
 * ruleset is written on the host. No permission check: creating the server or assigning the role
 * was authorized. Null when the server has no group before or after (nothing to write).
 */
export async function applyRoleGroups(
  db: Database,
  env: Bindings,
  server: ServerRow,
  previous: readonly string[],
  next: readonly string[],
): Promise<PushOutcome | null> {
  const names = [...new Set([...previous, ...next])];
  const named = names.length
    ? await db
        .select()
        .from(firewallGroups)
        .where(and(eq(firewallGroups.organizationId, server.organizationId), inArray(firewallGroups.name, names)))
    : [];
  const idOf = (n: string) => named.find((g) => g.name === n)?.id;
  const missing = next.filter((n) => !idOf(n));
  if (missing.length) throw new Error(`Firewall group ${missing.join(", ")} of its role no longer exists: create it or edit the role.`);
  const before = await db.select().from(serverFirewallGroups).where(eq(serverFirewallGroups.serverId, server.id));
  const dropped = new Set(previous.filter((n) => !next.includes(n)).map(idOf));
  const kept = before.filter((a) => !dropped.has(a.groupId));
  const now = nowIso();
  const added = next
    .map(idOf)
    .filter((id): id is string => !!id && !kept.some((a) => a.groupId === id))
    .map((groupId) => ({ serverId: server.id, groupId, organizationId: server.organizationId, createdAt: now }));
  if (before.length === 0 && added.length === 0) return null;
  await db.batch([
    db.delete(serverFirewallGroups).where(eq(serverFirewallGroups.serverId, server.id)),
    ...(kept.length + added.length ? [db.insert(serverFirewallGroups).values([...kept, ...added])] : []),
  ]);
  return pushServer(db, relayRunner(env), server);
}

// ---- changing groups and rules ------------------------------------------------------------------------

const ruleRow = (
  organizationId: string,
  groupId: string,
  position: number,
  r: Omit<RuleInput, "position">,
  now: string,
): FirewallRuleRow => ({
  id: newId("fwr"),
  organizationId,
  groupId,
  position,
  direction: r.direction,
  protocol: r.protocol,
  portFrom: r.port?.from ?? null,
  portTo: r.port ? r.port.to : null,
  cidr: r.cidr && r.cidr !== "0.0.0.0/0" ? r.cidr : null,
  action: r.action,
  description: r.description ?? null,
  createdAt: now,
  updatedAt: now,
});

export interface GroupChange {
  group: GroupDetail;
  /** What each server that has the group did with the change. */
  pushed: PushOutcome[];
}

export async function createGroup(db: Database, actor: Caller, input: GroupInput): Promise<GroupDetail> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const now = nowIso();
  const group: FirewallGroupRow = {
    id: newId("fwg"),
    organizationId: principal.organizationId,
    name: input.name,
    description: input.description ?? null,
    defaultInbound: input.default_inbound,
    defaultOutbound: input.default_outbound,
    createdBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  const rules = input.rules.map((r, i) => ruleRow(principal.organizationId, group.id, i + 1, r, now));
  try {
    await db.batch([db.insert(firewallGroups).values(group), ...(rules.length ? [db.insert(firewallRules).values(rules)] : [])]);
  } catch (error) {
    if (isUniqueViolation(error, "firewall_groups"))
      throw conflict(`A firewall group named ${input.name} exists already: change it instead.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_group.create",
    targetType: "firewall_group",
    targetId: group.id,
    metadata: { name: group.name, rules: rules.length, default_inbound: group.defaultInbound, default_outbound: group.defaultOutbound },
  });
  return { group, rules, servers: [] };
}

export async function updateGroup(db: Database, env: Bindings, actor: Caller, ref: string, patch: GroupPatch): Promise<GroupChange> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const current = await getGroupRow(db, principal.organizationId, ref);
  const now = nowIso();
  const set = {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.default_inbound !== undefined ? { defaultInbound: patch.default_inbound } : {}),
    ...(patch.default_outbound !== undefined ? { defaultOutbound: patch.default_outbound } : {}),
    updatedAt: now,
  };
  const rules = patch.rules?.map((r, i) => ruleRow(principal.organizationId, current.id, i + 1, r, now));
  try {
    await db.batch([
      db.update(firewallGroups).set(set).where(eq(firewallGroups.id, current.id)),
      ...(rules ? [db.delete(firewallRules).where(eq(firewallRules.groupId, current.id))] : []),
      ...(rules?.length ? [db.insert(firewallRules).values(rules)] : []),
    ]);
  } catch (error) {
    if (isUniqueViolation(error, "firewall_groups")) throw conflict(`A firewall group named ${patch.name} exists already.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_group.update",
    targetType: "firewall_group",
    targetId: current.id,
    metadata: { name: patch.name ?? current.name, fields: Object.keys(patch), ...(rules ? { rules: rules.length } : {}) },
  });
  const pushed = await pushGroupServers(db, env, principal.organizationId, await serversWithGroup(db, current.id));
  return { group: await getGroup(db, principal.organizationId, current.id), pushed };
}

/** 004's `POST /api/firewall/groups`: creates the group, or changes the one of that name. */
export async function saveGroupByName(
  db: Database,
  env: Bindings,
  actor: Caller,
  input: GroupPatch & { name: string },
): Promise<GroupChange & { created: boolean }> {
  requireManageFirewall(actor.principal);
  const [existing] = await db
    .select({ id: firewallGroups.id })
    .from(firewallGroups)
    .where(and(eq(firewallGroups.organizationId, actor.principal.organizationId), eq(firewallGroups.name, input.name)));
  if (existing) return { ...(await updateGroup(db, env, actor, existing.id, input)), created: false };
  const group = await createGroup(db, actor, {
    name: input.name,
    description: input.description ?? null,
    default_inbound: input.default_inbound ?? "allow",
    default_outbound: input.default_outbound ?? "allow",
    rules: input.rules ?? [],
  });
  return { group, pushed: [], created: true };
}

export async function deleteGroup(db: Database, env: Bindings, actor: Caller, ref: string): Promise<PushOutcome[]> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const group = await getGroupRow(db, principal.organizationId, ref);
  const affected = await serversWithGroup(db, group.id);
  await db.delete(firewallGroups).where(eq(firewallGroups.id, group.id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_group.delete",
    targetType: "firewall_group",
    targetId: group.id,
    metadata: { name: group.name, servers: affected.length },
  });
  return pushGroupServers(db, env, principal.organizationId, affected);
}

async function renumber(db: Database, order: string[], now: string): Promise<void> {
  if (order.length === 0) return;
  const updates = order.map((id, i) =>
    db
      .update(firewallRules)
      .set({ position: i + 1, updatedAt: now })
      .where(eq(firewallRules.id, id)),
  );
  await db.batch(updates as [(typeof updates)[number], ...typeof updates]);
}

async function ruleOrder(db: Database, groupId: string): Promise<FirewallRuleRow[]> {
  return db
    .select()
    .from(firewallRules)
    .where(eq(firewallRules.groupId, groupId))
    .orderBy(asc(firewallRules.position), asc(firewallRules.createdAt));
}

/** Adds a rule at `position` (the end by default) and pushes the group to its servers. */
export async function addRule(
  db: Database,
  env: Bindings,
  actor: Caller,
  ref: string,
  input: RuleInput,
): Promise<GroupChange & { rule: FirewallRuleRow }> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const group = await getGroupRow(db, principal.organizationId, ref);
  const existing = await ruleOrder(db, group.id);
  if (existing.length >= MAX_GROUP_RULES)
    throw conflict(`Firewall group ${group.name} has ${MAX_GROUP_RULES} rules, its limit: remove one first.`);
  const now = nowIso();
  const position = Math.min(input.position ?? existing.length + 1, existing.length + 1);
  const rule = ruleRow(principal.organizationId, group.id, position, input, now);
  await db.batch([
    db
      .update(firewallRules)
      .set({ position: sql`${firewallRules.position} + 1` })
      .where(and(eq(firewallRules.groupId, group.id), gte(firewallRules.position, position))),
    db.insert(firewallRules).values(rule),
    db.update(firewallGroups).set({ updatedAt: now }).where(eq(firewallGroups.id, group.id)),
  ]);
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_rule.create",
    targetType: "firewall_group",
    targetId: group.id,
    metadata: {
      rule_id: rule.id,
      position,
      direction: rule.direction,
      protocol: rule.protocol,
      port: toRuleView(rule).port,
      cidr: rule.cidr,
      action: rule.action,
    },
  });
  const pushed = await pushGroupServers(db, env, principal.organizationId, await serversWithGroup(db, group.id));
  return { group: await getGroup(db, principal.organizationId, group.id), pushed, rule };
}

async function getRule(db: Database, group: FirewallGroupRow, ruleId: string): Promise<FirewallRuleRow> {
  const [rule] = await db
    .select()
    .from(firewallRules)
    .where(and(eq(firewallRules.groupId, group.id), eq(firewallRules.id, ruleId)));
  if (!rule) throw notFound(`Rule ${ruleId} of firewall group ${group.name}`);
  return rule;
}

export async function updateRule(
  db: Database,
  env: Bindings,
  actor: Caller,
  ref: string,
  ruleId: string,
  patch: RulePatch,
): Promise<GroupChange & { rule: FirewallRuleRow }> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const group = await getGroupRow(db, principal.organizationId, ref);
  const rule = await getRule(db, group, ruleId);
  const merged = RuleInput.safeParse({
    direction: patch.direction ?? rule.direction,
    protocol: patch.protocol ?? rule.protocol,
    port:
      patch.port === undefined
        ? rule.portFrom === null
          ? null
          : `${rule.portFrom}-${rule.portTo ?? rule.portFrom}`
        : patch.port && `${patch.port.from}-${patch.port.to}`,
    cidr: patch.cidr === undefined ? rule.cidr : patch.cidr,
    action: patch.action ?? rule.action,
    description: patch.description === undefined ? rule.description : patch.description,
  });
  if (!merged.success) throw new ApiError(422, merged.error.issues.map((i) => `${i.path.join("/")}: ${i.message}`).join("; "));
  const now = nowIso();
  const next = ruleRow(principal.organizationId, group.id, rule.position, merged.data, now);
  await db
    .update(firewallRules)
    .set({ ...next, id: rule.id, createdAt: rule.createdAt })
    .where(eq(firewallRules.id, rule.id));
  if (patch.position !== undefined && patch.position !== rule.position) {
    const order = (await ruleOrder(db, group.id)).map((r) => r.id).filter((id) => id !== rule.id);
    order.splice(Math.min(patch.position, order.length + 1) - 1, 0, rule.id);
    await renumber(db, order, now);
  }
  await db.update(firewallGroups).set({ updatedAt: now }).where(eq(firewallGroups.id, group.id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_rule.update",
    targetType: "firewall_group",
    targetId: group.id,
    metadata: { rule_id: rule.id, fields: Object.keys(patch) },
  });
  const pushed = await pushGroupServers(db, env, principal.organizationId, await serversWithGroup(db, group.id));
  const [saved] = await db.select().from(firewallRules).where(eq(firewallRules.id, rule.id));
  return { group: await getGroup(db, principal.organizationId, group.id), pushed, rule: saved! };
}

export async function deleteRule(db: Database, env: Bindings, actor: Caller, ref: string, ruleId: string): Promise<GroupChange> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const group = await getGroupRow(db, principal.organizationId, ref);
  const rule = await getRule(db, group, ruleId);
  await db.delete(firewallRules).where(eq(firewallRules.id, rule.id));
  const now = nowIso();
  await renumber(
    db,
    (await ruleOrder(db, group.id)).map((r) => r.id),
    now,
  );
  await db.update(firewallGroups).set({ updatedAt: now }).where(eq(firewallGroups.id, group.id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "firewall_rule.delete",
    targetType: "firewall_group",
    targetId: group.id,
    metadata: { rule_id: rule.id },
  });
  const pushed = await pushGroupServers(db, env, principal.organizationId, await serversWithGroup(db, group.id));
  return { group: await getGroup(db, principal.organizationId, group.id), pushed };
}

// ---- assigning groups to servers ------------------------------------------------------------------------

export interface AssignmentChange {
  server: ServerRow;
  firewall: ServerFirewallView;
  pushed: PushOutcome;
}

/**
 * Gives a server more groups (`mode: add`), takes some away (`remove`; all of them when none is
 * named), or sets exactly these (`set`), then writes its ruleset on its host. All or nothing: when
 * the host cannot take it (offline, no privilege), the assignment is put back and the error answered.
 */
export async function changeServerGroups(
  db: Database,
  env: Bindings,
  actor: Caller,
  serverRef: string,
  groupRefs: string[],
  mode: "add" | "remove" | "set",
  options: { run?: HostRunner } = {},
): Promise<AssignmentChange> {
  const { principal } = actor;
  requireManageFirewall(principal);
  const server = await getServer(db, principal.organizationId, serverRef, await serverScope(db, principal));
  const named = await Promise.all([...new Set(groupRefs)].map((g) => getGroupRow(db, principal.organizationId, g)));
  const before = await db.select().from(serverFirewallGroups).where(eq(serverFirewallGroups.serverId, server.id));
  const now = nowIso();
  const had = new Set(before.map((a) => a.groupId));
  const wanted =
    mode === "add"
      ? [...before.map((a) => a.groupId), ...named.map((g) => g.id).filter((id) => !had.has(id))]
      : mode === "set"
        ? named.map((g) => g.id)
        : groupRefs.length === 0
          ? []
          : before.map((a) => a.groupId).filter((id) => !named.some((g) => g.id === id));
  const createdAt = new Map(before.map((a) => [a.groupId, a.createdAt]));
  // Assignment order is the time of assignment (groups assigned in one request: by name).
  const rows = wanted.map((groupId) => ({
    serverId: server.id,
    groupId,
    organizationId: principal.organizationId,
    createdAt: createdAt.get(groupId) ?? now,
  }));
  const write = (list: typeof rows) =>
    db.batch([
      db.delete(serverFirewallGroups).where(eq(serverFirewallGroups.serverId, server.id)),
      ...(list.length ? [db.insert(serverFirewallGroups).values(list)] : []),
    ]);
  await write(rows);
  const pushed = await pushServer(db, options.run ?? relayRunner(env), server);
  if (pushed.status === "failed") {
    await write(before);
    throw new ApiError((pushed.http_status ?? 502) as 409, `${pushed.error} The firewall groups of server ${server.name} are unchanged.`);
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: `server.firewall_${mode === "remove" ? "unassign" : "assign"}`,
    targetType: "server",
    targetId: server.id,
    metadata: {
      server: server.name,
      groups: named.map((g) => g.name),
      now: rows.length,
      addresses: pushed.addresses,
    },
  });
  return { server, firewall: await serverFirewall(db, server), pushed };
}

/** 004's `firewall/assign_bulk`: the same groups added to several servers; each answers for itself. */
export async function assignBulk(
  db: Database,
  env: Bindings,
  actor: Caller,
  serverRefs: string[],
  groupRefs: string[],
): Promise<Array<{ server: string; ok: boolean; firewall?: ServerFirewallView; error?: string; status?: number }>> {
  requireManageFirewall(actor.principal);
  // Every group must exist before anything changes.
  for (const g of new Set(groupRefs)) await getGroupRow(db, actor.principal.organizationId, g);
  const results = [];
  for (const ref of serverRefs) {
    try {
      const change = await changeServerGroups(db, env, actor, ref, groupRefs, "add");
      results.push({ server: change.server.name, ok: true, firewall: change.firewall });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      results.push({ server: ref, ok: false, error: error.detail, status: error.status });
    }
  }
  return results;
}
