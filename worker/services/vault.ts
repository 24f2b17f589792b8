// The organization's secret store (seed 002's vault): key → value, each write a new AES-GCM sealed
// version (lib/crypto.ts, ENCRYPTION_KEY), values readable by admins only, every read and write
// audited (the key and version, never the value). Application environments reference a secret as
// `${vault:KEY}` (or `${vault:KEY#field}` for a field of an object value); the reference is stored
// as written and resolved only at deploy time, inside the Worker (resolveVaultReferences).
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { auditEvents, vaultSecrets, vaultSecretVersions } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { assertPermission } from "./permissions.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

type Caller = Actor & { principal: Principal };

export type SecretRow = typeof vaultSecrets.$inferSelect;
export type SecretVersionRow = typeof vaultSecretVersions.$inferSelect;
/** A secret's value: one string, or named strings (an SSH key pair, a database's credentials). */
export type SecretValue = string | Record<string, string>;

/** `DB_PASSWORD`, `secret/ssh`, `prod/db.main`: no leading, trailing or doubled slash, no `..`. */
export const VAULT_KEY = /^(?!.*\/\/)(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,198}[A-Za-z0-9_.-]$|^[A-Za-z0-9_]$/;
export const VAULT_KEY_RULE = "1–200 letters, digits, '_', '.', '-' and '/', not starting with '/', '.' or '-', no '//' or '..'";
const MAX_VALUE = 64 * 1024;
const MAX_FIELDS = 100;

export function checkKey(key: string): string {
  if (!VAULT_KEY.test(key))
    throw new ApiError(422, `Invalid secret key ${JSON.stringify(key.slice(0, 80))}: ${VAULT_KEY_RULE}.`, {
      errors: [{ pointer: "/path/key", detail: VAULT_KEY_RULE }],
    });
  return key;
}

function checkValue(value: SecretValue): void {
  const size = typeof value === "string" ? value.length : JSON.stringify(value).length;
  if (size > MAX_VALUE)
    throw new ApiError(422, `The secret is larger than ${MAX_VALUE / 1024} KiB.`, {
      errors: [{ pointer: "/body/value", detail: `at most ${MAX_VALUE} characters` }],
    });
  if (typeof value === "object") {
    const names = Object.keys(value);
    if (names.length === 0)
      throw new ApiError(422, "The secret has no fields: send at least one.", {
        errors: [{ pointer: "/body/value", detail: "at least one field" }],
      });
    if (names.length > MAX_FIELDS)
      throw new ApiError(422, `At most ${MAX_FIELDS} fields per secret.`, {
        errors: [{ pointer: "/body/value", detail: `at most ${MAX_FIELDS} fields` }],
      });
  }
}

export interface SecretMeta {
  row: SecretRow;
  fields: string[] | null;
  versions: Array<{ version: number; fields: string[] | null; createdAt: string; createdBy: string | null }>;
}

/** Keys and their newest version (no values): members may see what exists, to reference it. */
export async function listSecrets(db: Database, principal: Principal, options: { prefix?: string } = {}): Promise<SecretRow[]> {
  requireRole(principal, "member", "list vault secrets");
  const where = [eq(vaultSecrets.organizationId, principal.organizationId)];
  if (options.prefix) where.push(sql`substr(${vaultSecrets.key}, 1, ${options.prefix.length}) = ${options.prefix}`);
  return db
    .select()
    .from(vaultSecrets)
    .where(and(...where))
    .orderBy(asc(vaultSecrets.key));
}

async function findSecret(db: Database, organizationId: string, key: string): Promise<SecretRow> {
  const [row] = await db
    .select()
    .from(vaultSecrets)
    .where(and(eq(vaultSecrets.organizationId, organizationId), eq(vaultSecrets.key, checkKey(key))))
    .limit(1);
  if (!row) throw notFound(`Secret ${key}`);
  return row;
}

