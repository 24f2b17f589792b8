// Seed 004's firewall paths, as thin adapters over services/firewall.ts in its `{success, data,
// message}` envelope. The document names the paths, not the bodies; the bodies here take the
// canonical fields and the spellings a security-group client sends (`inbound`/`ingress`, `ACCEPT`,
// `source`/`destination`, `port_range`, `group_name`, `server_names`), so either works.
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  addRule,
  assignBulk,
  changeServerGroups,
  deleteGroup,
  deleteRule,
  getGroup,
  GroupName,
  type GroupView,
  listGroups,
  RuleInput,
  RulePatch,
  saveGroupByName,
  toGroupView,
  toRuleView,
  updateRule,
} from "../services/firewall.ts";
import { FIREWALL_ACTIONS, type FIREWALL_DIRECTIONS } from "#protocol/firewall";
import { ok } from "./server-manager.ts";
import { readJson, validateBody } from "./validate.ts";
import { ApiError } from "../errors.ts";

export const firewallCompat = new Hono<AppEnv>();
firewallCompat.use("/api/firewall/*", requireAuth());
firewallCompat.use("/api/apply_security_group/*", requireAuth());
firewallCompat.use("/api/remove_firewall_group/*", requireAuth());

const DIRECTIONS: Record<string, (typeof FIREWALL_DIRECTIONS)[number]> = {
  in: "in",
  inbound: "in",
  ingress: "in",
  input: "in",
  out: "out",
  outbound: "out",
  egress: "out",
  output: "out",
};
const ACTIONS: Record<string, (typeof FIREWALL_ACTIONS)[number]> = {
  allow: "allow",
  accept: "allow",
  deny: "deny",
  drop: "deny",
  reject: "deny",
};

/** A security-group client's rule → the canonical fields (`RuleInput`). */
const normalizeRule = (raw: unknown): unknown => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  const lower = (v: unknown) => (typeof v === "string" ? v.trim().toLowerCase() : v);
  const direction = lower(r.direction ?? r.type);
  const action = lower(r.action ?? r.policy);
  const out = DIRECTIONS[String(direction)] === "out";
  return {
    direction: typeof direction === "string" ? (DIRECTIONS[direction] ?? direction) : direction,
    protocol: lower(r.protocol) === "any" ? "all" : lower(r.protocol),
    port: r.port ?? r.port_range ?? r.ports,
    cidr: r.cidr ?? (out ? (r.destination ?? r.dest) : r.source) ?? r.ip_range ?? r.ip,
    action: typeof action === "string" ? (ACTIONS[action] ?? action) : action,
    description: r.description ?? r.comment,
    position: r.position ?? r.priority,
  };
};
const CompatRule = z.preprocess(normalizeRule, RuleInput);

const GroupBody = z.object({
  name: GroupName.optional(),
  group_name: GroupName.optional(),
  description: z.string().trim().max(1000).nullish(),
  default_inbound: z.enum(FIREWALL_ACTIONS).optional(),
  default_outbound: z.enum(FIREWALL_ACTIONS).optional(),
  rules: z.array(CompatRule).max(200).optional(),
});

/** 004 adds or updates at one path: a body naming `rule_id` (or `id`) changes that rule. */
const RuleTarget = z.object({ rule_id: z.string().trim().min(1).max(64).optional(), id: z.string().trim().min(1).max(64).optional() });
const CompatRulePatch = z.preprocess((raw) => {
  const n = normalizeRule(raw);
  return typeof n === "object" && n !== null ? Object.fromEntries(Object.entries(n).filter(([, v]) => v !== undefined)) : n;
}, RulePatch);

const names = z.union([z.string().trim().min(1).max(64), z.array(z.string().trim().min(1).max(64)).min(1).max(50)]);
const AssignBody = z
  .object({
    group_name: names.optional(),
    group: names.optional(),
    groups: names.optional(),
    security_group: names.optional(),
    group_names: names.optional(),
  })
  .transform((b) =>
    [b.group_name, b.group, b.groups, b.security_group, b.group_names].flatMap((v) =>
      v === undefined ? [] : typeof v === "string" ? [v] : v,
    ),
  );

const BulkBody = z
  .object({
    server_names: names.optional(),
    servers: names.optional(),
    server_ids: names.optional(),
    group_name: names.optional(),
    group: names.optional(),
    groups: names.optional(),
    group_names: names.optional(),
    security_group: names.optional(),
  })
  .transform((b) => ({
    servers: [b.server_names, b.servers, b.server_ids].flatMap((v) => (v === undefined ? [] : typeof v === "string" ? [v] : v)),
    groups: [b.group_name, b.group, b.groups, b.group_names, b.security_group].flatMap((v) =>
      v === undefined ? [] : typeof v === "string" ? [v] : v,
    ),
  }))
  .refine((b) => b.servers.length > 0, { message: "name the servers: server_names (or servers)", path: ["server_names"] })
  .refine((b) => b.groups.length > 0, { message: "name the groups: group_name (or groups)", path: ["group_name"] });

