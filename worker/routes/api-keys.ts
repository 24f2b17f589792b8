import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { PageQuery } from "../lib/pagination.ts";
import * as apiKeys from "../services/api-keys.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";
import { ApiKeyView, NewApiKeyBody, NewApiKeyView, toApiKeyView } from "./schemas.ts";

export const apiKeyRoutes = createRouter();
apiKeyRoutes.use("*", requireAuth());

apiKeyRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["api-keys"],
    summary: "Create an API key; the key is shown only in this response",
    request: { body: jsonBody(NewApiKeyBody) },
    responses: { 201: jsonResponse(NewApiKeyView, "The key, shown once.") },
    errors: ["validation"],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { row, key } = await apiKeys.createApiKey(c.var.db, authedActor(c), {
      name: body.name,
      role: body.role,
      expiresAt: body.expires_at,
    });
    return c.json({ ...toApiKeyView(row), key }, 201);
  },
);

apiKeyRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["api-keys"],
    summary: "API keys (yours; every key of the organization for owners and admins), without secrets",
    description:
      "Each key shows when it was created, when it was last used (recorded at most once a minute) and whether it is revoked or expires: someone who suspects a leak sees what to revoke. `user_id` narrows the list to one person's keys.",
    request: {
      query: PageQuery.extend({
        user_id: z.string().max(64).optional().openapi({ description: "Only this user's keys (admins: any member; others: yourself)." }),
      }),
    },
    responses: {
      200: jsonResponse(PageMeta.extend({ api_keys: z.array(ApiKeyView) }), "A page of keys, newest first."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await apiKeys.listApiKeys(c.var.db, c.var.principal, { ...query, userId: query.user_id });
    return c.json({ api_keys: page.items.map(toApiKeyView), next_cursor: page.nextCursor }, 200);
  },
);

apiKeyRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["api-keys"],
    summary: "Revoke an API key",
    request: { params: IdParam("id", "key_0123456789abcdefghij") },
    responses: { 204: { description: "Revoked." } },
    errors: ["notFound"],
  }),
  async (c) => {
    await apiKeys.revokeApiKey(c.var.db, c.var.credentials, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
