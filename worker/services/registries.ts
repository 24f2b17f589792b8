import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { registries } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { recordAudit } from "./audit.ts";
import { allHosts, getHost, type HostRow } from "./hosts.ts";
import { runOnOrgHost } from "./host-relay.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// An organization's registry credentials: sealed at rest, masked in every answer, checked against
// the registry's /v2/ before they are saved, and handed to the engine of whichever host pulls,
// pushes or deploys from that registry.
//
// The check runs on a host, through its agent and its Docker engine (`POST /auth`, what
// `docker login` does), not from the Worker: a registry is often reachable only from the hosts
// (a private network, a VPN, a registry on the host's loopback), the engine applies the host's own
// insecure-registry, proxy and CA settings — exactly the path the pull will take — and the Worker
// could not fetch private or plain-HTTP loopback addresses anyway.

type Authed = Actor & { principal: Principal };
/** Credentials as the engine takes them for one pull or push. */
export type RegistryAuth = { username: string; password: string; serveraddress?: string };
export type RegistryRow = typeof registries.$inferSelect;

const DOCKER_HUB = "docker.io";
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);
const HOST_PORT =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$|^\[[0-9a-f:]+\](?::[0-9]{1,5})?$/;

/** `https://GHCR.io/`, `ghcr.io`, `https://index.docker.io/v1/` → `ghcr.io`, `docker.io`; null if not a registry address. */
export function normalizeServer(input: string): string | null {
  const bare = input
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
    .replace(/\/(v1|v2)?\/?$/, "")
    .replace(/\/$/, "");
  if (!HOST_PORT.test(bare)) return null;
  return HUB_ALIASES.has(bare) ? DOCKER_HUB : bare;
}

/** The registry an image reference names (distribution/reference: a first part with `.` or `:`, or `localhost`). */
export function registryOfImage(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return DOCKER_HUB;
  return normalizeServer(first) ?? first.toLowerCase();
}

/** The address the engine wants for a server: Docker Hub's is its v1 index URL. */
export const engineServerAddress = (server: string): string => (server === DOCKER_HUB ? "https://index.docker.io/v1/" : server);

export const ServerField = z
  .string()
  .min(1)
  .max(512)
  .refine((s) => normalizeServer(s) !== null, {
    message: "must be a registry host such as ghcr.io, registry.example.com:5000 or docker.io",
  });

const secretFields = {
  /** The password, or an access token (`token` is the same field under another name). */
  password: z.string().min(1).max(8192).optional(),
  token: z.string().min(1).max(8192).optional(),
  /** The host to check the credentials from; by default one of the organization's online hosts. */
  verify_host_id: z.string().min(1).max(64).optional(),
};

export const RegistryCreate = z
  .object({ server: ServerField, username: z.string().min(1).max(1024), ...secretFields })
  .refine((r) => (r.password === undefined) !== (r.token === undefined), {
    message: "give the secret as password or as token (one of them)",
    path: ["password"],
  });
export type RegistryCreate = z.infer<typeof RegistryCreate>;

export const RegistryPatch = z
  .object({ username: z.string().min(1).max(1024).optional(), ...secretFields })
  .refine((r) => !(r.password !== undefined && r.token !== undefined), {
    message: "give the secret as password or as token, not both",
    path: ["password"],
  });
export type RegistryPatch = z.infer<typeof RegistryPatch>;

export interface RegistryView {
  id: string;
  server: string;
  username: string;
  /** Never the secret: `…a1b2` (its last 4 characters, for long ones) or `…`. */
  password: string;
  verified_at: string;
  verified_from_host_id: string | null;
  created_at: string;
  updated_at: string;
}

