import { and, count, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { backupDestinations, backupPolicies, backups } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { recordAudit } from "./audit.ts";
import { type ObjectStore, r2Store, s3Store, StoreError } from "./backup-store.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";

// An organization's backup destinations: the Worker's R2 bucket (`default`, always there, no row)
// and S3-compatible stores. A store is saved only after a probe object was written, read back and
// deleted with its credentials; its secret is sealed at rest and masked in every answer.

type Authed = Actor & { principal: Principal };
export type DestinationRow = typeof backupDestinations.$inferSelect;

/** The id of the R2 binding's destination in the API and in `backups.destination_id`. */
export const DEFAULT_DESTINATION = "default";

const Endpoint = z
  .string()
  .min(1)
  .max(2048)
  .refine((s) => {
    try {
      const url = new URL(s);
      return (url.protocol === "https:" || url.protocol === "http:") && (url.pathname === "/" || url.pathname === "") && !url.search;
    } catch {
      return false;
    }
  }, "must be the store's base URL: http(s)://host[:port], without a path (the bucket is its own field)");

// S3's bucket naming rules, loosely: what every compatible store accepts.
const Bucket = z
  .string()
  .min(3)
  .max(63)
  .regex(
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    "must be 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
  );

const Prefix = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "may hold letters, digits, slashes and !_.*'()- only")
  .transform((p) => p.replace(/^\/+|\/+$/g, ""));

const settings = {
  name: z.string().trim().min(1).max(100),
  endpoint: Endpoint,
  bucket: Bucket,
  region: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9-]+$/, "must be a region name such as us-east-1 (or auto)"),
  access_key_id: z.string().min(1).max(256),
  secret_access_key: z.string().min(1).max(1024),
  prefix: Prefix,
  force_path_style: z.boolean(),
  encrypt: z.boolean(),
};

export const DestinationCreate = z.object({
  ...settings,
  region: settings.region.default("us-east-1"),
  prefix: settings.prefix.default(""),
  force_path_style: settings.force_path_style.default(true),
  encrypt: settings.encrypt.default(false),
});
export type DestinationCreate = z.infer<typeof DestinationCreate>;

export const DestinationPatch = z.object(settings).partial();
export type DestinationPatch = z.infer<typeof DestinationPatch>;

export interface DestinationView {
  id: string;
  name: string;
  kind: "r2" | "s3";
  default: boolean;
  endpoint: string | null;
  bucket: string | null;
  region: string | null;
  access_key_id: string | null;
  /** Never the secret: `…a1b2` (its last 4 characters, for long ones) or `…`; null for R2. */
  secret_access_key: string | null;
  prefix: string;
  force_path_style: boolean | null;
  encrypt: boolean;
  verified_at: string | null;
  created_at: string | null;
  updated_at: string | null;
}

export const defaultDestinationView = (): DestinationView => ({
  id: DEFAULT_DESTINATION,
  name: "Pier's R2 bucket",
  kind: "r2",
  default: true,
  endpoint: null,
  bucket: null,
  region: null,
  access_key_id: null,
  secret_access_key: null,
  prefix: "",
  force_path_style: null,
  encrypt: true,
  verified_at: null,
  created_at: null,
  updated_at: null,
});

export const toDestinationView = (r: DestinationRow): DestinationView => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  default: false,
  endpoint: r.endpoint,
  bucket: r.bucket,
  region: r.region,
  access_key_id: r.accessKeyId,
  secret_access_key: `…${r.secretHint}`,
  prefix: r.prefix,
  force_path_style: r.forcePathStyle,
  encrypt: r.encrypt,
  verified_at: r.verifiedAt,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

const hintOf = (secret: string) => (secret.length > 12 ? secret.slice(-4) : "");

export async function listDestinations(db: Database, principal: Principal): Promise<DestinationRow[]> {
  return db
    .select()
    .from(backupDestinations)
    .where(eq(backupDestinations.organizationId, principal.organizationId))
    .orderBy(backupDestinations.name);
}

