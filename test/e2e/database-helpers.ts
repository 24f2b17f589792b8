// Real database servers for the end-to-end tests: the images scripts/images.sh builds from Debian's
// packages (no registry pull), Pier database services created on them through the API, and the
// engines' own clients run in a throwaway container on the project's network, as an application
// beside the database would connect.
import { fileURLToPath } from "node:url";
import { api, docker, run, unique, waitFor, type Owner } from "./client.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const DATABASE_IMAGES = {
  postgres: "pier-test/postgres:15",
  mariadb: "pier-test/mariadb:10.11",
  // The official mysql image's environment (MYSQL_*) is honoured by the MariaDB image too.
  mysql: "pier-test/mariadb:10.11",
  redis: "pier-test/redis:7",
} as const;
export type TestEngine = keyof typeof DATABASE_IMAGES;

/** Built once per machine (CI builds them before the tests); skipped when present. */
export async function ensureDatabaseImages(): Promise<void> {
  await run("bash", ["scripts/images.sh", "databases"], { cwd: ROOT, timeout: 900_000 });
}

export interface TestDatabase {
  id: string;
  app_name: string;
  engine: TestEngine;
  volume: string;
  host_id: string;
  project_id: string;
  connection: { host: string; port: number; database: string | null; user: string | null; password: string; root_password: string | null };
}

export async function createDatabase(
  owner: Owner,
  body: { project_id: string; engine: TestEngine; host_id?: string; [key: string]: unknown },
): Promise<TestDatabase> {
  const res = await api("/api/v1/databases", {
    token: owner.token,
    body: { name: `${body.engine} db`, app_name: unique(body.engine), image: DATABASE_IMAGES[body.engine], ...body },
  });
  if (res.status !== 201 || res.body.status !== "running")
    throw new Error(`create ${body.engine} database: ${res.status} ${JSON.stringify(res.body)}`);
  const connection = (await api(`/api/v1/databases/${res.body.id}/connection`, { token: owner.token })).body;
  return { ...res.body, engine: body.engine, connection };
}

/** Removes a test database's containers and its volume. */
export async function removeDatabase(owner: Owner, db: Pick<TestDatabase, "id" | "volume">): Promise<void> {
  await api(`/api/v1/databases/${db.id}?purge=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
  const left = await docker("ps", "-aq", "--filter", `label=dev.pier.database=${db.id}`).catch(() => "");
  if (left) await docker("rm", "-f", ...left.split("\n")).catch(() => undefined);
  await docker("volume", "rm", "-f", db.volume).catch(() => undefined);
}

/** The engine's client in a container on the project's network; its standard output. */
async function client(db: TestDatabase, args: string[], env: Record<string, string> = {}): Promise<string> {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return docker("run", "--rm", "--network", `pier-${db.project_id}`, ...envArgs, DATABASE_IMAGES[db.engine], ...args);
}

/** Runs SQL (PostgreSQL, MariaDB/MySQL) as the service's own user; rows as tab-separated lines. */
export function sql(db: TestDatabase, query: string, as: "user" | "root" = "user"): Promise<string> {
  const c = db.connection;
  if (db.engine === "postgres")
    return client(db, ["psql", "-h", c.host, "-U", c.user!, "-d", c.database!, "-v", "ON_ERROR_STOP=1", "-tA", "-F", "\t", "-c", query], {
      PGPASSWORD: c.password,
    });
  if (db.engine === "mariadb" || db.engine === "mysql")
    return client(db, ["mariadb", "-h", c.host, "-u", as === "root" ? "root" : c.user!, "-N", "-B", c.database!, "-e", query], {
      MYSQL_PWD: as === "root" ? c.root_password! : c.password,
    });
  throw new Error(`no SQL for ${db.engine}`);
}

/** redis-cli with the service's password. */
export function redis(db: TestDatabase, ...args: string[]): Promise<string> {
  return client(db, ["redis-cli", "-h", db.connection.host, "--no-auth-warning", "-a", db.connection.password, ...args]);
}

/**
 * Waits until the server answers its clients (the container runs before the server is ready). The
 * guard is generous: on a loaded machine MariaDB has taken over 2 minutes to initialize.
 */
export function waitReady(db: TestDatabase): Promise<unknown> {
  return waitFor(
    `${db.engine} ${db.app_name} to accept connections`,
    async () => (db.engine === "redis" ? (await redis(db, "ping")) === "PONG" : (await sql(db, "SELECT 1")) === "1"),
    { timeout: 240_000, interval: 500 },
  );
}
