import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor, loginGuardsOf } from "../middleware/request-context.ts";
import { notFound } from "../errors.ts";
import * as accounts from "../services/accounts.ts";
import { authedRoute, createRouter, jsonBody, jsonResponse } from "./openapi.ts";
import { Password, toUserView, UserView } from "./schemas.ts";

export const meRoutes = createRouter();
meRoutes.use("*", requireAuth());

meRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["account"],
    summary: "The calling user",
    responses: { 200: jsonResponse(UserView, "You.") },
  }),
  async (c) => {
    const p = c.var.principal;
    const account = await accounts.loadAccount(c.var.db, p.userId);
    if (!account) throw notFound("Your account");
    return c.json(toUserView({ ...account, role: p.role }), 200);
  },
);

meRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/password",
    tags: ["account"],
    summary: "Change your password; your other sessions end, and your API keys too with `revoke_api_keys`",
    request: {
      body: jsonBody(
        z
          .object({
            current_password: z.string().min(1).max(256),
            new_password: Password,
            revoke_api_keys: z.boolean().default(false).openapi({
              description:
                "Also revoke every API key of yours (default false: keys usually drive automation). See GET /api/v1/api-keys for what exists and when each was last used.",
            }),
          })
          .openapi("ChangePasswordRequest"),
      ),
    },
    responses: { 204: { description: "Changed." } },
    errors: ["validation"],
  }),
  async (c) => {
    const body = c.req.valid("json");
    await accounts.changePassword(c.var.db, c.var.credentials, loginGuardsOf(c), authedActor(c), {
      current: body.current_password,
      next: body.new_password,
      revokeApiKeys: body.revoke_api_keys,
    });
    return c.body(null, 204);
  },
);
