// Seeds 002 and 004: their users, IAM and admin paths and their sign-in paths, over Pier's
// accounts, members and permissions (services/users.ts, permissions.ts). 004's envelope is
// `{success, data, message}` (errors by envelopes.ts); 002's sign-in answers `{success, message, …}`.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { PERMISSIONS, ROLES, type Role } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { invalid, unauthorized } from "../errors.ts";
import { requireAuth } from "../middleware/auth.ts";
import { actorOf, authedActor, loginGuardsOf } from "../middleware/request-context.ts";
import * as accounts from "../services/accounts.ts";
import { Email, Password, Username } from "../services/fields.ts";
import * as permissions from "../services/permissions.ts";
import { effectivePermissions } from "../services/permissions.ts";
import { requireRole } from "../services/principal.ts";
import * as usersService from "../services/users.ts";
import { authSettings } from "../settings.ts";
import { readJson } from "./validate.ts";

export const serverManagerIamCompat = new Hono<AppEnv>();

const ok = <T>(data: T, message: string) => ({ success: true, data, message });

/** 004 names two roles, `admin` and `user`; Pier's four are accepted as they are. */
const RoleName = z
  .string()
  .trim()
  .toLowerCase()
  .transform((r) => (r === "user" ? "member" : r))
  .pipe(z.enum(ROLES));

const PermissionList = z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length * 2);

/** Every path listing members goes through iamOverview, which checks admin_access and project scope. */
async function iamData(c: Context<AppEnv>) {
  const overview = await permissions.iamOverview(c.var.db, c.var.principal);
  return { users: overview.members, permissions: overview.permissions, roles: ROLES };
}

// ---- users (admin) -------------------------------------------------------------------------

serverManagerIamCompat.get("/api/users", requireAuth(), async (c) => {
  const { users } = await iamData(c);
  return c.json(ok(users, `${users.length} user(s).`));
});

serverManagerIamCompat.post("/api/users", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z.object({
      username: Username,
      password: Password,
      // 004's form has no email; Pier's accounts need one, so a reserved `.invalid` address stands in.
      email: Email.optional(),
      name: z.string().trim().min(1).max(128).optional(),
      role: RoleName.default("member"),
      permissions: PermissionList.optional(),
    }),
  );
  const actor = authedActor(c);
  const account = await accounts.addUser(c.var.db, actor, {
    username: body.username,
    password: body.password,
    email: body.email ?? `${body.username.toLowerCase()}@users.pier.invalid`,
    name: body.name,
    role: body.role,
  });
  if (body.permissions) await permissions.setPermissions(c.var.db, c.var.credentials, actor, account.user.id, body.permissions);
  const view = await permissions.memberAccess(c.var.db, actor.principal.organizationId, account.user.id);
  return c.json(ok(view, `User ${account.user.username} was created.`), 201);
});

serverManagerIamCompat.delete("/api/users/:username", requireAuth(), async (c) => {
  const p = c.var.principal;
  // Refused before the name is looked up, so a viewer cannot probe which users exist.
  requireRole(p, "admin", "remove users");
  const target = await usersService.memberByUsername(c.var.db, p.organizationId, c.req.param("username"));
  await usersService.removeUser(c.var.db, c.var.credentials, authedActor(c), target.user.id);
  return c.json(ok({ username: target.user.username }, `User ${target.user.username} was deleted.`));
});

serverManagerIamCompat.post("/api/users/:username/password", requireAuth(), async (c) => {
  requireRole(c.var.principal, "admin", "set other users' passwords");
  const body = await readJson(c, z.object({ password: Password.optional(), new_password: Password.optional() }));
  const password = body.new_password ?? body.password;
  if (!password) throw invalid([{ pointer: "/body/password", detail: "Send the new password as `password` (or `new_password`)." }]);
  const p = c.var.principal;
  const target = await usersService.memberByUsername(c.var.db, p.organizationId, c.req.param("username"));
  await usersService.setPassword(c.var.db, c.var.credentials, authedActor(c), target.user.id, password);
  return c.json(ok({ username: target.user.username }, `The password of ${target.user.username} was changed; their sessions ended.`));
});

// ---- IAM -----------------------------------------------------------------------------------

serverManagerIamCompat.get("/api/iam/data", requireAuth(), async (c) => c.json(ok(await iamData(c), "IAM data.")));

for (const prefix of ["/api/iam", "/api/admin/iam"]) {
  serverManagerIamCompat.post(`${prefix}/:username/permissions`, requireAuth(), async (c) => {
    requireRole(c.var.principal, "admin", "change permissions");
    const body = await readJson(
      c,
      z.object({
        permissions: PermissionList,
        // Pier's addition: limit the member to these projects (null: every project).
        project_ids: z.array(z.string().min(1).max(64)).max(500).nullable().optional(),
      }),
    );
    const actor = authedActor(c);
    const target = await usersService.memberByUsername(c.var.db, actor.principal.organizationId, c.req.param("username"));
    let view = await permissions.setPermissions(c.var.db, c.var.credentials, actor, target.user.id, body.permissions);
    if (body.project_ids !== undefined) {
      view = await permissions.setProjectScope(c.var.db, c.var.credentials, actor, target.user.id, body.project_ids);
    }
    return c.json(ok(view, `The permissions of ${target.user.username} were updated.`));
  });

  serverManagerIamCompat.post(`${prefix}/:username/role`, requireAuth(), async (c) => {
    requireRole(c.var.principal, "admin", "change roles");
    const body = await readJson(c, z.object({ role: RoleName }));
    const actor = authedActor(c);
    const target = await usersService.memberByUsername(c.var.db, actor.principal.organizationId, c.req.param("username"));
    await usersService.changeRole(c.var.db, c.var.credentials, actor, target.user.id, body.role as Role);
    const view = await permissions.memberAccess(c.var.db, actor.principal.organizationId, target.user.id);
    return c.json(ok(view, `${target.user.username} is now ${body.role}.`));
  });
}