export const toRegistryView = (r: RegistryRow): RegistryView => ({
  id: r.id,
  server: r.server,
  username: r.username,
  password: `…${r.secretHint}`,
  verified_at: r.verifiedAt,
  verified_from_host_id: r.verifiedFromHostId,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

const hintOf = (secret: string) => (secret.length > 12 ? secret.slice(-4) : "");

export async function listRegistries(db: Database, principal: Principal): Promise<RegistryRow[]> {
  return db.select().from(registries).where(eq(registries.organizationId, principal.organizationId)).orderBy(registries.server);
}

export async function getRegistry(db: Database, principal: Principal, id: string): Promise<RegistryRow> {
  const [row] = await db
    .select()
    .from(registries)
    .where(and(eq(registries.organizationId, principal.organizationId), eq(registries.id, id)))
    .limit(1);
  if (!row) throw notFound(`Registry ${id}`);
  return row;
}

/** A login the registry itself turned down, in the engine's or the registry's words. */
const REFUSED = /\b401\b|unauthori[sz]ed|authentication required|access denied|incorrect username or password/i;

/**
 * Logs in to the registry from a host of the organization; throws 422 with the registry's (or the
 * engine's) words when it refuses, 409 when no host is online to ask.
 */
export async function verifyRegistryLogin(
  db: Database,
  env: Bindings,
  principal: Principal,
  input: { server: string; username: string; password: string; hostId?: string },
): Promise<{ hostId: string; status: string }> {
  let host: HostRow | undefined;
  if (input.hostId) host = await getHost(db, principal.organizationId, input.hostId);
  else {
    host = (await allHosts(db, principal.organizationId))
      .filter((h) => h.state === "online")
      .sort((a, b) => (b.lastSeenAt ?? "").localeCompare(a.lastSeenAt ?? ""))[0];
    if (!host)
      throw conflict(
        "No host of your organization is online to check these credentials from (the check runs on a host, against the registry's /v2/): start a host's agent, or name one with verify_host_id.",
      );
  }
  const hostId = host.id;
  const answer = await runOnOrgHost(db, env, principal.organizationId, hostId, "registry.login", {
    serveraddress: engineServerAddress(input.server),
    username: input.username,
    password: input.password,
  });
  if (!answer.ok) {
    const from = `from host ${host.name} (${hostId})`;
    // Only a registry that answered can refuse credentials. The engine's status does not tell
    // (Docker 20.10 answers 500 for both, "…failed with status: 401 Unauthorized" or "dial tcp…:
    // connection refused"), so its words do; anything else is no verdict on the password.
    if (answer.status === 401 || REFUSED.test(answer.message))
      throw new ApiError(422, `The registry ${input.server} refused these credentials (checked ${from}): ${answer.message}`, {
        errors: [{ pointer: "/body/password", detail: answer.message }],
      });
    throw new ApiError(
      422,
      `Could not check these credentials with the registry ${input.server} ${from}: ${answer.message}. Is the server's address right, and does that host reach it?`,
      { errors: [{ pointer: "/body/server", detail: answer.message }] },
    );
  }
  return { hostId, status: answer.status };
}

export async function createRegistry(db: Database, env: Bindings, actor: Authed, input: RegistryCreate): Promise<RegistryRow> {
  const { principal } = actor;
  requireRole(principal, "admin", "manage registry credentials");
  const server = normalizeServer(input.server)!;
  const secret = (input.password ?? input.token)!;
  const [existing] = await db
    .select({ id: registries.id })
    .from(registries)
    .where(and(eq(registries.organizationId, principal.organizationId), eq(registries.server, server)));
  if (existing)
    throw conflict(`Credentials for ${server} exist already (${existing.id}): change them with PATCH /api/v1/registries/${existing.id}.`);
  const verified = await verifyRegistryLogin(db, env, principal, {
    server,
    username: input.username,
    password: secret,
    hostId: input.verify_host_id,
  });
  const now = nowIso();
  const row: RegistryRow = {
    id: newId("reg"),
    organizationId: principal.organizationId,
    server,
    username: input.username,
    secretEncrypted: await encryptSecret(secret, env.ENCRYPTION_KEY),
    secretHint: hintOf(secret),
    verifiedAt: now,
    verifiedFromHostId: verified.hostId,
    createdBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.insert(registries).values(row);
  } catch (error) {
    if (isUniqueViolation(error, "registries")) throw conflict(`Credentials for ${server} exist already.`);
    throw error;
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "registry.create",
    targetType: "registry",
    targetId: row.id,
    metadata: { server, username: input.username, verified_from_host_id: verified.hostId },
  });
  return row;
}

/** New username and/or secret, checked again before they replace the old ones. */
export async function updateRegistry(db: Database, env: Bindings, actor: Authed, id: string, patch: RegistryPatch): Promise<RegistryRow> {
  const { principal } = actor;
  requireRole(principal, "admin", "manage registry credentials");
  const row = await getRegistry(db, principal, id);
  const username = patch.username ?? row.username;
  const secret = patch.password ?? patch.token ?? (await decryptSecret(row.secretEncrypted, env.ENCRYPTION_KEY));
  const verified = await verifyRegistryLogin(db, env, principal, {
    server: row.server,
    username,
    password: secret,
    hostId: patch.verify_host_id,
  });
  const now = nowIso();
  const next: Partial<RegistryRow> = {
    username,
    secretEncrypted: await encryptSecret(secret, env.ENCRYPTION_KEY),
    secretHint: hintOf(secret),
    verifiedAt: now,
    verifiedFromHostId: verified.hostId,
    updatedAt: now,
  };
  await db.update(registries).set(next).where(eq(registries.id, id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "registry.update",
    targetType: "registry",
    targetId: id,
    metadata: { server: row.server, username, secret_changed: patch.password !== undefined || patch.token !== undefined },
  });
  return { ...row, ...next };
}

export async function deleteRegistry(db: Database, actor: Authed, id: string): Promise<void> {
  const { principal } = actor;
  requireRole(principal, "admin", "manage registry credentials");
  const row = await getRegistry(db, principal, id);
  await db.delete(registries).where(eq(registries.id, id));
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: "registry.delete",
    targetType: "registry",
    targetId: id,
    metadata: { server: row.server },
  });
}

