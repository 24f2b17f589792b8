// Server roles: the organization's catalog of server templates (image, command, ports, health
// check, data path, default firewall groups, environment). Built-in `web`, `was` and `db` are
// written the first time an organization's catalog is read, and may then be edited like any other.
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { serverRoles, servers, type ServerHealthCheck, type ServerPort } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { conflict, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { recordAudit } from "./audit.ts";
import { assertPermission } from "./permissions.ts";
import type { Actor, Principal } from "./principal.ts";
import { RoleName, type RoleInput, type RolePatch } from "./server-fields.ts";

export type ServerRoleRow = typeof serverRoles.$inferSelect;
type Caller = Actor & { principal: Principal };

/** Where a server without a role (or a role without a data path) keeps its data volume. */
export const DEFAULT_DATA_PATH = "/data";

interface BuiltinRole {
  name: string;
  description: string;
  image: string;
  command?: string[];
  ports: ServerPort[];
  healthCheck?: ServerHealthCheck;
  dataPath: string;
  /** Variables generated per organization when the role is written (a database's password). */
  env?: () => Record<string, string>;
}

/** The documents' three roles (002: "web, was, db"), on the official images that fit them. */
export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    name: "web",
    description: "Web server: nginx serving /usr/share/nginx/html on port 80.",
    image: "nginx:1.27",
    ports: [{ container_port: 80 }],
    healthCheck: { http_path: "/", port: 80 },
    dataPath: "/usr/share/nginx/html",
  },
  {
    name: "was",
    description: "Web application server: Tomcat on port 8080, applications in /usr/local/tomcat/webapps.",
    image: "tomcat:10",
    ports: [{ container_port: 8080 }],
    dataPath: "/usr/local/tomcat/webapps",
  },
  {
    name: "db",
    description: "Database server: PostgreSQL 16 on port 5432, its data in /var/lib/postgresql/data.",
    image: "postgres:16",
    ports: [{ container_port: 5432 }],
    healthCheck: { command: "pg_isready -U postgres", interval_seconds: 10 },
    dataPath: "/var/lib/postgresql/data",
    env: () => ({ POSTGRES_PASSWORD: randomString(24) }),
  },
];

/** Writes the built-in roles the organization does not have yet (a role it deleted comes back: they are the documents' fixed set). */
export async function ensureBuiltinRoles(db: Database, env: Bindings, organizationId: string): Promise<void> {
  const have = new Set(
    (await db.select({ name: serverRoles.name }).from(serverRoles).where(eq(serverRoles.organizationId, organizationId))).map(
      (r) => r.name,
    ),
  );
  const missing = BUILTIN_ROLES.filter((r) => !have.has(r.name));
  if (missing.length === 0) return;
  const now = nowIso();
  const rows = await Promise.all(
    missing.map(async (r) => ({
      id: newId("srl"),
      organizationId,
      name: r.name,
      description: r.description,
      image: r.image,
      command: r.command ?? null,
      ports: r.ports,
      healthCheck: r.healthCheck ?? null,
      dataPath: r.dataPath,
      firewallGroups: [],
      envEncrypted: r.env ? await encryptSecret(JSON.stringify(r.env()), env.ENCRYPTION_KEY) : null,
      builtin: true,
      createdAt: now,
      updatedAt: now,
    })),
  );
  // Two first reads at once both find them missing: the unique index keeps one of each.
  await db.insert(serverRoles).values(rows).onConflictDoNothing();
}

export async function listRoles(db: Database, env: Bindings, organizationId: string): Promise<ServerRoleRow[]> {
  await ensureBuiltinRoles(db, env, organizationId);
  return db.select().from(serverRoles).where(eq(serverRoles.organizationId, organizationId)).orderBy(asc(serverRoles.name));
}

/** A role of the organization's catalog by name; another organization's is "not found". */
export async function getRole(db: Database, env: Bindings, organizationId: string, name: string): Promise<ServerRoleRow> {
  await ensureBuiltinRoles(db, env, organizationId);
  const [row] = await db
    .select()
    .from(serverRoles)
    .where(and(eq(serverRoles.organizationId, organizationId), eq(serverRoles.name, name)))
    .limit(1);
  if (!row) throw notFound(`Role ${name}`);
  return row;
}

export async function roleEnv(env: Bindings, row: Pick<ServerRoleRow, "envEncrypted">): Promise<Record<string, string>> {
  return row.envEncrypted ? (JSON.parse(await decryptSecret(row.envEncrypted, env.ENCRYPTION_KEY)) as Record<string, string>) : {};
}

/** How many servers of the organization have each role. */
export async function roleUsage(db: Database, organizationId: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ role: servers.role, n: sql<number>`count(*)` })
    .from(servers)
    .where(eq(servers.organizationId, organizationId))
    .groupBy(servers.role);
  return new Map(rows.filter((r) => r.role !== null).map((r) => [r.role!, Number(r.n)]));
}

