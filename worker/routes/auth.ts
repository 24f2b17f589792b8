import { createRoute, z } from "@hono/zod-openapi";
import { checkLoginOrigin, clearSessionCookies, setSessionCookies } from "../middleware/browser-session.ts";
import { actorOf, loginGuardsOf } from "../middleware/request-context.ts";
import { unauthorized } from "../errors.ts";
import * as accounts from "../services/accounts.ts";
import * as browserSessions from "../services/browser-sessions.ts";
import { authSettings } from "../settings.ts";
import { authErrors, conflictError, createRouter, jsonBody, jsonResponse, problem, validationErrors } from "./openapi.ts";
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

const BrowserSessionView = z
  .object({
    user: UserView,
    organization: z.object({ id: z.string(), name: z.string() }).openapi("OrganizationSummary"),
    csrf_token: z.string().openapi({
      description: "Also in the pier_csrf cookie: send it as X-CSRF-Token with every request that changes something.",
    }),
  })
  .openapi("BrowserSession");

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/browser/login",
    tags: ["auth"],
    summary: "Sign a browser in: sets the HttpOnly pier_session cookie and the pier_csrf cookie (the dashboard's login)",
    description:
      "The same credentials and sign-in throttling as /auth/login. No token is returned: the session lives in the HttpOnly `pier_session` cookie (Secure except on localhost, SameSite=Lax), which the API accepts only from the dashboard's own origin, and requests that change something must echo the `pier_csrf` cookie in `X-CSRF-Token`. The server extends the session as it is used.",
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: jsonResponse(BrowserSessionView, "Signed in; both cookies are set."),
      ...validationErrors,
      401: authErrors[401],
      403: problem("The request came from another origin."),
      429: authErrors[429],
    },
  }),
  async (c) => {
    checkLoginOrigin(c);
    const { login, password } = c.req.valid("json");
    const session = await browserSessions.signIn(c.var.db, loginGuardsOf(c), authSettings(c.env), actorOf(c), login, password);
    setSessionCookies(c, session);
    return c.json({ user: toUserView(session.account), organization: session.organization, csrf_token: session.csrfToken }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/browser/logout",
    tags: ["auth"],
    summary: "Sign a browser out: ends the cookie's session and clears both cookies",
    description:
      "Needs `X-CSRF-Token` like every cookie request that changes something. A cookie whose session already ended is just cleared.",
    security: [{ cookie: [] }],
    responses: {
      204: { description: "Signed out; both cookies are cleared." },
      403: problem("Wrong origin, or missing or wrong CSRF token."),
    },
  }),
  async (c) => {
    const p = c.var.principal;
    if (p?.sessionId) {
      await accounts.logout(c.var.db, c.var.credentials, actorOf(c), {
        sessionId: p.sessionId,
        userId: p.userId,
        organizationId: p.organizationId,
      });
    }
    clearSessionCookies(c);
    return c.body(null, 204);
  },
);
