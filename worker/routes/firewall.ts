import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  addRule,
  changeServerGroups,
  createGroup,
  deleteGroup,
  deleteRule,
  getGroup,
  GroupInput,
  GroupPatch,
  listGroups,
  RuleInput,
  RulePatch,
  serverFirewall,
  toGroupView,
  toRuleView,
  updateGroup,
  updateRule,
} from "../services/firewall.ts";
import { getServer, serverScope } from "../services/servers.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse } from "./openapi.ts";

// Firewall groups (seed 004): named, ordered rule sets assigned to servers, which each server's
// host writes as an iptables chain in DOCKER-USER. Members and viewers read; admins (004's
// `manage_firewall`) change groups, rules and assignments. Every change is pushed to the servers
// that have the group; the answer says what each host did.
export const firewallGroupRoutes = createRouter();
firewallGroupRoutes.use("*", requireAuth());
export const serverFirewallRoutes = createRouter();
serverFirewallRoutes.use("*", requireAuth());

const SEMANTICS =
  "Replies to allowed connections always pass. A new connection is matched against the server's groups' rules (groups in assignment order, rules by position); the first match decides. When none matches, the direction's default decides: `deny` when any of the server's groups says so. `allow` hands the packet back to Docker's own rules; `deny` drops it. IPv4 only.";

const RuleView = z
  .object({
    id: z.string(),
    position: z.number().int(),
    direction: z.enum(["in", "out"]),
    protocol: z.enum(["tcp", "udp", "icmp", "all"]),
    port: z.string().nullable().openapi({ description: "`80` or `8000-8100`; null for every port." }),
    port_from: z.number().int().nullable(),
    port_to: z.number().int().nullable(),
    cidr: z.string().openapi({ description: "The peer; 0.0.0.0/0 is anywhere." }),
    action: z.enum(["allow", "deny"]),
    description: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("FirewallRule");

const GroupView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    default_inbound: z.enum(["allow", "deny"]),
    default_outbound: z.enum(["allow", "deny"]),
    rules: z.array(RuleView),
    servers: z
      .array(z.object({ id: z.string(), name: z.string(), alias: z.number().int() }))
      .openapi({ description: "The servers that have the group." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("FirewallGroup");

const PushOutcome = z
  .object({
    server_id: z.string(),
    server_name: z.string(),
    status: z.enum(["applied", "removed", "failed"]),
    chain: z.string().openapi({ description: "The iptables chain on the host (PIER-…)." }),
    addresses: z.array(z.string()).openapi({ description: "The container addresses the chain is entered for." }),
    rules: z.number().int(),
    error: z.string().nullable().openapi({ description: "Why the host did not take it; it is pushed again when its agent reconnects." }),
    http_status: z.number().int().optional(),
  })
  .openapi("FirewallPush");

const GroupChange = z.object({ group: GroupView, pushed: z.array(PushOutcome) }).openapi("FirewallGroupChange");

const ServerFirewall = z
  .object({
    server_id: z.string(),
    server_name: z.string(),
    groups: z.array(z.object({ id: z.string(), name: z.string() })),
    chain: z.string(),
    default_inbound: z.enum(["allow", "deny"]),
    default_outbound: z.enum(["allow", "deny"]),
    rules: z.number().int().openapi({ description: "Rules in the server's effective ruleset." }),
    state: z
      .object({
        status: z.enum(["applied", "removed", "failed"]),
        addresses: z.array(z.string()),
        rules: z.number().int(),
        error: z.string().nullable(),
        updated_at: z.string(),
      })
      .nullable()
      .openapi({ description: "What the host last did with the ruleset; null before the first push." }),
  })
  .openapi("ServerFirewall");

const GroupParam = IdParam("group", "fwg_0123456789abcdefghij").openapi({ description: "The group's id or name." });
const RuleParam = GroupParam.extend({ rule: IdParam("rule", "fwr_0123456789abcdefghij").shape.rule });
const ServerParam = IdParam("server", "srv_0123456789abcdefghij");

firewallGroupRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["firewall"],
    summary: "The organization's firewall groups, with their rules and the servers that have them",
    description: SEMANTICS,
    responses: { 200: jsonResponse(z.object({ firewall_groups: z.array(GroupView) }), "The groups.") },
  }),
  async (c) => c.json({ firewall_groups: (await listGroups(c.var.db, c.var.principal.organizationId)).map(toGroupView) }, 200),
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["firewall"],
    summary: "Create a firewall group, optionally with its rules (manage_firewall)",
    description: SEMANTICS,
    request: { body: jsonBody(GroupInput.openapi("FirewallGroupCreate")) },
    responses: { 201: jsonResponse(GroupView, "Created.") },
    errors: ["validation", "conflict"],
  }),
  async (c) => c.json(toGroupView(await createGroup(c.var.db, authedActor(c), c.req.valid("json"))), 201),
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{group}",
    tags: ["firewall"],
    summary: "One firewall group by id or name",
    request: { params: GroupParam },
    responses: { 200: jsonResponse(GroupView, "The group.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toGroupView(await getGroup(c.var.db, c.var.principal.organizationId, c.req.valid("param").group)), 200),
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{group}",
    tags: ["firewall"],
    summary: "Change a group's name, description, defaults or (all of) its rules, and push it to its servers (manage_firewall)",
    request: { params: GroupParam, body: jsonBody(GroupPatch) },
    responses: { 200: jsonResponse(GroupChange, "Changed; `pushed` says what each server's host did.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const change = await updateGroup(c.var.db, c.env, authedActor(c), c.req.valid("param").group, c.req.valid("json"));
    return c.json({ group: toGroupView(change.group), pushed: change.pushed }, 200);
  },
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{group}",
    tags: ["firewall"],
    summary: "Delete a group: its servers lose its rules at once (manage_firewall)",
    request: { params: GroupParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true), pushed: z.array(PushOutcome) }), "Deleted.") },
    errors: ["notFound"],
  }),
  async (c) =>
    c.json({ deleted: true as const, pushed: await deleteGroup(c.var.db, c.env, authedActor(c), c.req.valid("param").group) }, 200),
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{group}/rules",
    tags: ["firewall"],
    summary: "Add a rule at a position (the end by default) and push the group to its servers (manage_firewall)",
    description: SEMANTICS,
    request: { params: GroupParam, body: jsonBody(RuleInput.openapi("FirewallRuleCreate")) },
    responses: { 201: jsonResponse(GroupChange.extend({ rule: RuleView }), "Added.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const change = await addRule(c.var.db, c.env, authedActor(c), c.req.valid("param").group, c.req.valid("json"));
    return c.json({ group: toGroupView(change.group), pushed: change.pushed, rule: toRuleView(change.rule) }, 201);
  },
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{group}/rules/{rule}",
    tags: ["firewall"],
    summary: "Change a rule (or move it) and push the group to its servers (manage_firewall)",
    request: { params: RuleParam, body: jsonBody(RulePatch) },
    responses: { 200: jsonResponse(GroupChange.extend({ rule: RuleView }), "Changed.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const { group, rule } = c.req.valid("param");
    const change = await updateRule(c.var.db, c.env, authedActor(c), group, rule, c.req.valid("json"));
    return c.json({ group: toGroupView(change.group), pushed: change.pushed, rule: toRuleView(change.rule) }, 200);
  },
);

firewallGroupRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{group}/rules/{rule}",
    tags: ["firewall"],
    summary: "Remove a rule and push the group to its servers (manage_firewall)",
    request: { params: RuleParam },
    responses: { 200: jsonResponse(GroupChange, "Removed.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const { group, rule } = c.req.valid("param");
    const change = await deleteRule(c.var.db, c.env, authedActor(c), group, rule);
    return c.json({ group: toGroupView(change.group), pushed: change.pushed }, 200);
  },
);

// ---- a server's groups ------------------------------------------------------------------------------

const Assignment = z
  .object({
    groups: z
      .array(z.string().min(1).max(64))
      .max(50)
      .openapi({ description: "Group ids or names. For DELETE, none takes every group away." }),
  })
  .openapi("FirewallAssignment");

serverFirewallRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{server}/firewall-groups",
    tags: ["firewall"],
    summary: "A server's firewall groups, its effective ruleset's size and what its host last did with it",
    request: { params: ServerParam },
    responses: { 200: jsonResponse(ServerFirewall, "The server's firewall.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const server = await getServer(
      c.var.db,
      c.var.principal.organizationId,
      c.req.valid("param").server,
      await serverScope(c.var.db, c.var.principal),
    );
    return c.json(await serverFirewall(c.var.db, server), 200);
  },
);