export async function getDestination(db: Database, organizationId: string, id: string): Promise<DestinationRow> {
  const [row] = await db
    .select()
    .from(backupDestinations)
    .where(and(eq(backupDestinations.organizationId, organizationId), eq(backupDestinations.id, id)))
    .limit(1);
  if (!row) throw notFound(`Backup destination ${id}`);
  return row;
}

/** A destination's store, where its keys start, and whether artifacts there are encrypted by default. */
export interface Destination {
  id: string;
  name: string;
  store: ObjectStore;
  prefix: string;
  encrypt: boolean;
}

export async function openDestination(
  db: Database,
  env: Bindings,
  organizationId: string,
  id: string | undefined | null,
): Promise<Destination> {
  if (!id || id === DEFAULT_DESTINATION) {
    if (!env.BACKUPS)
      throw new ApiError(503, "The default backup destination needs the R2 binding BACKUPS in wrangler.toml ([[r2_buckets]]).");
    return { id: DEFAULT_DESTINATION, name: defaultDestinationView().name, store: r2Store(env.BACKUPS), prefix: "", encrypt: true };
  }
  const row = await getDestination(db, organizationId, id);
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    encrypt: row.encrypt,
    store: s3Store({
      endpoint: row.endpoint,
      bucket: row.bucket,
      region: row.region,
      accessKeyId: row.accessKeyId,
      secretAccessKey: await decryptSecret(row.secretEncrypted, env.ENCRYPTION_KEY),
      forcePathStyle: row.forcePathStyle,
    }),
  };
}

/**
 * Writes, reads back and deletes a probe object with these settings; a refusal is a 422 carrying
 * the store's own words.
 */
export async function verifyDestination(config: {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  prefix: string;
}): Promise<void> {
  const store = s3Store(config);
  const key = `${config.prefix ? `${config.prefix}/` : ""}pier/.probe-${crypto.randomUUID()}`;
  const content = `pier destination check ${nowIso()}`;
  let step = "write a probe object";
  try {
    await store.put(key, content, "text/plain");
    step = "read the probe object back";
    const read = await store.get(key);
    const text = read ? await new Response(read.body).text() : null;
    if (text !== content)
      throw new StoreError(
        text === null ? "the probe object just written is not there" : "the probe object read back differs from what was written",
      );
    step = "delete the probe object";
    await store.delete(key);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiError(422, `The destination failed its check (${step} in ${store.description}): ${message}`, {
      errors: [{ pointer: "/body/endpoint", detail: message }],
    });
  }
}

