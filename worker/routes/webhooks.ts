import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { applyRateLimitDecision, consumeRateLimit } from "../middleware/rate-limit.ts";
import { clientIp } from "../middleware/request-context.ts";
import { applicationByWebhookToken, type ApplicationRow, WEBHOOK_TOKEN_PREFIX } from "../services/applications.ts";
import type { DeliveryResult } from "../services/webhooks.ts";
import { rateLimitPerMinute, webhookRateLimitPerMinute } from "../settings.ts";
import { createRouter, jsonResponse } from "./openapi.ts";

/**
 * Push webhooks. Unauthenticated on purpose: the URL's token names the application and the
 * provider's signature is the credential. Mounted before the per-credential rate limit (GitHub
 * sends every repository's hooks from the same few addresses); limited per application instead.
 */
export const webhookRoutes = createRouter();

/** The application of a webhook token; an unknown token costs its sender a hit on the address limit. */
export async function applicationForToken(c: Context<AppEnv>, token: string): Promise<ApplicationRow | undefined> {
  const app = await applicationByWebhookToken(c.var.db, token);
  if (!app) await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, rateLimitPerMinute(c.env));
  return app;
}

const DeliveryAnswer = z
  .object({ delivery: z.string(), outcome: z.string(), detail: z.string(), deployment_id: z.string().nullable() })
  .openapi("WebhookDeliveryAnswer");

export const answerOf = (r: DeliveryResult) => ({
  delivery: r.deliveryRowId,
  outcome: r.outcome,
  detail: r.detail,
  deployment_id: r.deploymentId,
});

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/webhooks/{token}",
    tags: ["webhooks"],
    summary: "Receive a GitHub, GitLab or Bitbucket push (told apart by their headers, verified by each one's signature scheme)",
    description:
      "GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the raw body, `sha256=` hex). GitLab: X-Gitlab-Token (the secret). Bitbucket: X-Hub-Signature (HMAC-SHA256, `sha256=` hex). A bad or missing signature is 401 and deploys nothing; a ping is 200; a push to the application's branch is 202 (`outcome: queued`): the deployment is queued right after the answer and its id appears in the delivery's record (GET /api/v1/applications/:id/webhook-deliveries); other branches, `[skip ci]`/`[ci skip]` and repeated delivery ids are 200 with nothing deployed. Every delivery is stored durably before the answer and appears in the application's deliveries moments later. 30 requests a minute per application (X-RateLimit-* headers).",
    request: {
      params: z.object({
        token: z
          .string()
          .min(1)
          .max(128)
          .openapi({ param: { name: "token", in: "path" } }),
      }),
    },
    responses: {
      200: jsonResponse(DeliveryAnswer, "Received; nothing to deploy (ping, other branch, skip, duplicate)."),
      202: jsonResponse(
        DeliveryAnswer,
        "A push to the application's branch: its deployment is queued after the answer (deployment_id is null here).",
      ),
      400: { description: "Unreadable payload (recorded)." },
      401: { description: "Missing or wrong signature, or no provider headers (recorded)." },
      404: { description: "No application has this token." },
      429: { description: "More than 30 deliveries a minute for this application." },
    },
  }),
  async (c) => {
    const token = c.req.valid("param").token;
    const unknown = () => {
      throw new ApiError(
        404,
        "No application has this webhook token: copy webhook_url from GET /api/v1/applications/:id (it changes when the token is rotated).",
      );
    };
    if (!token.startsWith(WEBHOOK_TOKEN_PREFIX)) {
      await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, rateLimitPerMinute(c.env));
      return unknown();
    }
    const answer = await c.env.WEBHOOK_INBOX.getByName(await sha256Hex(token)).receive({
      headers: [...c.req.raw.headers],
      body: new Uint8Array(await c.req.arrayBuffer()),
      limit: webhookRateLimitPerMinute(c.env),
    });
    if (answer.kind === "unknown") {
      await consumeRateLimit(c, `ip:${clientIp(c) ?? "unknown"}`, rateLimitPerMinute(c.env));
      return unknown();
    }
    // Throws 429 when the application is over its limit.
    applyRateLimitDecision(c, answer.decision);
    if (answer.kind !== "received") throw new Error("a delivery over the limit was not refused");
    const { result } = answer;
    if (answer.noProvider)
      throw new ApiError(
        401,
        "This endpoint takes GitHub, GitLab and Bitbucket deliveries: none of their event headers (X-GitHub-Event, X-Gitlab-Event, X-Event-Key) is present.",
      );
    if (result.status === 401) throw new ApiError(401, `Signature check failed: ${result.detail}. Nothing was deployed.`);
    if (result.status === 400) throw new ApiError(400, `${result.detail}. Nothing was deployed.`);
    return c.json(answerOf(result), result.status);
  },
);
