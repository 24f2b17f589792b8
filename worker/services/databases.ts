// Databases as services: postgres, mysql, mariadb, mongo and redis in a project — one container on
// the project's network (reachable by its app name), its data in a named volume that outlives the
// container, credentials generated unless given and stored sealed, the official images'
// environment conventions, and a connection string for admins.
import { and, desc, eq } from "drizzle-orm";
import { PROJECT_LABEL } from "#protocol";
import type { Database } from "../db/client.ts";
import { auditEvents, databaseServices, type DatabaseEngine } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { ApiError, conflict, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { projectNetwork } from "../lib/host-names.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { chooseAppName, defaultHostId } from "./applications.ts";
import { auditRow } from "./audit.ts";
import { getHost } from "./hosts.ts";
import { runOnHost, runStreamOnHost } from "./host-relay.ts";
import { requireRole, seesProject, type Actor, type Principal, type Viewer } from "./principal.ts";
import { type PlacementFilter, placedIn, resolvePlacement } from "./project-lookup.ts";
import { errorText } from "../db/errors.ts";

export type DatabaseRow = typeof databaseServices.$inferSelect;
type Caller = Actor & { principal: Principal };

interface Credentials {
  database: string | null;
  user: string | null;
  password: string;
  rootPassword: string | null;
}

interface EngineSpec {
  image: string;
  port: number;
  /** Where the image keeps its data (the named volume's mount point). */
  dataDir: string;
  hasDatabaseName: boolean;
  hasUser: boolean;
  hasRootPassword: boolean;
  env(c: Credentials): Record<string, string>;
  command?: string[];
  url(c: Credentials, host: string, port: number): string;
}

const enc = encodeURIComponent;

/** Each official image's conventions (its Docker Hub page: "Environment Variables"). */
export const ENGINES: Record<DatabaseEngine, EngineSpec> = {
  postgres: {
    image: "postgres:16",
    port: 5432,
    dataDir: "/var/lib/postgresql/data",
    hasDatabaseName: true,
    hasUser: true,
    hasRootPassword: false,
    env: (c) => ({ POSTGRES_DB: c.database!, POSTGRES_USER: c.user!, POSTGRES_PASSWORD: c.password }),
    url: (c, host, port) => `postgresql://${enc(c.user!)}:${enc(c.password)}@${host}:${port}/${enc(c.database!)}`,
  },
  mysql: {
    image: "mysql:8.4",
    port: 3306,
    dataDir: "/var/lib/mysql",
    hasDatabaseName: true,
    hasUser: true,
    hasRootPassword: true,
    env: (c) => ({ MYSQL_DATABASE: c.database!, MYSQL_USER: c.user!, MYSQL_PASSWORD: c.password, MYSQL_ROOT_PASSWORD: c.rootPassword! }),
    url: (c, host, port) => `mysql://${enc(c.user!)}:${enc(c.password)}@${host}:${port}/${enc(c.database!)}`,
  },
  mariadb: {
    image: "mariadb:11",
    port: 3306,
    dataDir: "/var/lib/mysql",
    hasDatabaseName: true,
    hasUser: true,
    hasRootPassword: true,
    env: (c) => ({
      MARIADB_DATABASE: c.database!,
      MARIADB_USER: c.user!,
      MARIADB_PASSWORD: c.password,
      MARIADB_ROOT_PASSWORD: c.rootPassword!,
    }),
    url: (c, host, port) => `mysql://${enc(c.user!)}:${enc(c.password)}@${host}:${port}/${enc(c.database!)}`,
  },
  mongo: {
    image: "mongo:7",
    port: 27017,
    dataDir: "/data/db",
    hasDatabaseName: true,
    hasUser: true,
    hasRootPassword: false,
    env: (c) => ({
      MONGO_INITDB_ROOT_USERNAME: c.user!,
      MONGO_INITDB_ROOT_PASSWORD: c.password,
      ...(c.database ? { MONGO_INITDB_DATABASE: c.database } : {}),
    }),
    url: (c, host, port) =>
      `mongodb://${enc(c.user!)}:${enc(c.password)}@${host}:${port}/${c.database ? enc(c.database) : ""}?authSource=admin`,
  },
  redis: {
    image: "redis:7",
    port: 6379,
    dataDir: "/data",
    hasDatabaseName: false,
    hasUser: false,
    hasRootPassword: false,
    // The password comes from the environment, so it is not on the command line (`docker inspect`
    // still shows the environment, as for every official image).
    env: (c) => ({ REDIS_PASSWORD: c.password }),
    command: ["sh", "-c", 'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes'],
    url: (c, host, port) => `redis://default:${enc(c.password)}@${host}:${port}`,
  },
};

export interface DatabaseInput {
  /** One of the two: the project (its default environment) or the environment itself. */
  project_id?: string | null;
  environment_id?: string | null;
  engine: DatabaseEngine;
  name: string;
  app_name?: string;
  description?: string | null;
  host_id?: string | null;
  database_name?: string;
  database_user?: string;
  database_password?: string;
  root_password?: string;
  /** Another image than the engine's default (a version, a mirror). */
  image?: string;
  command?: string[];
  /** Publish the database on this host port (otherwise only the project's network reaches it). */
  external_port?: number | null;
  /** Start it now (default true). */
  start?: boolean;
}

const password = () => randomString(32);

export async function createDatabaseService(
  db: Database,
  env: Bindings,
  actor: Caller,
  input: DatabaseInput,
  options: { suffixAppName?: boolean } = {},
): Promise<DatabaseRow> {
  const p = actor.principal;
  requireRole(p, "member", "create databases");
  const spec = ENGINES[input.engine];
  const place = await resolvePlacement(db, p, { projectId: input.project_id, environmentId: input.environment_id });
  const hostId = input.host_id ? (await getHost(db, p.organizationId, input.host_id)).id : await defaultHostId(db, p.organizationId);
  const appName = await chooseAppName(db, p.organizationId, input.app_name, input.name, { suffix: options.suffixAppName });
  const now = nowIso();
  const row: DatabaseRow = {
    id: newId("dbs"),
    organizationId: p.organizationId,
    projectId: place.projectId,
    environmentId: place.environmentId,
    hostId,
    engine: input.engine,
    name: input.name,
    appName,
    description: input.description ?? null,
    image: input.image ?? spec.image,
    databaseName: spec.hasDatabaseName ? (input.database_name ?? appName.replace(/-/g, "_")) : null,
    databaseUser: spec.hasUser ? (input.database_user ?? (input.engine === "mongo" ? "root" : "pier")) : null,
    passwordEncrypted: await encryptSecret(input.database_password ?? password(), env.ENCRYPTION_KEY),
    rootPasswordEncrypted: spec.hasRootPassword ? await encryptSecret(input.root_password ?? password(), env.ENCRYPTION_KEY) : null,
    internalPort: spec.port,
    externalPort: input.external_port ?? null,
    // Dokploy's convention: `<app name>-data`.
    volumeName: `${appName}-data`,
    command: input.command ?? null,
    status: "idle",
    lastError: null,
    containerId: null,
    createdBy: p.userId,
    createdAt: now,
    updatedAt: now,
  };
  await db.batch([
    db.insert(databaseServices).values(row),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "database.create",
        targetType: "database",
        targetId: row.id,
        metadata: {
          engine: row.engine,
          name: row.name,
          app_name: appName,
          project_id: place.projectId,
          environment_id: place.environmentId,
        },
      }),
    ),
  ]);
  if (input.start === false) return row;
  return startContainer(db, env, row);
}

