import { monitoringRoutes, prometheusRoutes, systemRoutes } from "./routes/system.ts";
import { vaultRoutes } from "./routes/vault.ts";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { compatRoutes } from "./compat/index.ts";
import { ApiError } from "./errors.ts";
import { renderError } from "./middleware/error-response.ts";
import { noRoute } from "./compat/envelopes.ts";
import { authenticateAndLimit } from "./middleware/auth.ts";
import { requestContext } from "./middleware/request-context.ts";
import { agentRoutes } from "./routes/agent.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { containerAdminRoutes } from "./routes/container-admin.ts";
import { containerRoutes } from "./routes/containers.ts";
import { eventRoutes } from "./routes/events.ts";
import { hostRoutes } from "./routes/hosts.ts";
import { imageRoutes } from "./routes/images.ts";
import { dockerSystemRoutes } from "./routes/docker-system.ts";
import { composeRoutes } from "./routes/compose.ts";
import { networkRoutes } from "./routes/networks.ts";
import { volumeRoutes } from "./routes/volumes.ts";
import { terminalRoutes } from "./routes/terminal.ts";
import { registryRoutes } from "./routes/registries.ts";
import { backupDestinationRoutes } from "./routes/backup-destinations.ts";
import { backupRoutes } from "./routes/backups.ts";
import { backupPolicyRoutes } from "./routes/backup-policies.ts";
import { auditRoutes } from "./routes/audit.ts";
import { authRoutes } from "./routes/auth.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { alertRoutes, alertRuleRoutes } from "./routes/alerts.ts";
import { metricRoutes } from "./routes/metrics.ts";
import { channelRoutes } from "./routes/notification-channels.ts";
import { notificationRoutes } from "./routes/notifications.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { compatDocument } from "./routes/compat-openapi.ts";
import { createRouter, finishDocument, LICENSE } from "./routes/openapi.ts";
import { swaggerPage } from "./routes/swagger.ts";
import { dashboardPages } from "./routes/dashboard.ts";
import { setupRoutes } from "./routes/setup.ts";
import { refuseProjectScoped } from "./services/permissions.ts";
import { iamRoutes, userRoutes } from "./routes/users.ts";
import { applicationRoutes } from "./routes/applications.ts";
import { databaseRoutes } from "./routes/databases.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { domainRoutes } from "./routes/domains.ts";
import { projectRoutes } from "./routes/projects.ts";
import { environmentRoutes } from "./routes/environments.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { serverRoleRoutes, serverRoutes } from "./routes/servers.ts";
import { firewallGroupRoutes, serverFirewallRoutes } from "./routes/firewall.ts";
import { devflowWebhookCompat } from "./compat/devflow-webhooks.ts";
import { corsOrigins } from "./settings.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
/** GitHub sends push payloads of up to 25 MB; the webhook endpoints take that much. */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;
const WEBHOOK_PATH = /^\/api\/(v1\/webhooks|webhooks\/deploy)\//;
/** Tar uploads stream to a host; their limit is PIER_MAX_UPLOAD_BYTES, applied by services/transfers.ts as they stream. */
const TAR_UPLOAD_PATH = /^\/api\/v1\/hosts\/[^/]+\/(images\/load|containers\/[^/]+\/archive)$/;