const groupData = (g: GroupView) => ({ ...g, rule_count: g.rules.length, server_count: g.servers.length });

firewallCompat.get("/api/firewall/groups", async (c) => {
  const groups = (await listGroups(c.var.db, c.var.principal.organizationId)).map(toGroupView).map(groupData);
  return c.json(ok(groups, "Firewall groups."));
});

firewallCompat.post("/api/firewall/groups", async (c) => {
  const body = await readJson(c, GroupBody);
  const name = body.name ?? body.group_name;
  if (!name) throw new ApiError(422, "name: Required: the group's name.", { errors: [{ pointer: "/body/name", detail: "Required" }] });
  const saved = await saveGroupByName(c.var.db, c.env, authedActor(c), { ...body, name });
  return c.json(
    {
      ...ok(groupData(toGroupView(saved.group)), saved.created ? "Firewall group created." : "Firewall group updated."),
      pushed: saved.pushed,
    },
    saved.created ? 201 : 200,
  );
});

firewallCompat.get("/api/firewall/groups/:group", async (c) => {
  const group = await getGroup(c.var.db, c.var.principal.organizationId, c.req.param("group"));
  return c.json(ok(groupData(toGroupView(group)), "Firewall group."));
});

firewallCompat.delete("/api/firewall/groups/:group", async (c) => {
  const pushed = await deleteGroup(c.var.db, c.env, authedActor(c), c.req.param("group"));
  return c.json({ ...ok({ name: c.req.param("group"), pushed }, "Firewall group deleted.") });
});

firewallCompat.post("/api/firewall/groups/:group/rules", async (c) => {
  const raw = await readJson(c, z.record(z.string(), z.unknown()));
  const target = validateBody(RuleTarget, { rule_id: raw.rule_id, id: raw.id });
  const ruleId = target.rule_id ?? target.id;
  const actor = authedActor(c);
  if (ruleId) {
    const change = await updateRule(c.var.db, c.env, actor, c.req.param("group"), ruleId, validateBody(CompatRulePatch, raw));
    return c.json({
      ...ok({ rule: toRuleView(change.rule), group: groupData(toGroupView(change.group)) }, "Firewall rule updated."),
      pushed: change.pushed,
    });
  }
  const change = await addRule(c.var.db, c.env, actor, c.req.param("group"), validateBody(CompatRule, raw));
  return c.json(
    {
      ...ok({ rule: toRuleView(change.rule), group: groupData(toGroupView(change.group)) }, "Firewall rule added."),
      pushed: change.pushed,
    },
    201,
  );
});

firewallCompat.delete("/api/firewall/groups/:group/rules/:rule", async (c) => {
  const change = await deleteRule(c.var.db, c.env, authedActor(c), c.req.param("group"), c.req.param("rule"));
  return c.json({ ...ok({ group: groupData(toGroupView(change.group)) }, "Firewall rule deleted."), pushed: change.pushed });
});

firewallCompat.post("/api/apply_security_group/:server", async (c) => {
  const groups = await readJson(c, AssignBody);
  if (groups.length === 0)
    throw new ApiError(422, "group_name: Required: the firewall group to apply.", {
      errors: [{ pointer: "/body/group_name", detail: "Required" }],
    });
  const change = await changeServerGroups(c.var.db, c.env, authedActor(c), c.req.param("server"), groups, "add");
  return c.json(ok(change.firewall, `Firewall group applied to ${change.server.name}.`));
});

firewallCompat.post("/api/remove_firewall_group/:server", async (c) => {
  const groups = await readJson(c, AssignBody, { optional: true });
  const change = await changeServerGroups(c.var.db, c.env, authedActor(c), c.req.param("server"), groups, "remove");
  return c.json(
    ok(
      change.firewall,
      groups.length ? `Firewall group removed from ${change.server.name}.` : `Every firewall group removed from ${change.server.name}.`,
    ),
  );
});

firewallCompat.post("/api/firewall/assign_bulk", async (c) => {
  const body = await readJson(c, BulkBody);
  const results = await assignBulk(c.var.db, c.env, authedActor(c), body.servers, body.groups);
  const failed = results.filter((r) => !r.ok).length;
  return c.json(
    ok(
      { results, succeeded: results.length - failed, failed },
      failed
        ? `Firewall groups applied to ${results.length - failed} of ${results.length} servers.`
        : `Firewall groups applied to ${results.length} servers.`,
    ),
  );
});
