import { z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as deploymentLogs from "../services/deployment-logs.ts";
import * as deployments from "../services/deployments.ts";
import { DeploymentView, LogPiece, QueuedDeploymentView, toDeploymentView } from "./app-schemas.ts";
import { DEPLOYMENT_STATUSES } from "../db/schema.ts";
import { PageQuery } from "../lib/pagination.ts";
import { authedRoute, createRouter, IdParam, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";

export const deploymentRoutes = createRouter();
// The log stream accepts `?access_token=` too (a browser EventSource cannot send headers); the
// other routes, which change things, take credentials in headers only.
deploymentRoutes.use("/:id/logs", requireAuth({ allowQueryToken: true }));
deploymentRoutes.use("*", requireAuth());

const DeploymentId = IdParam("id", "dpl_0123456789abcdefghij");

const DeploymentListItem = DeploymentView.extend({
  application_name: z.string().openapi({ description: "The deployed application's name." }),
}).openapi("DeploymentListItem");

deploymentRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["deployments"],
    summary: "Deployments of every application of your organization (those in your projects), newest first",
    request: { query: PageQuery.extend({ status: z.enum(DEPLOYMENT_STATUSES).optional() }) },
    responses: {
      200: jsonResponse(PageMeta.extend({ deployments: z.array(DeploymentListItem) }), "A page of deployments."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const { status, ...page } = c.req.valid("query");
    const found = await deployments.listOrganizationDeployments(c.var.db, c.var.principal, { status }, page);
    return c.json(
      {
        deployments: found.items.map((d) => ({ ...toDeploymentView(d), application_name: d.applicationName })),
        next_cursor: found.nextCursor,
      },
      200,
    );
  },
);

deploymentRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["deployments"],
    summary: "A deployment: status, commit, image, error, task",
    request: { params: DeploymentId },
    responses: { 200: jsonResponse(DeploymentView, "The deployment.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(toDeploymentView(await deployments.getDeployment(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

deploymentRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/cancel",
    tags: ["deployments"],
    summary: "Cancel: a queued deployment is dropped, a running one aborted on its host (member+)",
    request: { params: DeploymentId },
    responses: {
      200: jsonResponse(DeploymentView, "The deployment (a running one may still be `building` for a moment)."),
    },
    errors: ["notFound", "conflict"],
  }),
  async (c) => c.json(toDeploymentView(await deployments.cancelDeployment(c.var.db, c.env, authedActor(c), c.req.valid("param").id)), 200),
);

deploymentRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/rollback",
    tags: ["deployments"],
    summary: "Roll back to this (successful) deployment: its image runs again (member+)",
    request: { params: DeploymentId },
    responses: { 202: jsonResponse(QueuedDeploymentView, "The rollback deployment.") },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    const result = await deployments.rollback(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    c.header("Location", `/api/v1/deployments/${result.deployment.id}`);
    return c.json({ ...toDeploymentView(result.deployment), coalesced: result.coalesced }, 202);
  },
);

const LogsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(-1)
    .optional()
    .openapi({ description: "Only pieces with a larger seq (the `next_after` of the previous read)." }),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
  follow: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .openapi({
      description:
        "Stream as SSE: a `: ready` comment once subscribed, `log` events (id = seq) live until the deployment ends, then one `end` event; a reconnect after the end gets 204.",
    }),
  access_token: z.string().optional(),
});

const LogsView = z
  .object({ deployment_id: z.string(), status: z.string(), finished: z.boolean(), logs: z.array(LogPiece), next_after: z.number() })
  .openapi("DeploymentLogs");

deploymentRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/logs",
    tags: ["deployments"],
    summary: "Build and deploy output: stored pieces as JSON, or with follow=true a live SSE stream (resumes after Last-Event-ID)",
    request: { params: DeploymentId, query: LogsQuery },
    responses: {
      200: {
        description: "The output.",
        content: { "application/json": { schema: LogsView }, "text/event-stream": { schema: z.string() } },
      },
      204: {
        description:
          "follow=true with a Last-Event-ID at or after the last piece of a finished deployment: nothing more will come, and EventSource stops reconnecting.",
      },
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const dep = await deployments.getDeployment(c.var.db, c.var.principal, c.req.valid("param").id);
    const q = c.req.valid("query");
    const lastEventId = Number.parseInt(c.req.header("last-event-id") ?? "", 10);
    const after = q.after ?? (Number.isFinite(lastEventId) ? lastEventId : -1);
    if (!q.follow) {
      const rows = await deployments.readLogs(c.var.db, dep.id, after, q.limit ?? 1000);
      return c.json(
        {
          deployment_id: dep.id,
          status: dep.status,
          finished: deployments.isFinished(dep.status),
          logs: rows.map(deploymentLogs.toPiece),
          next_after: rows.at(-1)?.seq ?? after,
        },
        200,
      );
    }
    // A reconnecting EventSource that has seen the end is told to stop.
    if (await deploymentLogs.followerIsDone(c.var.db, dep, Number.isFinite(lastEventId) ? lastEventId : undefined))
      return c.body(null, 204);
    const socket = await deploymentLogs.subscribeDeployment(c.env, dep);
    const db = c.var.db;
    const orgId = c.var.principal.organizationId;
    return streamSSE(c, (sse) => deploymentLogs.followLogs(sse, socket, db, orgId, dep, after)) as never;
  },
);