/** A secret's metadata and its versions, newest first (no values). */
export async function getSecretMeta(db: Database, principal: Principal, key: string): Promise<SecretMeta> {
  requireRole(principal, "member", "see vault secrets");
  const row = await findSecret(db, principal.organizationId, key);
  const versions = await db
    .select({
      version: vaultSecretVersions.version,
      fields: vaultSecretVersions.fields,
      createdAt: vaultSecretVersions.createdAt,
      createdBy: vaultSecretVersions.createdBy,
    })
    .from(vaultSecretVersions)
    .where(eq(vaultSecretVersions.secretId, row.id))
    .orderBy(desc(vaultSecretVersions.version));
  return { row, fields: versions.find((v) => v.version === row.currentVersion)?.fields ?? null, versions };
}

/**
 * Stores `value` as the key's next version (version 1 for a new key). The secret row's counter is
 * bumped by an upsert and the version row is copied from it in the same batch, so two concurrent
 * writes get two versions, never one number twice. Admins only; audited without the value.
 */
export async function putSecret(db: Database, env: Bindings, actor: Caller, key: string, value: SecretValue): Promise<SecretMeta> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  checkKey(key);
  checkValue(value);
  const sealed = await encryptSecret(JSON.stringify(value), env.ENCRYPTION_KEY);
  const fields = typeof value === "string" ? null : Object.keys(value);
  const now = nowIso();
  const [upserted] = await db.batch([
    db
      .insert(vaultSecrets)
      .values({
        id: newId("vlt"),
        organizationId: p.organizationId,
        key,
        currentVersion: 1,
        createdBy: p.userId,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: [vaultSecrets.organizationId, vaultSecrets.key],
        set: { currentVersion: sql`${vaultSecrets.currentVersion} + 1`, updatedAt: now },
      })
      .returning(),
    db.run(sql`
      insert into vault_secret_versions (secret_id, version, value_sealed, fields, created_by, created_at)
      select id, current_version, ${sealed}, ${fields ? JSON.stringify(fields) : null}, ${p.userId}, ${now}
      from vault_secrets where organization_id = ${p.organizationId} and key = ${key}
    `),
  ]);
  const row = upserted[0]!;
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "vault.secret.write",
      targetType: "vault_secret",
      targetId: row.id,
      metadata: { key, version: row.currentVersion, ...(fields ? { fields } : {}) },
    }),
  );
  return getSecretMeta(db, p, key);
}

async function openVersion(db: Database, env: Bindings, secret: SecretRow, version: number): Promise<SecretValue> {
  const [v] = await db
    .select({ sealed: vaultSecretVersions.valueSealed })
    .from(vaultSecretVersions)
    .where(and(eq(vaultSecretVersions.secretId, secret.id), eq(vaultSecretVersions.version, version)))
    .limit(1);
  if (!v) throw notFound(`Version ${version} of secret ${secret.key}`);
  return JSON.parse(await decryptSecret(v.sealed, env.ENCRYPTION_KEY)) as SecretValue;
}

/** A secret's value (the newest version, or `version`). Admins only; the read is audited. */
export async function readSecret(
  db: Database,
  env: Bindings,
  actor: Caller,
  key: string,
  version?: number,
): Promise<{ row: SecretRow; version: number; value: SecretValue }> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  const row = await findSecret(db, p.organizationId, key);
  const wanted = version ?? row.currentVersion;
  const value = await openVersion(db, env, row, wanted);
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "vault.secret.read",
      targetType: "vault_secret",
      targetId: row.id,
      metadata: { key, version: wanted },
    }),
  );
  return { row, version: wanted, value };
}

/** Deletes a secret and every version of it. Admins only; audited. */
export async function deleteSecret(db: Database, actor: Caller, key: string): Promise<void> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  const row = await findSecret(db, p.organizationId, key);
  await db.batch([
    db.delete(vaultSecrets).where(eq(vaultSecrets.id, row.id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "vault.secret.delete",
        targetType: "vault_secret",
        targetId: row.id,
        metadata: { key, versions: row.currentVersion },
      }),
    ),
  ]);
}

export interface VaultStatus {
  secrets: number;
  versions: number;
  lastWriteAt: string | null;
  /** Whether ENCRYPTION_KEY is a usable AES-256 key (the vault cannot seal or open without it). */
  sealed: boolean;
}

