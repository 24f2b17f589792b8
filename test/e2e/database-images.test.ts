// Pier's database services on real servers: the test images scripts/images.sh builds from Debian's
// packages. Each engine's service is created through the API exactly as for the official image
// (only `image` differs), and a client on the project's network signs in with the credentials
// the API reveals — proof that the images' entrypoints honour the official images' environment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, attachAgent, docker, dockerAvailable, newHost, newOwner, waitForStatus, type Owner, type TestAgent } from "./client.ts";
import { createDatabase, ensureDatabaseImages, redis, removeDatabase, sql, type TestDatabase, waitReady } from "./database-helpers.ts";

describe.skipIf(!dockerAvailable())("database services on the test images", () => {
  let owner: Owner;
  let agent: TestAgent;
  let projectId: string;
  const made: TestDatabase[] = [];

  beforeAll(async () => {
    await ensureDatabaseImages();
    owner = await newOwner("dbimages");
    const host = await newHost(owner);
    agent = attachAgent(host.agent_token);
    await waitForStatus(owner, host.id, "online");
    projectId = (await api("/api/v1/projects", { token: owner.token, body: { name: "db images" } })).body.id;
  }, 900_000);

  afterAll(async () => {
    for (const db of made) await removeDatabase(owner, db);
    await api(`/api/v1/projects/${projectId}?force=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    await docker("network", "rm", `pier-${projectId}`).catch(() => undefined);
    await agent?.agent.stop();
  });

  const create = async (engine: TestDatabase["engine"], body: Record<string, unknown> = {}) => {
    const db = await createDatabase(owner, { project_id: projectId, engine, ...body });
    made.push(db);
    await waitReady(db);
    return db;
  };

  it("PostgreSQL: the user, password and database from POSTGRES_*; password sign-in over the network", async () => {
    const db = await create("postgres", { database_name: "shop", database_user: "shopper" });
    expect(await sql(db, "SELECT current_user, current_database(), split_part(current_setting('server_version'), '.', 1)")).toBe(
      "shopper\tshop\t15",
    );
    // A wrong password is refused over the network (scram-sha-256, as the official image's default).
    await expect(sql({ ...db, connection: { ...db.connection, password: "wrong" } }, "SELECT 1")).rejects.toThrow(
      /password authentication failed/,
    );
    // The data lives in the service's volume, mounted where the official image keeps PGDATA.
    expect(await docker("exec", db.app_name, "cat", "/var/lib/postgresql/data/PG_VERSION")).toBe("15");
  });

  it("MariaDB: root, the database and its user from MARIADB_*", async () => {
    const db = await create("mariadb");
    expect(await sql(db, "SELECT current_user(), database()")).toBe(`${db.connection.user}@%\t${db.connection.database}`);
    await sql(db, "CREATE TABLE t (n INT); INSERT INTO t VALUES (7)");
    expect(await sql(db, "SELECT n FROM t")).toBe("7");
    // Root signs in with its own password from anywhere, and not without it.
    expect(await sql(db, "SELECT COUNT(*) FROM mysql.user WHERE user = 'root'", "root")).toBe("2");
    await expect(sql({ ...db, connection: { ...db.connection, root_password: "wrong" } }, "SELECT 1", "root")).rejects.toThrow(
      /Access denied/,
    );
  });

  it("MySQL services (MYSQL_* variables) run on the MariaDB image", async () => {
    const db = await create("mysql", { database_name: "legacy" });
    expect(await sql(db, "SELECT database()")).toBe("legacy");
    expect(await sql(db, "SELECT 1", "root")).toBe("1");
  });

  it("Redis: Pier's command (password, append-only file) in /data", async () => {
    const db = await create("redis");
    expect(await redis(db, "SET", "greeting", "hello")).toBe("OK");
    expect(await redis(db, "GET", "greeting")).toBe("hello");
    expect(await redis(db, "CONFIG", "GET", "appendonly")).toBe("appendonly\nyes");
    // Without the password nothing is served.
    const anonymous = await docker(
      "run",
      "--rm",
      "--network",
      `pier-${projectId}`,
      "pier-test/redis:7",
      "redis-cli",
      "-h",
      db.app_name,
      "GET",
      "greeting",
    );
    expect(anonymous).toMatch(/NOAUTH/);
    expect(await docker("exec", db.app_name, "ls", "/data/appendonlydir")).toMatch(/appendonly\.aof/);

    // A restart recreates the container on the same volume (its own container is not a name clash).
    const restarted = await api(`/api/v1/databases/${db.id}/restart`, { token: owner.token, method: "POST" });
    expect(restarted.body.status, JSON.stringify(restarted.body)).toBe("running");
    await waitReady(db);
    expect(await redis(db, "GET", "greeting")).toBe("hello");
  });
});
