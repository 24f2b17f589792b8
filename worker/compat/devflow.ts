// Compatibility with DevFlow Pro's API (seed 003), a Laravel application: Sanctum-style personal
// tokens (here: API keys of the user), Laravel's error bodies and date format.
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { actorOf, loginGuardsOf } from "../middleware/request-context.ts";
import * as accounts from "../services/accounts.ts";
import { createApiKey } from "../services/api-keys.ts";
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

devflowCompat.post("/api/login", async (c) => {
  const body = await readJson(c, z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) }));
  const actor = actorOf(c);
  const account = await accounts.checkCredentials(c.var.db, loginGuardsOf(c), actor, body.email, body.password);
  // Like Sanctum's createToken: each login mints a personal token, listed and revocable with the
  // user's other API keys.
  const principal = {
    kind: "session" as const,
    userId: account.user.id,
    username: account.user.username,
    organizationId: account.organizationId,
    role: account.role,
  };
  const { key } = await createApiKey(c.var.db, { ...actor, principal }, { name: `DevFlow login ${new Date().toISOString()}` });
  return c.json({ token: key, user: userView(account) });
});

devflowCompat.get("/api/user", requireAuth(), async (c) => {
  const account = await accounts.loadAccount(c.var.db, c.var.principal.userId);
  if (!account) throw notFound("User");
  return c.json(userView(account));
});