export async function createDestination(db: Database, env: Bindings, actor: Authed, input: DestinationCreate): Promise<DestinationRow> {
  const { principal } = actor;
  assertPermission(principal, "admin_access");
  await verifyDestination({
    endpoint: input.endpoint,
    bucket: input.bucket,
    region: input.region,
    accessKeyId: input.access_key_id,
    secretAccessKey: input.secret_access_key,
    forcePathStyle: input.force_path_style,
    prefix: input.prefix,
  });
  const now = nowIso();
  const row: DestinationRow = {
    id: newId("bkd"),
    organizationId: principal.organizationId,
    name: input.name,
    kind: "s3",
    endpoint: new URL(input.endpoint).origin,
    bucket: input.bucket,
    region: input.region,
    accessKeyId: input.access_key_id,
    secretEncrypted: await encryptSecret(input.secret_access_key, env.ENCRYPTION_KEY),
    secretHint: hintOf(input.secret_access_key),
    prefix: input.prefix,
    forcePathStyle: input.force_path_style,
    encrypt: input.encrypt,
    verifiedAt: now,
    createdBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.insert(backupDestinations).values(row);
  } catch (error) {
    if (isUniqueViolation(error, "backup_destinations")) throw conflict(`A backup destination named ${input.name} exists already.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_destination.create",
    targetType: "backup_destination",
    targetId: row.id,
    metadata: { name: row.name, endpoint: row.endpoint, bucket: row.bucket, prefix: row.prefix, encrypt: row.encrypt },
  });
  return row;
}

/** Changed settings are checked again (with the kept secret unless a new one is given) before they are saved. */
export async function updateDestination(
  db: Database,
  env: Bindings,
  actor: Authed,
  id: string,
  patch: DestinationPatch,
): Promise<DestinationRow> {
  const { principal } = actor;
  assertPermission(principal, "admin_access");
  if (id === DEFAULT_DESTINATION) throw conflict("The default destination (the Worker's R2 bucket) has no settings to change.");
  const row = await getDestination(db, principal.organizationId, id);
  const secret = patch.secret_access_key ?? (await decryptSecret(row.secretEncrypted, env.ENCRYPTION_KEY));
  const next = {
    name: patch.name ?? row.name,
    endpoint: patch.endpoint !== undefined ? new URL(patch.endpoint).origin : row.endpoint,
    bucket: patch.bucket ?? row.bucket,
    region: patch.region ?? row.region,
    accessKeyId: patch.access_key_id ?? row.accessKeyId,
    prefix: patch.prefix ?? row.prefix,
    forcePathStyle: patch.force_path_style ?? row.forcePathStyle,
    encrypt: patch.encrypt ?? row.encrypt,
  };
  const reaches = ["endpoint", "bucket", "region", "access_key_id", "secret_access_key", "prefix", "force_path_style"] as const;
  const now = nowIso();
  let verifiedAt = row.verifiedAt;
  if (reaches.some((k) => patch[k] !== undefined)) {
    await verifyDestination({ ...next, secretAccessKey: secret });
    verifiedAt = now;
  }
  const changes: Partial<DestinationRow> = {
    ...next,
    secretEncrypted: patch.secret_access_key !== undefined ? await encryptSecret(secret, env.ENCRYPTION_KEY) : row.secretEncrypted,
    secretHint: hintOf(secret),
    verifiedAt,
    updatedAt: now,
  };
  try {
    await db.update(backupDestinations).set(changes).where(eq(backupDestinations.id, id));
  } catch (error) {
    if (isUniqueViolation(error, "backup_destinations")) throw conflict(`A backup destination named ${next.name} exists already.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_destination.update",
    targetType: "backup_destination",
    targetId: id,
    metadata: {
      changed: Object.keys(patch).filter((k) => k !== "secret_access_key"),
      secret_changed: patch.secret_access_key !== undefined,
    },
  });
  return { ...row, ...changes };
}

/**
 * Refused while backups are recorded there (they would become unreadable) or while a policy
 * backs up into it (its next run would fail every night): the 409 names those policies, so the
 * admin can point them elsewhere or delete them first. Refusing rather than disabling the
 * policies keeps a scheduled backup from stopping without anyone deciding it.
 */
export async function deleteDestination(db: Database, actor: Authed, id: string): Promise<void> {
  const { principal } = actor;
  assertPermission(principal, "admin_access");
  if (id === DEFAULT_DESTINATION) throw conflict("The default destination (the Worker's R2 bucket) cannot be removed.");
  const row = await getDestination(db, principal.organizationId, id);
  const using = await db
    .select({ id: backupPolicies.id, name: backupPolicies.name })
    .from(backupPolicies)
    .where(and(eq(backupPolicies.organizationId, principal.organizationId), eq(backupPolicies.destinationId, id)))
    .orderBy(backupPolicies.name);
  if (using.length > 0)
    throw conflict(
      `${row.name} is the destination of ${using.length} backup polic${using.length === 1 ? "y" : "ies"}: ${using
        .map((p) => `${p.name} (${p.id})`)
        .join(", ")}. Point them at another destination (PATCH /api/v1/backup-policies/{id} {"destination_id": …}) or delete them first.`,
    );
  const [held] = await db
    .select({ n: count() })
    .from(backups)
    .where(and(eq(backups.organizationId, principal.organizationId), eq(backups.destinationId, id)));
  if (held && held.n > 0)
    throw conflict(
      `${held.n} backup(s) are recorded in ${row.name}; delete them first (DELETE /api/v1/backups/{id}), or they could no longer be restored through Pier.`,
    );
  await db.delete(backupDestinations).where(eq(backupDestinations.id, id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "backup_destination.delete",
    targetType: "backup_destination",
    targetId: id,
    metadata: { name: row.name },
  });
}