export async function vaultStatus(db: Database, env: Bindings, organizationId: string): Promise<VaultStatus> {
  const [counts] = await db
    .select({
      secrets: sql<number>`count(distinct ${vaultSecrets.id})`,
      versions: sql<number>`count(${vaultSecretVersions.version})`,
      lastWriteAt: sql<string | null>`max(${vaultSecretVersions.createdAt})`,
    })
    .from(vaultSecrets)
    .leftJoin(vaultSecretVersions, eq(vaultSecretVersions.secretId, vaultSecrets.id))
    .where(eq(vaultSecrets.organizationId, organizationId));
  let sealed = true;
  try {
    await encryptSecret("probe", env.ENCRYPTION_KEY);
  } catch {
    sealed = false;
  }
  return {
    secrets: Number(counts?.secrets ?? 0),
    versions: Number(counts?.versions ?? 0),
    lastWriteAt: counts?.lastWriteAt ?? null,
    sealed,
  };
}

// ---- references in application environments --------------------------------------------------------

/** `${vault:KEY}` or `${vault:KEY#field}`. */
const REFERENCE = /\$\{vault:([^}#\s]+)(?:#([^}\s]+))?\}/g;

/** The keys an environment's values reference (for a check before the deployment runs). */
export function vaultReferences(vars: Record<string, string>): Array<{ variable: string; key: string; field?: string }> {
  const out: Array<{ variable: string; key: string; field?: string }> = [];
  for (const [variable, value] of Object.entries(vars))
    for (const m of value.matchAll(REFERENCE)) out.push({ variable, key: m[1]!, ...(m[2] ? { field: m[2] } : {}) });
  return out;
}

export class VaultReferenceError extends Error {
  override name = "VaultReferenceError";
}

/**
 * Replaces every `${vault:…}` in the values with the secret's newest value. A key that does not
 * exist, a field the secret lacks, or an object referenced without a field fails the whole
 * resolution with a message naming each problem. The resolution is audited as a system read
 * naming the keys and the application, never the values. Returns the resolved variables and the
 * values it put in (for scrubbing output).
 */
export async function resolveVaultReferences(
  db: Database,
  env: Bindings,
  organizationId: string,
  vars: Record<string, string>,
  context: { targetType: string; targetId: string },
): Promise<{ vars: Record<string, string>; secrets: string[] }> {
  const refs = vaultReferences(vars);
  if (refs.length === 0) return { vars, secrets: [] };
  const keys = [...new Set(refs.map((r) => r.key))];
  const rows = await db
    .select()
    .from(vaultSecrets)
    .where(and(eq(vaultSecrets.organizationId, organizationId), inArray(vaultSecrets.key, keys)));
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const values = new Map<string, SecretValue>();
  for (const row of rows) values.set(row.key, await openVersion(db, env, row, row.currentVersion));
  const problems: string[] = [];
  const secrets: string[] = [];
  const resolved: Record<string, string> = {};
  for (const [variable, value] of Object.entries(vars)) {
    resolved[variable] = value.replace(REFERENCE, (whole, key: string, field: string | undefined) => {
      const secret = values.get(key);
      if (secret === undefined) {
        problems.push(`${variable} references vault secret ${key}, which does not exist`);
        return whole;
      }
      if (typeof secret === "string") {
        if (field)
          problems.push(`${variable} references field ${field} of vault secret ${key}, which is a plain value: use \${vault:${key}}`);
        secrets.push(secret);
        return secret;
      }
      if (!field) {
        problems.push(
          `${variable} references vault secret ${key}, which has fields (${Object.keys(secret).join(", ")}): name one, as \${vault:${key}#field}`,
        );
        return whole;
      }
      const picked = secret[field];
      if (picked === undefined) {
        problems.push(`${variable} references field ${field} of vault secret ${key}, which has only ${Object.keys(secret).join(", ")}`);
        return whole;
      }
      secrets.push(picked);
      return picked;
    });
  }
  if (problems.length)
    throw new VaultReferenceError(
      `Vault references could not be resolved: ${problems.join("; ")}. Store the secret (PUT /api/v1/vault/secrets/{key}) or fix the environment, then deploy again.`,
    );
  await db.insert(auditEvents).values(
    auditRow(
      { ip: null, userAgent: null },
      {
        organizationId,
        action: "vault.secret.resolve",
        targetType: context.targetType,
        targetId: context.targetId,
        actorType: "system",
        metadata: { keys: keys.filter((k) => byKey.has(k)) },
      },
    ),
  );
  return { vars: resolved, secrets };
}
