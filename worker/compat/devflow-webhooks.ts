// DevFlow Pro's deploy webhook (seed 003): `POST /api/webhooks/deploy/{token}` with GitHub's,
// GitLab's or Bitbucket's documented payload, answering
// `{"message":"Deployment triggered successfully","deployment_id":…}`.
//
// `{token}` is the application's webhook token. The document's own examples put a project slug
// there instead (`/api/webhooks/deploy/my-project`), so the application's app name (or id) is
// accepted too — but only when the request proves itself another way: valid credentials of the
// application's organization (the deploy-with-backup script's `Authorization: Bearer`), or a
// valid provider signature. With a token or credentials, a request without a body deploys the
// branch head. Errors use the document's standard format: {"error", "message", "status"}.
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { credentialOf, resolvePrincipal } from "../middleware/auth.ts";
import { consumeRateLimit } from "../middleware/rate-limit.ts";
import { clientIp } from "../middleware/request-context.ts";
import { applicationByWebhookToken, applicationsBySlug, type ApplicationRow } from "../services/applications.ts";
import { requireRole } from "../services/principal.ts";
import {
  detectProvider,
  handleDelivery,
  intentOf,
  receiveProviderDelivery,
  verifyDelivery,
  webhookSecretOf,
  type DeliveryResult,
  type WebhookIntent,
} from "../services/webhooks.ts";
import { rateLimitPerMinute, webhookRateLimitPerMinute } from "../settings.ts";

export const devflowWebhookCompat = new Hono<AppEnv>();

type Found = { app: ApplicationRow; via: "token" | "credentials" | "signature" };

/** Which application the path names, and what proves the caller may deploy it. */
async function findApplication(c: Context<AppEnv>, key: string): Promise<Found | null> {
  const byToken = await applicationByWebhookToken(c.var.db, key);
  if (byToken) return { app: byToken, via: "token" };
  // Mounted before the global authentication: credentials are resolved here, when present.
  const credential = credentialOf(c);
  const p = credential ? await resolvePrincipal(c, credential) : undefined;
  if (p) {
    c.set("principal", p);
    const [app] = await applicationsBySlug(c.var.db, key, p.organizationId);
    if (!app) return null;
    requireRole(p, "member", "deploy applications");
    return { app, via: "credentials" };
  }
  const provider = detectProvider(c.req.raw.headers);
  if (!provider) return null;
  // A signed delivery to a slug: the application whose secret verifies it (slugs are unique per
  // organization, not across them).
  const body = new Uint8Array(await c.req.raw.clone().arrayBuffer());
  for (const app of await applicationsBySlug(c.var.db, key)) {
    if (await verifyDelivery(provider, c.req.raw.headers, await webhookSecretOf(c.env, app), body)) return { app, via: "signature" };
  }
  return null;
}

function answer(c: Context<AppEnv>, result: DeliveryResult) {
  if (result.status === 401) throw new ApiError(401, `Invalid webhook signature: ${result.detail}.`);
  if (result.status === 400) throw new ApiError(400, result.detail);
  if (result.status === 202) return c.json({ message: "Deployment triggered successfully", deployment_id: result.deploymentId });
  if (result.outcome === "duplicate")
    return c.json({ message: "Deployment already triggered for this delivery", deployment_id: result.deploymentId });
  return c.json({ message: `No deployment triggered: ${result.detail}`, deployment_id: null });
}

devflowWebhookCompat.post("/api/webhooks/deploy/:token", async (c) => {
  const key = c.req.param("token");
  if (key.length > 200) throw new ApiError(404, "Unknown deploy webhook.");
  const found = await findApplication(c, key);
  if (!found) {
    await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, rateLimitPerMinute(c.env));
    throw new ApiError(
      404,
      "Unknown deploy webhook: use the application's webhook token, or its app name with valid credentials or a signed delivery.",
    );
  }
  const { app, via } = found;
  await consumeRateLimit(c, `webhook:${app.id}`, webhookRateLimitPerMinute(c.env));

  // A provider's signed delivery is verified like on the canonical endpoint. DevFlow's own setup
  // configures no secret, so an unsigned delivery to the token URL is authenticated by the token.
  const signed = ["x-hub-signature-256", "x-hub-signature", "x-gitlab-token"].some((h) => c.req.header(h));
  if (detectProvider(c.req.raw.headers) && via !== "credentials" && (via !== "token" || signed)) {
    const result = await receiveProviderDelivery(c.var.db, c.env, app, "devflow", {
      headers: c.req.raw.headers,
      body: new Uint8Array(await c.req.arrayBuffer()),
    });
    if (result) return answer(c, result);
  }

  // The token or the caller's credentials authenticate the request; the body says what to deploy.
  const text = await c.req.text();
  let intent: WebhookIntent;
  let event = "deploy";
  if (text.trim() === "") {
    intent = { kind: "push", ref: `refs/heads/${app.gitBranch}`, branch: app.gitBranch, commit: null, message: "", deleted: false };
  } else {
    // Recorded as an invalid delivery, and answered 400 with why.
    const refuse = async (detail: string) =>
      answer(
        c,
        await handleDelivery(c.var.db, c.env, app, {
          provider: "generic",
          event,
          deliveryId: null,
          verified: true,
          trigger: "devflow",
          problem: { outcome: "invalid", detail },
        }),
      );
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return refuse("the payload is not JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return refuse("the payload is not a JSON object");
    intent = intentOf(null, null, payload);
    const p = payload as Record<string, unknown>;
    event = `push (${p.object_kind !== undefined ? "gitlab" : (p.push as Record<string, unknown> | undefined)?.changes !== undefined ? "bitbucket" : "github"} payload)`;
  }
  const result = await handleDelivery(c.var.db, c.env, app, {
    provider: "generic",
    event,
    deliveryId: null,
    verified: true,
    trigger: "devflow",
    intent,
    deployHead: true,
  });
  return answer(c, result);
});