export async function createRole(db: Database, env: Bindings, actor: Caller, input: RoleInput): Promise<ServerRoleRow> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  await ensureBuiltinRoles(db, env, p.organizationId);
  const now = nowIso();
  const row: ServerRoleRow = {
    id: newId("srl"),
    organizationId: p.organizationId,
    name: input.name,
    description: input.description ?? null,
    image: input.image,
    command: input.command ?? null,
    ports: input.ports ?? [],
    healthCheck: input.health_check ?? null,
    dataPath: input.data_path ?? DEFAULT_DATA_PATH,
    firewallGroups: input.firewall_groups ?? [],
    envEncrypted: input.env && Object.keys(input.env).length ? await encryptSecret(JSON.stringify(input.env), env.ENCRYPTION_KEY) : null,
    builtin: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.insert(serverRoles).values(row);
  } catch (error) {
    if (isUniqueViolation(error, "server_roles"))
      throw conflict(`A role named ${input.name} already exists: change it with PATCH, or pick another name.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: "server_role.create",
    targetType: "server_role",
    targetId: row.id,
    metadata: { name: row.name, image: row.image },
  });
  return row;
}

export async function updateRole(db: Database, env: Bindings, actor: Caller, name: string, patch: RolePatch): Promise<ServerRoleRow> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  const row = await getRole(db, env, p.organizationId, name);
  const set: Partial<ServerRoleRow> = { updatedAt: nowIso() };
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.image !== undefined) set.image = patch.image;
  if (patch.command !== undefined) set.command = patch.command;
  if (patch.ports !== undefined) set.ports = patch.ports;
  if (patch.health_check !== undefined) set.healthCheck = patch.health_check;
  if (patch.data_path !== undefined) set.dataPath = patch.data_path;
  if (patch.firewall_groups !== undefined) set.firewallGroups = patch.firewall_groups;
  if (patch.env !== undefined)
    set.envEncrypted = Object.keys(patch.env).length ? await encryptSecret(JSON.stringify(patch.env), env.ENCRYPTION_KEY) : null;
  const [updated] = await db.update(serverRoles).set(set).where(eq(serverRoles.id, row.id)).returning();
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: "server_role.update",
    targetType: "server_role",
    targetId: row.id,
    metadata: { name, fields: Object.keys(patch) },
  });
  return updated!;
}

export async function deleteRole(db: Database, env: Bindings, actor: Caller, name: string): Promise<void> {
  const p = actor.principal;
  assertPermission(p, "admin_access");
  const row = await getRole(db, env, p.organizationId, name);
  const used = (await roleUsage(db, p.organizationId)).get(name) ?? 0;
  if (used > 0) throw conflict(`Role ${name} is assigned to ${used} server(s): remove it from them first (remove_role), then delete it.`);
  if (row.builtin) throw conflict(`Role ${name} is built in: change it with PATCH instead; it would come back on the next read.`);
  await db.delete(serverRoles).where(eq(serverRoles.id, row.id));
  await recordAudit(db, actor, {
    organizationId: p.organizationId,
    action: "server_role.delete",
    targetType: "server_role",
    targetId: row.id,
    metadata: { name },
  });
}

export interface RoleValidation {
  role: string;
  valid: boolean;
  exists: boolean;
  reason: string | null;
  template: ReturnType<typeof toRoleView> | null;
}

/** 004's `roles/validate`: whether a name is a well-formed role that exists in the catalog. */
export async function validateRole(db: Database, env: Bindings, organizationId: string, name: string): Promise<RoleValidation> {
  const parsed = RoleName.safeParse(name);
  if (!parsed.success)
    return {
      role: name,
      valid: false,
      exists: false,
      reason: `Not a role name: ${parsed.error.issues[0]?.message ?? "malformed"}.`,
      template: null,
    };
  const roles = await listRoles(db, env, organizationId);
  const row = roles.find((r) => r.name === name);
  if (!row)
    return {
      role: name,
      valid: false,
      exists: false,
      reason: `No role ${name} in this organization's catalog; available: ${roles.map((r) => r.name).join(", ")}.`,
      template: null,
    };
  return { role: name, valid: true, exists: true, reason: null, template: toRoleView(row, await roleEnv(env, row)) };
}

/** A role as the API shows it: its environment's names, never their values. */
export function toRoleView(row: ServerRoleRow, env: Record<string, string> = {}, usage?: number) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    image: row.image,
    command: row.command,
    ports: row.ports,
    health_check: row.healthCheck,
    data_path: row.dataPath,
    firewall_groups: row.firewallGroups,
    env_keys: Object.keys(env).sort(),
    builtin: row.builtin,
    ...(usage !== undefined ? { servers: usage } : {}),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
export type RoleView = ReturnType<typeof toRoleView>;
