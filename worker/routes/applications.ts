import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { notFound } from "../errors.ts";
import { PageQuery } from "../lib/pagination.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as apps from "../services/applications.ts";
import * as deployments from "../services/deployments.ts";
import * as domains from "../services/domains.ts";
import { maskEnv, toDotenv } from "../services/environment.ts";
import { roleAtLeast } from "../services/principal.ts";
import { listDeliveries } from "../services/webhooks.ts";
import {
  ApplicationPatchBody,
  ApplicationView,
  DeliveryView,
  DeployBody,
  DeploymentView,
  DomainBody,
  DomainView,
  EnvironmentInput,
  NewApplicationBody,
  PlacedPageQuery,
  placementFilter,
  QueuedDeploymentView,
  toApplicationView,
  toDeliveryView,
  toDeploymentView,
  toDomainView,
} from "./app-schemas.ts";
import {
  authedRoute,
  createRouter,
  IdParam,
  jsonBody,
  jsonResponse,
  LIFECYCLE_ACTIONS,
  lifecycleRoute,
  PageMeta,
  validationErrors,
} from "./openapi.ts";
import { publicBaseUrl } from "../settings.ts";

export const applicationRoutes = createRouter();
applicationRoutes.use("*", requireAuth());

const AppId = IdParam("id", "app_0123456789abcdefghij");

/** Where providers send pushes: PIER_PUBLIC_URL when set (behind a proxy), else this request's origin. */
export const publicOrigin = (c: Context<AppEnv>): string => publicBaseUrl(c.env, c.req.url);
export const webhookUrl = (c: Context<AppEnv>, token: string): string => `${publicOrigin(c)}/api/v1/webhooks/${token}`;

/** The application as the caller may see it: secrets masked, webhook credentials for admins only. */
export async function applicationView(c: Context<AppEnv>, row: apps.ApplicationRow) {
  const environment = maskEnv(await apps.environmentOf(c.env, row));
  let webhook: { url: string; secret: string } | null = null;
  if (roleAtLeast(c.var.principal.role, "admin")) {
    const creds = await apps.webhookCredentials(c.env, row);
    webhook = { url: webhookUrl(c, creds.token), secret: creds.secret };
  }
  return toApplicationView(row, { environment, webhook });
}

applicationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["applications"],
    summary: "Create an application in a project: an image or a git source, ports, limits, health check (member+; secrets need admin)",
    request: { body: jsonBody(NewApplicationBody) },
    responses: {
      201: jsonResponse(ApplicationView, "The application."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => c.json(await applicationView(c, await apps.createApplication(c.var.db, c.env, authedActor(c), c.req.valid("json"))), 201),
);

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["applications"],
    summary: "Applications of your organization (of one project with ?project_id=, one environment with ?environment_id=), newest first",
    request: { query: PlacedPageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ applications: z.array(ApplicationView) }), "A page of applications."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await apps.listApplications(c.var.db, c.var.principal, placementFilter(q), q);
    return c.json({ applications: await Promise.all(page.items.map((a) => applicationView(c, a))), next_cursor: page.nextCursor }, 200);
  },
);

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["applications"],
    summary: "An application; admins also see webhook_url and webhook_secret",
    request: { params: AppId },
    responses: { 200: jsonResponse(ApplicationView, "The application.") },
    errors: ["notFound"],
  }),
  async (c) => c.json(await applicationView(c, await apps.getApplication(c.var.db, c.var.principal, c.req.valid("param").id)), 200),
);

applicationRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["applications"],
    summary: "Change an application; takes effect at its next deployment (member+; secrets need admin)",
    request: { params: AppId, body: jsonBody(ApplicationPatchBody) },
    responses: {
      200: jsonResponse(ApplicationView, "The application."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(
      await applicationView(c, await apps.updateApplication(c.var.db, c.env, authedActor(c), c.req.valid("param").id, c.req.valid("json"))),
      200,
    ),
);

applicationRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["applications"],
    summary: "Delete an application: its deployments are cancelled and its containers removed (admin)",
    request: { params: AppId },
    responses: { 204: { description: "Deleted." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await apps.deleteApplication(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);

for (const action of LIFECYCLE_ACTIONS) {
  applicationRoutes.openapi(
    lifecycleRoute(action, {
      tag: "applications",
      container: "the application's container",
      params: AppId,
      ok: jsonResponse(ApplicationView.extend({ changed: z.boolean() }), "The application; `changed: false` when it already was so."),
    }),
    async (c) => {
      const { row, changed } = await apps.changeState(c.var.db, c.env, authedActor(c), c.req.valid("param").id, action);
      return c.json({ ...(await applicationView(c, row)), changed }, 200);
    },
  );
}

// ---- environment ------------------------------------------------------------------------------

const EnvironmentView = z
  .object({
    environment: z.record(z.string(), z.string()),
    revealed: z.boolean(),
    dotenv: z.string().optional().openapi({ description: "Only when revealed." }),
  })
  .openapi("EnvironmentVariables");

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/environment",
    tags: ["applications"],
    summary: "Environment variables, masked; ?reveal=true shows the values to admins (audited)",
    request: {
      params: AppId,
      query: z.object({
        reveal: z
          .enum(["true", "false", "1", "0"])
          .optional()
          .transform((v) => v === "true" || v === "1"),
      }),
    },
    responses: { 200: jsonResponse(EnvironmentView, "The variables.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const id = c.req.valid("param").id;
    if (c.req.valid("query").reveal) {
      const vars = await apps.revealEnvironment(c.var.db, c.env, authedActor(c), id);
      return c.json({ environment: vars, revealed: true, dotenv: toDotenv(vars) }, 200);
    }
    const row = await apps.getApplication(c.var.db, c.var.principal, id);
    return c.json({ environment: maskEnv(await apps.environmentOf(c.env, row)), revealed: false }, 200);
  },
);

const SetEnvironmentBody = z.object({ environment: EnvironmentInput }).openapi("SetEnvironmentRequest");
for (const [method, merge] of [
  ["put", false],
  ["patch", true],
] as const) {
  applicationRoutes.openapi(
    authedRoute({
      method,
      path: "/{id}/environment",
      tags: ["applications"],
      summary: merge
        ? "Add or change environment variables, keeping the others (admin)"
        : "Replace the environment variables (admin); they apply at the next deployment",
      request: { params: AppId, body: jsonBody(SetEnvironmentBody) },
      responses: { 200: jsonResponse(EnvironmentView, "The variables, masked.") },
      errors: ["validation", "notFound"],
    }),
    async (c) => {
      const { vars } = await apps.setEnvironment(
        c.var.db,
        c.env,
        authedActor(c),
        c.req.valid("param").id,
        c.req.valid("json").environment,
        { merge },
      );
      return c.json({ environment: maskEnv(vars), revealed: false }, 200);
    },
  );
}

// ---- webhook ----------------------------------------------------------------------------------

applicationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/webhook/rotate",
    tags: ["webhooks"],
    summary: "Rotate the webhook secret (and with rotate=token|both, the URL); the old ones stop working (admin)",
    request: {
      params: AppId,
      body: {
        required: false,
        content: { "application/json": { schema: z.object({ rotate: z.enum(["secret", "token", "both"]).optional() }) } },
      },
    },
    responses: {
      200: jsonResponse(z.object({ webhook_url: z.string(), webhook_secret: z.string() }), "The new webhook credentials."),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const body = (c.req.valid("json") as { rotate?: "secret" | "token" | "both" } | undefined) ?? {};
    const row = await apps.rotateWebhook(c.var.db, c.env, authedActor(c), c.req.valid("param").id, body.rotate ?? "secret");
    const creds = await apps.webhookCredentials(c.env, row);
    return c.json({ webhook_url: webhookUrl(c, creds.token), webhook_secret: creds.secret }, 200);
  },
);

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/webhook-deliveries",
    tags: ["webhooks"],
    summary: "Webhook deliveries received for the application, newest first: provider, event, verified, outcome",
    request: { params: AppId, query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ deliveries: z.array(DeliveryView) }), "A page of deliveries."),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const app = await apps.getApplication(c.var.db, c.var.principal, c.req.valid("param").id);
    const page = await listDeliveries(c.var.db, org, app.id, c.req.valid("query"));
    return c.json({ deliveries: page.items.map(toDeliveryView), next_cursor: page.nextCursor }, 200);
  },
);

