// Compatibility with the server manager's v2 API (seed 004): `{success, data, message}` and
// `{success: false, error, details}` envelopes. Its session endpoints map onto Pier sessions.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { requireAuth } from "../middleware/auth.ts";
import { actorOf } from "../middleware/request-context.ts";
import * as accounts from "../services/accounts.ts";
import { notFound } from "../errors.ts";
import { authSettings } from "../settings.ts";
import { readJson } from "./validate.ts";

export const serverManagerCompat = new Hono<AppEnv>();

/** Seed 004's success envelope, for every adapter of the server manager. */
export const ok = <T>(data: T, message: string) => ({ success: true, data, message });

async function currentUser(c: Context<AppEnv>) {
  const p = c.var.principal;
  const account = await accounts.loadAccount(c.var.db, p.userId);
  if (!account) throw notFound("User");
  return accounts.toUserView({ ...account, role: p.role });
}

for (const prefix of ["/api", ""]) {
  serverManagerCompat.get(`${prefix}/session/check`, requireAuth(), async (c) => {
    const p = c.var.principal;
    return c.json(
      ok({ authenticated: true, session_id: p.sessionId ?? null, auth: p.kind, user: await currentUser(c) }, "Session is valid."),
    );
  });

  serverManagerCompat.post(`${prefix}/session/refresh`, async (c) => {
    const p = c.var.principal;
    // The dashboard's cookie session slides by itself as it is used (middleware/auth.ts).
    if (p?.sessionId && !(await c.req.text()).trim()) {
      return c.json(ok({ authenticated: true, session_id: p.sessionId, auth: p.kind, user: await currentUser(c) }, "Session is valid."));
    }
    const body = await readJson(c, z.object({ refresh_token: z.string().min(1).max(4096) }));
    const session = await accounts.refresh(c.var.db, c.var.credentials, authSettings(c.env), actorOf(c), body.refresh_token);
    return c.json(ok(accounts.toSessionView(session), "Session refreshed."));
  });
}

serverManagerCompat.get("/api/current-user", requireAuth(), async (c) => c.json(ok(await currentUser(c), "Current user.")));
serverManagerCompat.get("/api/profile", requireAuth(), async (c) => c.json(ok(await currentUser(c), "Profile.")));