/**
 * `docker login` for the organization (DevFlow's registry login): checks the credentials from the
 * given host and saves them, replacing any for the same server.
 */
export async function loginRegistry(
  db: Database,
  env: Bindings,
  actor: Authed,
  hostId: string,
  input: { server: string; username: string; password: string },
): Promise<{ registry: RegistryRow; status: string }> {
  const { principal } = actor;
  requireRole(principal, "admin", "manage registry credentials");
  const server = normalizeServer(input.server);
  if (!server) throw new ApiError(422, `${input.server} is not a registry address (ghcr.io, registry.example.com:5000, docker.io).`);
  const [existing] = await db
    .select()
    .from(registries)
    .where(and(eq(registries.organizationId, principal.organizationId), eq(registries.server, server)));
  const registry = existing
    ? await updateRegistry(db, env, actor, existing.id, { username: input.username, password: input.password, verify_host_id: hostId })
    : await createRegistry(db, env, actor, { server, username: input.username, password: input.password, verify_host_id: hostId });
  return { registry, status: "Login Succeeded" };
}

/** The organization's saved credentials for the registry an image lives in, as the engine takes them. */
export async function registryAuthFor(
  db: Database,
  env: Bindings,
  organizationId: string,
  image: string,
): Promise<RegistryAuth | undefined> {
  const server = registryOfImage(image);
  const [row] = await db
    .select()
    .from(registries)
    .where(and(eq(registries.organizationId, organizationId), eq(registries.server, server)))
    .limit(1);
  if (!row) return undefined;
  return {
    username: row.username,
    password: await decryptSecret(row.secretEncrypted, env.ENCRYPTION_KEY),
    serveraddress: engineServerAddress(server),
  };
}
