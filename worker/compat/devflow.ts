// Compatibility with DevFlow Pro's API (seed 003), a Laravel application: Sanctum-style personal
// tokens (here: API keys of the user), Laravel's error bodies and date format.
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { actorOf, loginGuardsOf } from "../middleware/request-context.ts";
import * as accounts from "../services/accounts.ts";
import { issuePersonalToken } from "../services/api-keys.ts";
import { devflowTokenTtlSeconds } from "../settings.ts";
import { laravelDateTime } from "../lib/time.ts";
import { notFound } from "../errors.ts";
import { readJson } from "./validate.ts";

export const devflowCompat = new Hono<AppEnv>();

const userView = (a: accounts.AccountView) => ({
  id: a.user.id,
  name: a.user.name ?? a.user.username,
  email: a.user.email,
  created_at: laravelDateTime(a.user.createdAt),
});

const LoginBody = z.object({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(256),
  // Sanctum's convention for personal tokens; DevFlow's own client sends none.
  device_name: z.string().trim().min(1).max(80).optional(),
});

devflowCompat.post("/api/login", async (c) => {
  const body = await readJson(c, LoginBody);
  const actor = actorOf(c);
  const account = await accounts.checkCredentials(c.var.db, loginGuardsOf(c), actor, body.email, body.password);
  // Like Sanctum's createToken: a personal token, listed and revocable with the user's other API
  // keys — one per device (a new sign-in from it rotates the token), and it expires.
  const principal = {
    kind: "session" as const,
    userId: account.user.id,
    username: account.user.username,
    organizationId: account.organizationId,
    role: account.role,
  };
  const { key } = await issuePersonalToken(
    c.var.db,
    c.var.credentials,
    { ...actor, principal },
    { name: `DevFlow token: ${body.device_name ?? "default device"}`, ttlSeconds: devflowTokenTtlSeconds(c.env) },
  );
  return c.json({ token: key, user: userView(account) });
});

devflowCompat.get("/api/user", requireAuth(), async (c) => {
  const account = await accounts.loadAccount(c.var.db, c.var.principal.userId);
  if (!account) throw notFound("User");
  return c.json(userView(account));
});