export function createApp() {
  const app = createRouter();

  app.use("*", requestContext());
  app.use("*", async function corsForConfiguredOrigins(c, next) {
    const origins = corsOrigins(c.env);
    return cors({
      origin: origins.includes("*") ? "*" : origins,
      allowHeaders: ["Authorization", "Content-Type", "X-Api-Key", "X-Request-Id", "Last-Event-ID"],
      exposeHeaders: ["X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After"],
      maxAge: 600,
    })(c, next);
  });
  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, `The request body is larger than ${maxSize} bytes.`);
      },
    });
  const apiBodyLimit = limitBody(MAX_BODY_BYTES);
  const webhookBodyLimit = limitBody(MAX_WEBHOOK_BODY_BYTES);
  app.use("*", function bodyLimitByRoute(c, next) {
    if (TAR_UPLOAD_PATH.test(c.req.path) && c.req.method !== "GET") return next();
    return (WEBHOOK_PATH.test(c.req.path) ? webhookBodyLimit : apiBodyLimit)(c, next);
  });

  // Unauthenticated and unlimited: probes, documentation, and the dashboard's page (its data comes
  // from the API, authenticated as the user).
  app.use("*", dashboardPages());
  app.route("/", healthRoutes);
  // Generated per request from what is registered (cheap next to a network round trip), so the
  // document is always the routes the app has.
  app.get("/openapi.json", (c) =>
    c.json(
      finishDocument(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: {
            title: "Pier API",
            version: c.env.PIER_VERSION,
            license: LICENSE,
            description:
              "Serverless control plane for Docker hosts. The compatibility surfaces (Dokploy, and seeds 001–004) are in /openapi/compat.json.",
          },
          servers: [{ url: new URL(c.req.url).origin }],
        }),
      ),
    ),
  );
  app.get("/openapi/compat.json", (c) =>
    c.json(compatDocument([...compatRoutes.routes, ...devflowWebhookCompat.routes], new URL(c.req.url).origin, c.env.PIER_VERSION)),
  );
  app.get("/swagger", swaggerPage);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An access token from /api/v1/auth/login, or an API key.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "apiKey", in: "header", name: "x-api-key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "cookie", {
    type: "apiKey",
    in: "cookie",
    name: "pier_session",
    description:
      "The dashboard's session, from POST /api/v1/auth/browser/login. Accepted only from the dashboard's own origin; requests that change something also send the pier_csrf cookie's value as X-CSRF-Token.",
  });

  // The agent authenticates with its own token, verified by the agent route.
  app.route("/api/v1/agent", agentRoutes);

  // Push webhooks: limited per application (30/min), not per sender (see routes/webhooks.ts).
  app.route("/", webhookRoutes);
  app.route("/", devflowWebhookCompat);

  app.use("*", authenticateAndLimit());

  app.route("/api/v1/auth", authRoutes);
  app.route("/api/v1/setup", setupRoutes);
  app.route("/api/v1/me", meRoutes);
  app.route("/api/v1/users", userRoutes);
  app.route("/api/v1/iam", iamRoutes);
  app.route("/api/v1/api-keys", apiKeyRoutes);
  app.route("/api/v1/audit-events", auditRoutes);
  // A host's Docker objects are every project's: a project-scoped member reaches them through
  // their projects' applications, databases and servers instead.
  app.use("/api/v1/hosts/:id/*", refuseProjectScoped("A host's Docker API"));
  app.use("/api/v1/events", refuseProjectScoped("The organization's Docker event stream"));
  app.use("/api/v1/metrics/*", refuseProjectScoped("The Prometheus exposition"));
  app.route("/api/v1", eventRoutes);
  // Before the other /hosts routers: their requireAuth would refuse a ticket-only terminal upgrade.
  app.route("/api/v1/hosts", terminalRoutes);
  app.route("/api/v1/hosts", hostRoutes);
  app.route("/api/v1/hosts", containerRoutes);
  app.route("/api/v1/hosts", containerAdminRoutes);
  app.route("/api/v1/hosts", imageRoutes);
  app.route("/api/v1/hosts", volumeRoutes);
  app.route("/api/v1/hosts", networkRoutes);
  app.route("/api/v1/hosts", dockerSystemRoutes);
  app.route("/api/v1/hosts", composeRoutes);
  app.route("/api/v1/registries", registryRoutes);
  app.route("/api/v1/backup-destinations", backupDestinationRoutes);
  app.route("/api/v1/backups", backupRoutes);
  app.route("/api/v1/backup-policies", backupPolicyRoutes);
  app.route("/api/v1/servers", serverRoutes);
  app.route("/api/v1/server-roles", serverRoleRoutes);
  app.route("/api/v1/notifications", notificationRoutes);
  app.route("/api/v1/notification-channels", channelRoutes);
  app.route("/api/v1/tasks", taskRoutes);
  app.route("/api/v1/hosts", metricRoutes);
  app.route("/api/v1/alerts", alertRoutes);
  app.route("/api/v1/alert-rules", alertRuleRoutes);
  app.route("/api/v1/system", systemRoutes);
  app.route("/api/v1/monitoring", monitoringRoutes);
  app.route("/api/v1/metrics", prometheusRoutes);
  app.route("/api/v1/vault", vaultRoutes);
  app.route("/api/v1/projects", projectRoutes);
  app.route("/api/v1/environments", environmentRoutes);
  app.route("/api/v1/applications", applicationRoutes);
  app.route("/api/v1/deployments", deploymentRoutes);
  app.route("/api/v1/domains", domainRoutes);
  app.route("/api/v1/databases", databaseRoutes);
  app.route("/api/v1/firewall-groups", firewallGroupRoutes);
  app.route("/api/v1/servers", serverFirewallRoutes);
  app.route("/", compatRoutes);

  // One error handler for every surface: it picks the envelope by path (compat/envelopes.ts), so
  // what the shared steps above raise (401, 429, 413) reads like the rest of that surface.
  app.notFound((c) => renderError(noRoute(c.req.method, new URL(c.req.url).pathname), c));
  app.onError(renderError);
  return app;
}