// ---- deployments ------------------------------------------------------------------------------

applicationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/deployments",
    tags: ["deployments"],
    summary: "Deploy (optionally a ref or commit): 202 with the queued deployment and its task (member+)",
    request: { params: AppId, body: { required: false, content: { "application/json": { schema: DeployBody } } } },
    responses: {
      202: jsonResponse(QueuedDeploymentView, "The deployment (an already queued one when the same commit was waiting)."),
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof DeployBody> | undefined) ?? {};
    const result = await deployments.requestDeployment(c.var.db, c.env, authedActor(c), c.req.valid("param").id, body);
    c.header("Location", `/api/v1/deployments/${result.deployment.id}`);
    return c.json({ ...toDeploymentView(result.deployment), coalesced: result.coalesced }, 202);
  },
);

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/deployments",
    tags: ["deployments"],
    summary: "Deployment history of the application, newest first",
    request: { params: AppId, query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ deployments: z.array(DeploymentView) }), "A page of deployments."),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const app = await apps.getApplication(c.var.db, c.var.principal, c.req.valid("param").id);
    const page = await deployments.listDeployments(c.var.db, org, app.id, c.req.valid("query"));
    return c.json({ deployments: page.items.map(toDeploymentView), next_cursor: page.nextCursor }, 200);
  },
);

applicationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/rollback",
    tags: ["deployments"],
    summary: "Roll back to an earlier successful deployment, reusing its image (member+)",
    request: { params: AppId, body: jsonBody(z.object({ deployment_id: z.string().min(1).max(64) }).openapi("RollbackRequest")) },
    responses: {
      202: jsonResponse(QueuedDeploymentView, "The rollback deployment."),
    },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const app = await apps.getApplication(c.var.db, c.var.principal, c.req.valid("param").id);
    const target = await deployments.getDeployment(c.var.db, c.var.principal, c.req.valid("json").deployment_id);
    if (target.applicationId !== app.id) throw notFound(`Deployment ${target.id} of application ${app.id}`);
    const result = await deployments.rollback(c.var.db, c.env, authedActor(c), target.id);
    return c.json({ ...toDeploymentView(result.deployment), coalesced: result.coalesced }, 202);
  },
);

// ---- domains ----------------------------------------------------------------------------------

applicationRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/domains",
    tags: ["domains"],
    summary: "Domains of the application",
    request: { params: AppId },
    responses: { 200: jsonResponse(z.object({ domains: z.array(DomainView) }), "The domains.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const org = c.var.principal.organizationId;
    const app = await apps.getApplication(c.var.db, c.var.principal, c.req.valid("param").id);
    return c.json({ domains: (await domains.listDomains(c.var.db, org, app.id)).map(toDomainView) }, 200);
  },
);

applicationRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{id}/domains",
    tags: ["domains"],
    summary: "Attach a domain; it becomes Traefik labels at the next deployment (member+)",
    request: { params: AppId, body: jsonBody(DomainBody) },
    responses: { 201: jsonResponse(DomainView, "The domain.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) =>
    c.json(toDomainView(await domains.createDomain(c.var.db, authedActor(c), c.req.valid("param").id, c.req.valid("json"))), 201),
);
