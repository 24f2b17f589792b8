import { createRoute } from "@hono/zod-openapi";
import { actorOf, loginGuardsOf } from "../middleware/request-context.ts";
import { unauthorized } from "../errors.ts";
import * as accounts from "../services/accounts.ts";
import { authSettings } from "../settings.ts";
import { authErrors, conflictError, createRouter, jsonBody, jsonResponse, validationErrors } from "./openapi.ts";
import { LoginBody, RefreshBody, RegisterBody, SessionView, toSessionView, toUserView, UserView } from "./schemas.ts";

export const authRoutes = createRouter();

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/register",
    tags: ["auth"],
    summary: "Register: the first user owns a new organization; later ones only when registration is open",
    request: { body: jsonBody(RegisterBody) },
    responses: {
      201: jsonResponse(UserView, "The new user."),
      ...validationErrors,
      ...conflictError,
      403: authErrors[403],
      429: authErrors[429],
    },
  }),
  async (c) => {
    const account = await accounts.register(c.var.db, authSettings(c.env), actorOf(c), c.req.valid("json"));
    return c.json(toUserView(account), 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login",
    tags: ["auth"],
    summary: "Log in with a username or email and a password",
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonResponse(SessionView, "A new session."), ...validationErrors, 401: authErrors[401], 429: authErrors[429] },
  }),
  async (c) => {
    const { login, password } = c.req.valid("json");
    const session = await accounts.login(c.var.db, loginGuardsOf(c), authSettings(c.env), actorOf(c), login, password);
    return c.json(toSessionView(session), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/refresh",
    tags: ["auth"],
    summary: "Rotate the refresh token; reusing an old one revokes the session",
    request: { body: jsonBody(RefreshBody) },
    responses: {
      200: jsonResponse(SessionView, "New access and refresh tokens."),
      ...validationErrors,
      401: authErrors[401],
      429: authErrors[429],
    },
  }),
  async (c) => {
    const session = await accounts.refresh(c.var.db, c.var.credentials, authSettings(c.env), actorOf(c), c.req.valid("json").refresh_token);
    return c.json(toSessionView(session), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/logout",
    tags: ["auth"],
    summary: "End the session of the access token (or of the refresh token in the body)",
    request: { body: { required: false, content: { "application/json": { schema: RefreshBody.partial() } } } },
    responses: { 204: { description: "Logged out." }, ...validationErrors, 401: authErrors[401] },
  }),
  async (c) => {
    const p = c.var.principal;
    const refreshToken = c.req.valid("json").refresh_token;
    if (refreshToken) {
      await accounts.logoutWithRefreshToken(c.var.db, c.var.credentials, authSettings(c.env), actorOf(c), refreshToken);
    } else if (p?.sessionId) {
      await accounts.logout(c.var.db, c.var.credentials, actorOf(c), {
        sessionId: p.sessionId,
        userId: p.userId,
        organizationId: p.organizationId,
      });
    } else {
      throw unauthorized(
        "Send the session's access token as `Authorization: Bearer <token>`, or `{refresh_token}` in the body. (API keys are revoked with DELETE /api/v1/api-keys/:id.)",
      );
    }
    return c.body(null, 204);
  },
);
