import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { apiKeys, auditEvents, type Role } from "../db/schema.ts";
import { forbidden, invalid, notFound } from "../errors.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { isoAfterSeconds, nowIso } from "../lib/time.ts";
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
  const { row, key } = await newKeyRow(p, input.name, role, input.expiresAt ?? null);
  await db.batch([db.insert(apiKeys).values(row), db.insert(auditEvents).values(createdAudit(actor, row))]);
  return { row, key };
}

async function newKeyRow(p: Principal, name: string, role: Role, expiresAt: string | null): Promise<{ row: ApiKeyRow; key: string }> {
  const key = `${API_KEY_PREFIX}${randomString(32)}`;
  const row: ApiKeyRow = {
    id: newId("key"),
    organizationId: p.organizationId,
    userId: p.userId,
    name,
    prefix: key.slice(0, API_KEY_PREFIX.length + 6),
    keyHash: await sha256Hex(key),
    role,
    createdAt: nowIso(),
    expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  return { row, key };
}

const createdAudit = (actor: Caller, row: ApiKeyRow) =>
  auditRow(actor, {
    organizationId: row.organizationId,
    action: "api_key.create",
    targetType: "api_key",
    targetId: row.id,
    metadata: { name: row.name, role: row.role },
  });

/**
 * A personal token for a sign-in from a device (DevFlow's `POST /api/login`, Sanctum-style): an
 * API key named for the device, with the user's role and an expiry. Signing in again from the same
 * device rotates it — the device's previous token is revoked in the same write — so repeated
 * sign-ins do not pile up never-expiring keys. The new key is shown this once, like any key.
 */
export async function issuePersonalToken(
  db: Database,
  credentials: CredentialCache,
  actor: Caller,
  input: { name: string; ttlSeconds: number },
): Promise<{ row: ApiKeyRow; key: string; replaced: number }> {
  const p = actor.principal;
  const sameDevice = and(
    eq(apiKeys.organizationId, p.organizationId),
    eq(apiKeys.userId, p.userId),
    eq(apiKeys.name, input.name),
    isNull(apiKeys.revokedAt),
  );
  const previous = await db.select({ id: apiKeys.id, keyHash: apiKeys.keyHash }).from(apiKeys).where(sameDevice);
  const { row, key } = await newKeyRow(p, input.name, p.role, isoAfterSeconds(input.ttlSeconds));
  await db.batch([
    db.update(apiKeys).set({ revokedAt: row.createdAt }).where(sameDevice),
    db.insert(apiKeys).values(row),
    db.insert(auditEvents).values(createdAudit(actor, row)),
  ]);
  await credentials.forget(previous.map((k) => apiKeyRateKey(k.keyHash)));
  return { row, key, replaced: previous.length };
}

/**
 * Admins see every key of the organization; others see their own. `userId` narrows the list to one
 * person's keys (anyone else's is simply an empty list below admin).
 */
export async function listApiKeys(db: Database, p: Principal, page: PageQuery & { userId?: string }) {
  const mine = eq(apiKeys.userId, p.userId);
  const scope = and(
    eq(apiKeys.organizationId, p.organizationId),
    roleAtLeast(p.role, "admin") ? undefined : mine,
    page.userId ? eq(apiKeys.userId, page.userId) : undefined,
  );
  return newestFirstPage(db.select().from(apiKeys).$dynamic(), apiKeys, page, scope);
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
