import { z } from "@hono/zod-openapi";
import { ALERT_METRICS, ALERT_STATES } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as alerts from "../services/alerts.ts";
import { toAlertView } from "../services/alerts.ts";
import { getHost } from "../services/hosts.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const AlertView = z
  .object({
    id: z.string(),
    host_id: z.string(),
    metric: z.enum(ALERT_METRICS),
    state: z.enum(ALERT_STATES).openapi({ description: "pending (above the threshold, not yet for its duration), firing, resolved" }),
    threshold: z.number(),
    duration_seconds: z.number().int(),
    value: z.number().openapi({ description: "The latest value seen." }),
    peak_value: z.number(),
    since: z.string().openapi({ description: "When the value crossed the threshold." }),
    fired_at: z.string().nullable(),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
    resolved_at: z.string().nullable(),
    resolved_by: z.string().nullable().openapi({ description: "Null when the value recovered; the user who cleared it otherwise." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Alert");

export const alertRoutes = createRouter();
alertRoutes.use("*", requireAuth());

const AlertId = IdParam("id", "alt_0123456789abcdefghij");

alertRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["alerts"],
    summary: "Alerts of your organization's hosts, newest first",
    request: { query: PageQuery.extend({ state: z.enum(ALERT_STATES).optional(), host_id: z.string().max(64).optional() }) },
    responses: {
      200: jsonResponse(PageMeta.extend({ alerts: z.array(AlertView) }), "A page of alerts."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await alerts.listAlerts(c.var.db, c.var.principal.organizationId, { state: q.state, hostId: q.host_id }, q);
    return c.json({ alerts: page.items.map(toAlertView), next_cursor: page.nextCursor }, 200);
  },
);

alertRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["alerts"],
    summary: "One alert",
    request: { params: AlertId },
    responses: { 200: jsonResponse(AlertView, "The alert.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toAlertView(await alerts.getAlert(c.var.db, c.var.principal.organizationId, c.req.valid("param").id)), 200),
);

alertRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/acknowledge",
    tags: ["alerts"],
    summary: "Acknowledge an alert: someone is on it (member or higher)",
    request: { params: AlertId },
    responses: { 200: jsonResponse(AlertView, "The alert.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toAlertView(await alerts.acknowledgeAlert(c.var.db, authedActor(c), c.req.valid("param").id)), 200),
);

alertRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/clear",
    tags: ["alerts"],
    summary: "Resolve an alert by hand (member or higher); it opens again if the value stays high for the duration",
    request: { params: AlertId },
    responses: { 200: jsonResponse(AlertView, "The alert.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const id = c.req.valid("param").id;
    await alerts.clearAlerts(c.var.db, authedActor(c), { alertIds: [id] });
    return c.json(toAlertView(await alerts.getAlert(c.var.db, c.var.principal.organizationId, id)), 200);
  },
);

// ---- rules -----------------------------------------------------------------------------------------

const RuleView = z
  .object({
    id: z.string().nullable().openapi({ description: "Null for a built-in default." }),
    host_id: z.string().nullable().openapi({ description: "Null: every host of the organization." }),
    metric: z.enum(ALERT_METRICS),
    threshold: z.number(),
    duration_seconds: z.number().int(),
    enabled: z.boolean(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi("AlertRule");

const toRuleView = (r: alerts.AlertRuleRow): z.infer<typeof RuleView> => ({
  id: r.id,
  host_id: r.scope === alerts.ORGANIZATION_SCOPE ? null : r.scope,
  metric: r.metric,
  threshold: r.threshold,
  duration_seconds: r.durationSeconds,
  enabled: r.enabled,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

const Threshold = z.number().gt(0).lt(100).openapi({ description: "Percent." });
const DurationSeconds = z
  .number()
  .int()
  .min(0)
  .max(86400)
  .openapi({ description: "How long the value must stay above the threshold before the alert fires." });

export const alertRuleRoutes = createRouter();
alertRuleRoutes.use("*", requireAuth());

alertRuleRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["alerts"],
    summary: "Alert rules: your organization's and hosts' own, and the built-in defaults",
    request: {
      query: z.object({ host_id: z.string().max(64).optional().openapi({ description: "Also show the rules in effect for this host." }) }),
    },
    responses: {
      200: jsonResponse(
        z.object({
          rules: z.array(RuleView),
          defaults: z.array(RuleView),
          effective: z.array(RuleView.extend({ source: z.enum(["default", "organization", "host"]) })).optional(),
        }),
        "Rules.",
      ),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const orgId = c.var.principal.organizationId;
    const hostId = c.req.valid("query").host_id;
    const rules = await alerts.listRules(c.var.db, orgId);
    const defaults = Object.entries(alerts.DEFAULT_RULES).map(([metric, d]) => ({
      id: null,
      host_id: null,
      metric: metric as (typeof ALERT_METRICS)[number],
      threshold: d.threshold,
      duration_seconds: d.durationSeconds,
      enabled: true,
      created_at: null,
      updated_at: null,
    }));
    const effective = hostId ? await effectiveRules(hostId) : undefined;
    async function effectiveRules(hostId: string) {
      const host = await getHost(c.var.db, orgId, hostId);
      return (await alerts.rulesForHost(c.var.db, orgId, host.id)).map((r) => ({
        id: r.ruleId,
        host_id: r.source === "host" ? host.id : null,
        metric: r.metric,
        threshold: r.threshold,
        duration_seconds: r.durationSeconds,
        enabled: r.enabled,
        created_at: null,
        updated_at: null,
        source: r.source,
      }));
    }
    return c.json({ rules: rules.map(toRuleView), defaults, ...(effective ? { effective } : {}) }, 200);
  },
);

alertRuleRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["alerts"],
    summary: "Set a threshold for the organization or one host (owner/admin)",
    request: {
      body: jsonBody(
        z
          .object({
            host_id: z.string().max(64).nullish(),
            metric: z.enum(ALERT_METRICS),
            threshold: Threshold,
            duration_seconds: DurationSeconds,
            enabled: z.boolean().optional(),
          })
          .strict()
          .openapi("NewAlertRule"),
      ),
    },
    responses: { 201: jsonResponse(RuleView, "The rule.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    const row = await alerts.createRule(c.var.db, authedActor(c), {
      hostId: b.host_id ?? null,
      metric: b.metric,
      threshold: b.threshold,
      durationSeconds: b.duration_seconds,
      enabled: b.enabled,
    });
    return c.json(toRuleView(row), 201);
  },
);

const RuleId = IdParam("id", "alr_0123456789abcdefghij");

alertRuleRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["alerts"],
    summary: "Change a rule's threshold, duration or switch (owner/admin)",
    request: {
      params: RuleId,
      body: jsonBody(
        z
          .object({ threshold: Threshold.optional(), duration_seconds: DurationSeconds.optional(), enabled: z.boolean().optional() })
          .strict()
          .openapi("AlertRuleUpdate"),
      ),
    },
    responses: { 200: jsonResponse(RuleView, "The rule.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const b = c.req.valid("json");
    return c.json(
      toRuleView(
        await alerts.updateRule(c.var.db, authedActor(c), c.req.valid("param").id, {
          threshold: b.threshold,
          durationSeconds: b.duration_seconds,
          enabled: b.enabled,
        }),
      ),
      200,
    );
  },
);

alertRuleRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["alerts"],
    summary: "Delete a rule; the organization's rule or the default applies again (owner/admin)",
    request: { params: RuleId },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await alerts.deleteRule(c.var.db, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
