import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { PageQuery } from "../lib/pagination.ts";
import * as accounts from "../services/accounts.ts";
import { requireRole } from "../services/principal.ts";
import * as usersService from "../services/users.ts";
import { authedRoute, createRouter, IdParam, jsonBody, jsonResponse, PageMeta, validationErrors } from "./openapi.ts";
import { NewUserBody, Role, toUserView, UserView } from "./schemas.ts";

export const userRoutes = createRouter();
userRoutes.use("*", requireAuth());

const UserId = IdParam("id", "usr_0123456789abcdefghij");

userRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["users"],
    summary: "Users of your organization (owner/admin)",
    request: { query: PageQuery },
    responses: {
      200: jsonResponse(PageMeta.extend({ users: z.array(UserView) }), "A page of users, newest first."),
      400: validationErrors[400],
      422: validationErrors[422],
    },
  }),
  async (c) => {
    const p = c.var.principal;
    requireRole(p, "admin", "list users");
    const page = await usersService.listUsers(c.var.db, p.organizationId, c.req.valid("query"));
    return c.json(
      {
        users: page.items.map((r) => toUserView({ user: r.user, role: r.role, organizationId: p.organizationId })),
        next_cursor: page.nextCursor,
      },
      200,
    );
  },
);

userRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/",
    tags: ["users"],
    summary: "Add a user to your organization (owner/admin)",
    request: { body: jsonBody(NewUserBody) },
    responses: { 201: jsonResponse(UserView, "The new user.") },
    errors: ["validation", "conflict"],
  }),
  async (c) => {
    const actor = authedActor(c);
    requireRole(actor.principal, "admin", "add users");
    const account = await accounts.addUser(c.var.db, actor, c.req.valid("json"));
    return c.json(toUserView(account), 201);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}",
    tags: ["users"],
    summary: "One user of your organization (owner/admin, or yourself)",
    request: { params: UserId },
    responses: { 200: jsonResponse(UserView, "The user.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const p = c.var.principal;
    const { id } = c.req.valid("param");
    if (id !== p.userId) requireRole(p, "admin", "view other users");
    const member = await usersService.getMember(c.var.db, p.organizationId, id);
    return c.json(toUserView({ user: member.user, role: member.role, organizationId: p.organizationId }), 200);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "patch",
    path: "/{id}",
    tags: ["users"],
    summary: "Change a user's role (owner/admin)",
    request: { params: UserId, body: jsonBody(z.object({ role: Role }).openapi("UpdateUserRequest")) },
    responses: { 200: jsonResponse(UserView, "The updated user.") },
    errors: ["validation", "notFound", "conflict"],
  }),
  async (c) => {
    const actor = authedActor(c);
    const member = await usersService.changeRole(c.var.db, c.var.credentials, actor, c.req.valid("param").id, c.req.valid("json").role);
    return c.json(toUserView({ user: member.user, role: member.role, organizationId: actor.principal.organizationId }), 200);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/{id}",
    tags: ["users"],
    summary: "Remove a user; their sessions and API keys stop working (owner/admin)",
    request: { params: UserId },
    responses: { 204: { description: "Removed." } },
    errors: ["notFound", "conflict"],
  }),
  async (c) => {
    await usersService.removeUser(c.var.db, c.var.credentials, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);
