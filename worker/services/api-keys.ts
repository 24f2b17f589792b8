import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { apiKeys, auditEvents, type Role } from "../db/schema.ts";
import { forbidden, invalid, notFound } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { cursorCondition, decodeCursor, toPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { API_KEY_PREFIX } from "./accounts.ts";
import { apiKeyRateKey, type CredentialCache } from "./credential-cache.ts";
import { roleAtLeast, type Actor, type Principal } from "./principal.ts";

type Caller = Actor & { principal: Principal };
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Creates an API key for the caller. The key is returned this once; only its SHA-256 is stored
 * (a random 160-bit key needs no slow hash). It can never carry more rights than its creator: its
 * role is capped now, and again at every use by the creator's role at that time.
 */
export async function createApiKey(
  db: Database,
  actor: Caller,
  input: { name: string; role?: Role; expiresAt?: string | null },
): Promise<{ row: ApiKeyRow; key: string }> {
  const p = actor.principal;
  // A key minting keys would outlive its own expiry or revocation: keys come from sessions only.
  if (p.kind === "api_key") throw forbidden("API keys cannot create API keys: log in and create it with your session.");
  const role = input.role ?? p.role;
  if (!roleAtLeast(p.role, role)) throw forbidden(`Your role (${p.role}) cannot create a key with the ${role} role.`);
  if (input.expiresAt && input.expiresAt <= nowIso()) {
    throw invalid([{ pointer: "/body/expires_at", detail: "must be in the future" }]);
  }
  const key = `${API_KEY_PREFIX}${randomString(32)}`;
  const row: ApiKeyRow = {
    id: newId("key"),
    organizationId: p.organizationId,
    userId: p.userId,
    name: input.name,
    prefix: key.slice(0, API_KEY_PREFIX.length + 6),
    keyHash: await sha256Hex(key),
    role,
    createdAt: nowIso(),
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
  };
  await db.batch([
    db.insert(apiKeys).values(row),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "api_key.create",
        targetType: "api_key",
        targetId: row.id,
        metadata: { name: row.name, role },
      }),
    ),
  ]);
  return { row, key };
}

/** Admins see every key of the organization; others see their own. */
export async function listApiKeys(db: Database, p: Principal, page: PageQuery) {
  const scope = roleAtLeast(p.role, "admin")
    ? eq(apiKeys.organizationId, p.organizationId)
    : and(eq(apiKeys.organizationId, p.organizationId), eq(apiKeys.userId, p.userId));
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(scope, cursorCondition(apiKeys.createdAt, apiKeys.id, decodeCursor(page.cursor))))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

/**
 * Revokes a key. Managing keys takes what creating them takes: a session (a key cannot manage
 * other keys, only revoke itself) and a role at least the key's. Owners and admins may revoke
 * their organization's keys within that rule; others only their own. A key the caller may not
 * see is missing; one they see but may not touch is forbidden.
 */
export async function revokeApiKey(db: Database, credentials: CredentialCache, actor: Caller, id: string): Promise<void> {
  const p = actor.principal;
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.organizationId, p.organizationId)))
    .limit(1);
  const visible = row && (row.userId === p.userId || roleAtLeast(p.role, "admin"));
  if (!row || !visible) throw notFound(`API key ${id}`);
  if (p.kind === "api_key" && p.apiKeyId !== row.id) {
    throw forbidden("API keys cannot manage other API keys (a key may revoke only itself): use a session.");
  }
  if (!roleAtLeast(p.role, row.role)) {
    throw forbidden(`Your role (${p.role}) cannot revoke a key with the ${row.role} role; it needs ${row.role} or higher.`);
  }
  if (row.revokedAt) return;
  await db.batch([
    db.update(apiKeys).set({ revokedAt: nowIso() }).where(eq(apiKeys.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "api_key.revoke",
        targetType: "api_key",
        targetId: id,
        metadata: { name: row.name },
      }),
    ),
  ]);
  await credentials.forget([apiKeyRateKey(row.keyHash)]);
}
