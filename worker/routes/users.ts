import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import { PageQuery } from "../lib/pagination.ts";
import * as accounts from "../services/accounts.ts";
import * as permissions from "../services/permissions.ts";
import { PERMISSIONS } from "../services/permissions.ts";
import { requireRole, type Principal } from "../services/principal.ts";
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

// ---- permissions and project scope (seed 004's IAM on Pier's members) --------------------------

export const PermissionName = z.enum(PERMISSIONS).openapi("Permission");

export const MemberAccess = z
  .object({
    user_id: z.string(),
    username: z.string(),
    email: z.string(),
    role: Role,
    permissions: z.array(PermissionName).openapi({ description: "What the member may do: role_defaults + granted − revoked." }),
    role_defaults: z.array(PermissionName),
    granted: z.array(PermissionName),
    revoked: z.array(PermissionName),
    project_ids: z
      .array(z.string())
      .nullable()
      .openapi({ description: "The projects the member is limited to; null: every project of the organization." }),
  })
  .openapi("MemberAccess");

/** Members see their own access; an admin (or an unscoped member granted admin_access) sees anyone's. */
function canReadAccessOf(p: Principal, userId: string): void {
  if (userId !== p.userId) permissions.assertReadsMembersAccess(p, "view other users' permissions");
}

userRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/permissions",
    tags: ["users"],
    summary: "A member's permissions and project scope (owner/admin, admin_access, or yourself)",
    request: { params: UserId },
    responses: { 200: jsonResponse(MemberAccess, "The member's access.") },
    errors: ["notFound"],
  }),
  async (c) => {
    const p = c.var.principal;
    const { id } = c.req.valid("param");
    canReadAccessOf(p, id);
    return c.json(await permissions.memberAccess(c.var.db, p.organizationId, id), 200);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "put",
    path: "/{id}/permissions",
    tags: ["users"],
    summary: "Set a member's permissions exactly (owner/admin); stored as grants and revocations of their role's defaults",
    request: {
      params: UserId,
      body: jsonBody(z.object({ permissions: z.array(PermissionName).max(PERMISSIONS.length * 2) }).openapi("SetPermissionsRequest")),
    },
    responses: { 200: jsonResponse(MemberAccess, "The member's access now.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const view = await permissions.setPermissions(
      c.var.db,
      c.var.credentials,
      authedActor(c),
      c.req.valid("param").id,
      c.req.valid("json").permissions,
    );
    return c.json(view, 200);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/{id}/projects",
    tags: ["users"],
    summary: "The projects a member is limited to; null is every project (owner/admin, admin_access, or yourself)",
    request: { params: UserId },
    responses: {
      200: jsonResponse(MemberAccess.pick({ user_id: true, project_ids: true }).openapi("MemberProjects"), "The member's projects."),
    },
    errors: ["notFound"],
  }),
  async (c) => {
    const p = c.var.principal;
    const { id } = c.req.valid("param");
    canReadAccessOf(p, id);
    const view = await permissions.memberAccess(c.var.db, p.organizationId, id);
    return c.json({ user_id: view.user_id, project_ids: view.project_ids }, 200);
  },
);

userRoutes.openapi(
  authedRoute({
    method: "put",
    path: "/{id}/projects",
    tags: ["users"],
    summary:
      "Limit a member (or viewer) to chosen projects, or give back every project with null (owner/admin). Other projects then look missing to them everywhere.",
    request: {
      params: UserId,
      body: jsonBody(z.object({ project_ids: z.array(z.string().min(1).max(64)).max(500).nullable() }).openapi("SetMemberProjectsRequest")),
    },
    responses: { 200: jsonResponse(MemberAccess, "The member's access now.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const view = await permissions.setProjectScope(
      c.var.db,
      c.var.credentials,
      authedActor(c),
      c.req.valid("param").id,
      c.req.valid("json").project_ids,
    );
    return c.json(view, 200);
  },
);

/** The organization's IAM at a glance: the permission catalog and every member's access. */
export const iamRoutes = createRouter();
iamRoutes.use("*", requireAuth());

export const IamOverview = z
  .object({
    permissions: z.array(z.object({ name: PermissionName, roles: z.array(Role) })),
    members: z.array(MemberAccess),
  })
  .openapi("IamOverview");

iamRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/",
    tags: ["users"],
    summary:
      "Every member's permissions and projects, and which roles hold each permission by default (owner/admin, or admin_access without a project scope)",
    responses: { 200: jsonResponse(IamOverview, "The organization's IAM.") },
  }),
  async (c) => {
    return c.json(await permissions.iamOverview(c.var.db, c.var.principal), 200);
  },
);
