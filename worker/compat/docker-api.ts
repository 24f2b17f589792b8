// Compatibility with the multi-host Docker management API (seed 001): `{success, data}` and
// `{success: false, message}` envelopes, except `/login` and `/token/renew_access`, which answer
// bare objects. Validation failures are 400 there, as the document says.
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { actorOf, authedActor } from "../middleware/request-context.ts";
import { logUnexpected, toApiError } from "../middleware/error-response.ts";
import * as accounts from "../services/accounts.ts";
import { roleAtLeast } from "../services/principal.ts";
import { authSettings } from "../settings.ts";
import { rfc3339Seconds, sqlDateTime } from "../lib/time.ts";
import { Email, Password, Username, DisplayName } from "../routes/schemas.ts";
import { readJson } from "./validate.ts";

export const dockerApiCompat = new Hono<AppEnv>();

dockerApiCompat.onError((err, c) => {
  const e = toApiError(err);
  if (e.status >= 500 && e === err) logUnexpected(c, err);
  for (const [name, value] of Object.entries(e.headers ?? {})) c.header(name, value);
  return c.json({ success: false, message: e.detail }, e.status === 422 ? 400 : e.status);
});

const NewUser = z.object({ username: Username, password: Password, full_name: DisplayName, email: Email });
const RefreshToken = z.object({ refresh_token: z.string().min(1).max(4096) });

dockerApiCompat.post("/user", async (c) => {
  const body = await readJson(c, NewUser);
  const input = { email: body.email, username: body.username, password: body.password, name: body.full_name };
  const p = c.var.principal;
  // An admin's credentials add the user to the admin's organization; without them this is
  // self-registration (the first user, or open registration).
  const account =
    p && roleAtLeast(p.role, "admin")
      ? await accounts.addUser(c.var.db, authedActor(c), { ...input, role: "member" })
      : await accounts.register(c.var.db, authSettings(c.env), actorOf(c), input);
  return c.json({
    success: true,
    data: { username: account.user.username, full_name: account.user.name, email: account.user.email, created_at: sqlDateTime(account.user.createdAt) },
  });
});

dockerApiCompat.post("/login", async (c) => {
  const body = await readJson(c, z.object({ username: z.string().min(1).max(254), password: z.string().min(1).max(256) }));
  const s = await accounts.login(c.var.db, authSettings(c.env), actorOf(c), body.username, body.password);
  return c.json({
    session_id: s.sessionId,
    access_token: s.accessToken,
    access_token_expires_at: s.accessTokenExpiresAt,
    refresh_token: s.refreshToken,
    refresh_token_expires_at: s.refreshTokenExpiresAt,
    user: {
      username: s.account.user.username,
      email: s.account.user.email,
      password_changed_at: rfc3339Seconds(s.account.user.passwordChangedAt),
      created_at: rfc3339Seconds(s.account.user.createdAt),
    },
  });
});

dockerApiCompat.post("/logout", async (c) => {
  const body = await readJson(c, RefreshToken);
  await accounts.logoutWithRefreshToken(c.var.db, authSettings(c.env), actorOf(c), body.refresh_token);
  return c.json({ success: true, data: "logged out successfully" });
});

dockerApiCompat.post("/token/renew_access", async (c) => {
  const body = await readJson(c, RefreshToken);
  const renewed = await accounts.renewAccess(c.var.db, authSettings(c.env), body.refresh_token);
  return c.json({ access_token: renewed.accessToken, access_token_expires_at: renewed.accessTokenExpiresAt });
});