export async function listDatabaseServices(db: Database, viewer: Viewer, filter: PlacementFilter, page: PageQuery) {
  return newestFirstPage(
    db.select().from(databaseServices).$dynamic(),
    databaseServices,
    page,
    ...placedIn(databaseServices, viewer, filter),
  );
}

/** Of a project, or of one environment when `environmentId` is given. */
export async function databasesOfProject(db: Database, viewer: Viewer, projectId: string, environmentId?: string): Promise<DatabaseRow[]> {
  return db
    .select()
    .from(databaseServices)
    .where(and(...placedIn(databaseServices, viewer, { projectId, environmentId })))
    .orderBy(desc(databaseServices.createdAt));
}

export async function getDatabaseService(db: Database, viewer: Viewer, id: string): Promise<DatabaseRow> {
  const [row] = await db
    .select()
    .from(databaseServices)
    .where(and(eq(databaseServices.organizationId, viewer.organizationId), eq(databaseServices.id, id)))
    .limit(1);
  if (!row || !seesProject(viewer, row.projectId)) throw notFound(`Database ${id}`);
  return row;
}

async function credentialsOf(env: Bindings, row: DatabaseRow): Promise<Credentials> {
  return {
    database: row.databaseName,
    user: row.databaseUser,
    password: await decryptSecret(row.passwordEncrypted, env.ENCRYPTION_KEY),
    rootPassword: row.rootPasswordEncrypted ? await decryptSecret(row.rootPasswordEncrypted, env.ENCRYPTION_KEY) : null,
  };
}

/** Credentials and connection string, for admins (the reveal is audited by the caller's route). */
export async function connectionInfo(env: Bindings, row: DatabaseRow) {
  const c = await credentialsOf(env, row);
  return {
    host: row.appName,
    port: row.internalPort,
    database: c.database,
    user: c.user,
    password: c.password,
    root_password: c.rootPassword,
    connection_string: ENGINES[row.engine].url(c, row.appName, row.internalPort),
  };
}

/** The container spec sent to the host (`deploy.run`); exported for tests of the conventions. */
export async function containerSpec(env: Bindings, row: DatabaseRow) {
  const spec = ENGINES[row.engine];
  const c = await credentialsOf(env, row);
  return {
    kind: "database" as const,
    owner_id: row.id,
    name: row.appName,
    image: row.image,
    // One volume cannot be written by two database processes: the old container stops first.
    strategy: "stop-first" as const,
    env: spec.env(c),
    ...(row.command?.length ? { cmd: row.command } : spec.command ? { cmd: spec.command } : {}),
    volumes: [{ source: row.volumeName, target: spec.dataDir }],
    ...(row.externalPort ? { ports: [{ container_port: row.internalPort, host_port: row.externalPort }] } : {}),
    labels: { [PROJECT_LABEL]: row.projectId },
    restart_policy: "unless-stopped" as const,
    network: { name: projectNetwork(row.projectId), aliases: [row.appName] },
    min_uptime_ms: 1_000,
  };
}