// ---- the admin "pages": what each page would show, as JSON (the dashboard's IAM screen draws it) --

// 004 writes the admin page as `/api/admin/`; without the slash too.
for (const path of ["/api/admin", "/api/admin/"])
  serverManagerIamCompat.get(path, requireAuth(), async (c) => {
    const data = await iamData(c);
    const byRole = Object.fromEntries(ROLES.map((r) => [r, data.users.filter((u) => u.role === r).length]));
    return c.json(
      ok(
        {
          users: data.users.length,
          by_role: byRole,
          project_scoped: data.users.filter((u) => u.project_ids !== null).length,
          dashboard: "/settings/iam",
        },
        "Administration.",
      ),
    );
  });
serverManagerIamCompat.get("/api/admin/users", requireAuth(), async (c) => {
  const { users } = await iamData(c);
  return c.json(ok(users, `${users.length} user(s).`));
});
serverManagerIamCompat.get("/api/admin/iam", requireAuth(), async (c) => c.json(ok(await iamData(c), "IAM data.")));

serverManagerIamCompat.get("/api/debug/user-info", requireAuth(), async (c) => {
  const p = c.var.principal;
  const account = await accounts.loadAccount(c.var.db, p.userId);
  if (!account) throw unauthorized("This account no longer exists.");
  return c.json(
    ok(
      {
        user: accounts.toUserView({ ...account, role: p.role }),
        auth: p.kind,
        session_id: p.sessionId ?? null,
        api_key_id: p.apiKeyId ?? null,
        permissions: effectivePermissions(p),
        project_ids: p.projectScope ?? null,
      },
      "Who you are, as this request was authenticated.",
    ),
  );
});

// ---- sign-in: 002's /api/auth, 004's password change ----------------------------------------

const LoginBody = z.object({ username: z.string().trim().min(1).max(254), password: z.string().min(1).max(256) });

/** 002 (Flask-Login): through the same throttle as every sign-in; the tokens go with the answer. */
serverManagerIamCompat.post("/api/auth/login", async (c) => {
  const body = await readJson(c, LoginBody);
  const session = await accounts.login(c.var.db, loginGuardsOf(c), authSettings(c.env), actorOf(c), body.username, body.password);
  return c.json({ success: true, message: "Logged in.", ...accounts.toSessionView(session) });
});

/**
 * 004's login page (`GET /login`, Flask renders a form): a browser goes to the dashboard's sign-in
 * page; a script is told how to sign in (POST /login is seed 001's and 004's sign-in, one handler).
 */
serverManagerIamCompat.get("/login", (c) => {
  if (c.req.header("accept")?.includes("text/html")) return c.redirect("/signin", 302);
  return c.json(
    ok(
      { page: "/signin", sign_in: "POST /login", fields: ["username", "password"], authenticated: !!c.var.principal },
      "Sign in with POST /login {username, password}; the answer's access_token goes in Authorization: Bearer.",
    ),
  );
});

/** 004's `GET /logout`: ends the session of the bearer token (the dashboard signs out with its own button). */
serverManagerIamCompat.get("/logout", async (c) => {
  const p = c.var.principal;
  if (!p?.sessionId) throw unauthorized("Send the session's access token (Authorization: Bearer) to log out.");
  await accounts.logout(c.var.db, c.var.credentials, actorOf(c), {
    sessionId: p.sessionId,
    userId: p.userId,
    organizationId: p.organizationId,
  });
  return c.json(ok({ session_id: p.sessionId }, "Logged out."));
});

/** Ends the session of the bearer token, or of a `refresh_token` in the body. */
serverManagerIamCompat.post("/api/auth/logout", async (c) => {
  const p = c.var.principal;
  if (p?.sessionId) {
    await accounts.logout(c.var.db, c.var.credentials, actorOf(c), {
      sessionId: p.sessionId,
      userId: p.userId,
      organizationId: p.organizationId,
    });
  } else {
    const body = await readJson(c, z.object({ refresh_token: z.string().min(1).max(4096) }), { optional: true });
    if (!body.refresh_token) throw unauthorized("Send the session's access token (Authorization: Bearer) or its refresh_token to log out.");
    await accounts.logoutWithRefreshToken(c.var.db, c.var.credentials, authSettings(c.env), actorOf(c), body.refresh_token);
  }
  return c.json({ success: true, message: "Logged out." });
});

serverManagerIamCompat.post("/change-password", requireAuth(), async (c) => {
  const body = await readJson(
    c,
    z.object({ current_password: z.string().min(1).max(256), new_password: Password, revoke_api_keys: z.boolean().default(false) }),
  );
  const result = await accounts.changePassword(c.var.db, c.var.credentials, loginGuardsOf(c), authedActor(c), {
    current: body.current_password,
    next: body.new_password,
    revokeApiKeys: body.revoke_api_keys,
  });
  return c.json(
    ok(
      { revoked_sessions: result.revokedSessions, revoked_api_keys: result.revokedApiKeys },
      "Your password was changed; your other sessions ended.",
    ),
  );
});