const ASSIGN_ERRORS =
  "All or nothing: when the host cannot write the ruleset the assignment is undone and the error answered — 503 when the host is offline, 409 when its agent may not change iptables (not root, no NET_ADMIN, no iptables; the message says which).";

for (const [method, mode, summary] of [
  ["post", "add", "Give a server more firewall groups and write its ruleset on its host (manage_firewall)"],
  ["put", "set", "Set exactly a server's firewall groups and write its ruleset on its host (manage_firewall)"],
  ["delete", "remove", "Take firewall groups (or, with none named, all) away from a server (manage_firewall)"],
] as const) {
  serverFirewallRoutes.openapi(
    authedRoute({
      method,
      path: "/{server}/firewall-groups",
      tags: ["firewall"],
      summary,
      description: ASSIGN_ERRORS,
      request: { params: ServerParam, body: { ...jsonBody(Assignment), required: mode !== "remove" } },
      responses: { 200: jsonResponse(ServerFirewall, "The server's firewall now.") },
      errors: ["validation", "notFound", "conflict", "relay"],
    }),
    async (c) => {
      // Without a body the validator hands over `{}`.
      const groups = (c.req.valid("json") as Partial<z.infer<typeof Assignment>> | undefined)?.groups ?? [];
      const change = await changeServerGroups(c.var.db, c.env, authedActor(c), c.req.valid("param").server, groups, mode);
      return c.json(change.firewall, 200);
    },
  );
}