/** (Re)creates and starts the container; its failure is kept on the row as `error`, not thrown. */
async function startContainer(db: Database, env: Bindings, row: DatabaseRow): Promise<DatabaseRow> {
  const now = () => nowIso();
  if (!row.hostId) {
    const lastError = "no host: register one (POST /api/v1/hosts), then start the database";
    await db.update(databaseServices).set({ status: "error", lastError, updatedAt: now() }).where(eq(databaseServices.id, row.id));
    return { ...row, status: "error", lastError };
  }
  try {
    const timeout = 10 * 60_000;
    // The image is pulled when it is not on the host yet (deploy.build with an image source,
    // "tagged" with its own name: databases run their image as named, and leave no extra tags).
    await runStreamOnHost(env, row.hostId, "deploy.build", {
      kind: "database",
      app_id: row.id,
      deployment_id: row.id,
      app_name: row.appName,
      image_tag: row.image,
      source: { type: "image", image: row.image, pull_policy: "missing" },
      timeout_ms: timeout,
    });
    const result = await runStreamOnHost(env, row.hostId, "deploy.run", {
      ...(await containerSpec(env, row)),
      timeout_ms: timeout,
    });
    const updatedAt = now();
    await db
      .update(databaseServices)
      .set({ status: "running", lastError: null, containerId: result.container_id, updatedAt })
      .where(eq(databaseServices.id, row.id));
    return { ...row, status: "running", lastError: null, containerId: result.container_id, updatedAt };
  } catch (err) {
    const lastError = errorText(err);
    const updatedAt = now();
    await db.update(databaseServices).set({ status: "error", lastError, updatedAt }).where(eq(databaseServices.id, row.id));
    return { ...row, status: "error", lastError, updatedAt };
  }
}

export async function changeDatabaseState(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  action: "start" | "stop" | "restart",
): Promise<DatabaseRow> {
  const p = actor.principal;
  requireRole(p, "member", `${action} databases`);
  const row = await getDatabaseService(db, p, id);
  if (!row.hostId) throw conflict("This database has no host: register one first.");
  let next: DatabaseRow;
  if (action === "stop") {
    await runOnHost(env, row.hostId, "container.stop", { id: row.appName }).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    });
    const updatedAt = nowIso();
    await db.update(databaseServices).set({ status: "stopped", updatedAt }).where(eq(databaseServices.id, id));
    next = { ...row, status: "stopped", updatedAt };
  } else if (action === "restart" || row.status === "error" || row.status === "idle" || !row.containerId) {
    next = await startContainer(db, env, row);
  } else {
    try {
      await runOnHost(env, row.hostId, "container.start", { id: row.appName });
      const updatedAt = nowIso();
      await db.update(databaseServices).set({ status: "running", lastError: null, updatedAt }).where(eq(databaseServices.id, id));
      next = { ...row, status: "running", lastError: null, updatedAt };
    } catch (err) {
      // The container is gone (removed by hand): make it again, on the same volume.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      next = await startContainer(db, env, row);
    }
  }
  await db
    .insert(auditEvents)
    .values(auditRow(actor, { organizationId: p.organizationId, action: `database.${action}`, targetType: "database", targetId: id }));
  return next;
}

/** Removes the container (and the volume when purging); false when the host could not be reached. */
export async function removeDatabaseContainers(env: Bindings, row: DatabaseRow, purge: boolean): Promise<boolean> {
  if (!row.hostId) return true;
  try {
    await runOnHost(env, row.hostId, "deploy.remove", {
      kind: "database",
      owner_id: row.id,
      network: projectNetwork(row.projectId),
      ...(purge ? { volumes: [row.volumeName] } : {}),
    });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status >= 500) return false;
    throw err;
  }
}

/** Deletes a database service; its volume survives unless `purge` (admins only). */
export async function deleteDatabaseService(
  db: Database,
  env: Bindings,
  actor: Caller,
  id: string,
  options: { purge?: boolean } = {},
): Promise<DatabaseRow> {
  const p = actor.principal;
  requireRole(p, "admin", "delete databases");
  const row = await getDatabaseService(db, p, id);
  const removed = await removeDatabaseContainers(env, row, options.purge === true);
  if (!removed && options.purge)
    throw new ApiError(
      503,
      "The database's host is offline: its volume cannot be purged now. Retry when the host is online, or delete without purge.",
    );
  await db.batch([
    db.delete(databaseServices).where(eq(databaseServices.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "database.delete",
        targetType: "database",
        targetId: id,
        metadata: {
          name: row.name,
          engine: row.engine,
          purge: options.purge === true,
          volume: row.volumeName,
          ...(removed ? {} : { container_left_on_offline_host: row.hostId }),
        },
      }),
    ),
  ]);
  return row;
}
