// Database and container backups end to end, with real data: `npm start`'s stack, real agents, the
// real Docker engine, real PostgreSQL, MariaDB and Redis servers (the images scripts/images.sh
// builds from Debian's packages), an S3-compatible store (s3rver) and the Worker's R2 bucket.
// Rows written, backed up, the table dropped, restored, read back — into the same service and
// into a new one on another host (a second agent on the same engine under its own host identity);
// Redis keys likewise; a container committed, saved, changed, restored.
import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3, S3_ACCESS_KEY, S3_SECRET_KEY, type TestS3 } from "../fixtures/s3.ts";
import {
  addUser,
  api,
  attachAgent,
  auditEvents,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  TEST_IMAGE,
  unique,
  waitFor,
  waitForStatus,
  type Owner,
  type TestAgent,
} from "./client.ts";
import { createDatabase, ensureDatabaseImages, redis, removeDatabase, sql, type TestDatabase, waitReady } from "./database-helpers.ts";

const FINAL = ["succeeded", "failed", "cancelled"];
/** A guard against hanging: a loaded machine starts a database server slowly (a minute or more). */
const TEST_TIMEOUT = 600_000;

describe.skipIf(!dockerAvailable())("database and container backups", () => {
  let owner: Owner;
  let hostA: Awaited<ReturnType<typeof newHost>>;
  let hostB: Awaited<ReturnType<typeof newHost>>;
  const agents: TestAgent[] = [];
  let projectId: string;
  let s3: TestS3;
  let destinationId: string;
  const made: Array<Pick<TestDatabase, "id" | "volume">> = [];
  const containers: string[] = [];

  beforeAll(async () => {
    await ensureDatabaseImages();
    owner = await newOwner("dbbackup");
    hostA = await newHost(owner);
    hostB = await newHost(owner);
    agents.push(attachAgent(hostA.agent_token), attachAgent(hostB.agent_token));
    await waitForStatus(owner, hostA.id, "online");
    await waitForStatus(owner, hostB.id, "online");
    projectId = (await api("/api/v1/projects", { token: owner.token, body: { name: "backups" } })).body.id;
    s3 = await startS3(["pier-backups"]);
    const destination = await api("/api/v1/backup-destinations", {
      token: owner.token,
      body: {
        name: "s3rver",
        endpoint: s3.endpoint,
        bucket: "pier-backups",
        access_key_id: S3_ACCESS_KEY,
        secret_access_key: S3_SECRET_KEY,
        prefix: "e2e",
      },
    });
    expect(destination.status, JSON.stringify(destination.body)).toBe(201);
    destinationId = destination.body.id;
  }, 900_000);

  afterAll(async () => {
    for (const db of made) await removeDatabase(owner, db);
    for (const name of containers) {
      await docker("rm", "-f", name).catch(() => undefined);
      // The image a restore loaded and ran the container from (pier-backup/<name>:<time>).
      const images = await docker("images", "-q", `pier-backup/${name}`).catch(() => "");
      if (images) await docker("rmi", "-f", ...new Set(images.split("\n"))).catch(() => undefined);
    }
    await api(`/api/v1/projects/${projectId}?force=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    await docker("network", "rm", `pier-${projectId}`).catch(() => undefined);
    for (const { agent } of agents) await agent.stop();
    await s3?.close();
  });

  const task = (id: string) =>
    waitFor(
      `task ${id} to finish`,
      async () => {
        const res = await api(`/api/v1/tasks/${id}`, { token: owner.token });
        return FINAL.includes(res.body?.status) ? res.body : undefined;
      },
      { timeout: 300_000, interval: 250 },
    );

  async function backUp(target: Record<string, unknown>, destination?: string) {
    const res = await api("/api/v1/backups", {
      token: owner.token,
      body: { target, ...(destination ? { destination_id: destination } : {}) },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await task(res.body.task_id);
    expect(done.status, JSON.stringify(done)).toBe("succeeded");
    const backup = (await api(`/api/v1/backups/${res.body.backup.id}`, { token: owner.token })).body;
    expect(backup).toMatchObject({ status: "succeeded", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    return backup;
  }

  async function restore(backupId: string, into: Record<string, unknown>, token = owner.token) {
    const res = await api(`/api/v1/backups/${backupId}/restore`, { token, body: { into } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return task(res.body.task_id);
  }

  const database = async (engine: TestDatabase["engine"], body: Record<string, unknown> = {}) => {
    const db = await createDatabase(owner, { project_id: projectId, engine, host_id: hostA.id, ...body });
    made.push(db);
    await waitReady(db);
    return db;
  };

  it(
    "PostgreSQL to an S3-compatible store: dropped table restored in place, and into a new service on another host",
    async () => {
      const db = await database("postgres");
      await sql(
        db,
        "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 1000) g",
      );

      const backup = await backUp({ kind: "database", database_id: db.id }, destinationId);
      expect(backup).toMatchObject({ format: "pg_dump", engine_version: expect.stringMatching(/^15\./), destination_id: destinationId });

      await sql(db, "DROP TABLE orders");
      const same = await restore(backup.id, { kind: "same" });
      expect(same.status, JSON.stringify(same)).toBe("succeeded");
      expect(await sql(db, "SELECT count(*), max(id) FROM orders")).toBe("1000\t1000");

      // Another admin restores it into a new service: the service is theirs, not the original's creator's.
      const admin = await addUser(owner, "admin");
      const adminId = (await api("/api/v1/me", { token: admin })).body.id as string;
      const name = unique("pg-copy");
      const copy = await restore(backup.id, { kind: "new", name, host_id: hostB.id }, admin);
      expect(copy.status, JSON.stringify(copy)).toBe("succeeded");
      const newId = copy.result.restored.database_id as string;
      const createdEvent = (await auditEvents(owner, "database.create")).find((e) => e.target_id === newId);
      expect(createdEvent).toMatchObject({ actor_type: "user", actor_id: adminId });
      const created = (await api(`/api/v1/databases/${newId}`, { token: owner.token })).body;
      made.push({ id: newId, volume: created.volume });
      expect(created).toMatchObject({ engine: "postgres", host_id: hostB.id, status: "running" });
      const connection = (await api(`/api/v1/databases/${newId}/connection`, { token: owner.token })).body;
      const restored: TestDatabase = {
        ...db,
        id: newId,
        app_name: created.app_name,
        volume: created.volume,
        host_id: hostB.id,
        connection,
      };
      expect(await sql(restored, "SELECT count(*), min(item) FROM orders")).toBe("1000\titem 1");
      // Its own credentials, not the original's.
      expect(connection.password).not.toBe(db.connection.password);
    },
    TEST_TIMEOUT,
  );

  it(
    "MariaDB to the Worker's R2 bucket: dropped table restored",
    async () => {
      const db = await database("mariadb");
      await sql(
        db,
        "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'first'), (2, 'second'), (3, 'naïve café')",
      );
      const backup = await backUp({ kind: "database", database_id: db.id });
      expect(backup).toMatchObject({ format: "mariadb-dump", destination_id: "default", engine_version: expect.stringMatching(/^10\.11/) });

      await sql(db, "DROP TABLE notes");
      const done = await restore(backup.id, { kind: "same" });
      expect(done.status, JSON.stringify(done)).toBe("succeeded");
      expect(await sql(db, "SELECT GROUP_CONCAT(body ORDER BY id SEPARATOR '|') FROM notes")).toBe("first|second|naïve café");

      // Into a new service, restored as soon as it is made: the version probe (over TCP) waits for
      // the real server, not the one that initialises the data directory.
      const copy = await restore(backup.id, { kind: "new", name: unique("maria-copy"), host_id: hostA.id });
      expect(copy.status, JSON.stringify(copy)).toBe("succeeded");
      const newId = copy.result.restored.database_id as string;
      const created = (await api(`/api/v1/databases/${newId}`, { token: owner.token })).body;
      made.push({ id: newId, volume: created.volume });
      expect(created).toMatchObject({ engine: "mariadb", status: "running" });
      const connection = (await api(`/api/v1/databases/${newId}/connection`, { token: owner.token })).body;
      const restored: TestDatabase = { ...db, id: newId, app_name: created.app_name, volume: created.volume, connection };
      expect(await sql(restored, "SELECT GROUP_CONCAT(body ORDER BY id SEPARATOR '|') FROM notes")).toBe("first|second|naïve café");
      expect(connection.password).not.toBe(db.connection.password);

      // A dump that fails half-way (left in the S3 store as another Pier would have, found by a
      // scan): the restore fails and the database is as it was, not half restored.
      const broken = new TextEncoder().encode(
        [
          "-- MariaDB dump",
          `-- Server version\t${backup.engine_version}`,
          "DROP TABLE IF EXISTS `notes`;",
          "CREATE TABLE `notes` (id INT PRIMARY KEY, body TEXT);",
          "INSERT INTO `notes` VALUES (1, 'half');",
          "CREATE TABLE `stray` (x INT);",
          "THIS IS NOT SQL;",
          "",
        ].join("\n"),
      );
      const id = `bak_${unique("broken")
        .replace(/[^a-z0-9]/g, "")
        .slice(0, 20)
        .padEnd(20, "0")}`;
      const key = `e2e/pier/${owner.organizationId}/database/${db.id}/20261130T000000Z-${id}.sql`;
      const s3client = new AwsClient({ accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY, service: "s3", region: "us-east-1" });
      const put = (k: string, body: Uint8Array<ArrayBuffer> | string) =>
        s3client.fetch(`${s3.endpoint}/pier-backups/${k}`, { method: "PUT", body });
      expect((await put(key, broken)).ok).toBe(true);
      const manifest = {
        pier_backup: 1,
        id,
        organization_id: owner.organizationId,
        target: { kind: "database", id: db.id, host_id: hostA.id, label: `mariadb database ${db.id}` },
        format: "mariadb-dump",
        engine_version: backup.engine_version,
        size: broken.length,
        sha256: createHash("sha256").update(broken).digest("hex"),
        encryption: "none",
        created: "2026-11-30T00:00:00.000Z",
        finished: "2026-11-30T00:00:01.000Z",
      };
      expect((await put(`${key}.manifest.json`, JSON.stringify(manifest))).ok).toBe(true);
      const scanned = await api("/api/v1/backups/scan", { token: owner.token, body: { destination_id: destinationId } });
      expect(scanned.body.imported.map((b: { id: string }) => b.id)).toContain(id);
      const failed = await restore(id, { kind: "same" });
      expect(failed).toMatchObject({ status: "failed", message: expect.stringMatching(/put back as it was before the restore/) });
      expect(await sql(db, "SELECT GROUP_CONCAT(body ORDER BY id SEPARATOR '|') FROM notes")).toBe("first|second|naïve café");
      expect(await sql(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'stray'")).toBe(
        "0",
      );
    },
    TEST_TIMEOUT,
  );

  it(
    "Redis to an S3-compatible store: flushed keys restored, and they outlive a restart",
    async () => {
      const db = await database("redis");
      await redis(db, "SET", "greeting", "hello");
      await redis(db, "HSET", "user:1", "name", "Ada");
      const backup = await backUp({ kind: "database", database_id: db.id }, destinationId);
      expect(backup).toMatchObject({ format: "redis-rdb", engine_version: expect.stringMatching(/^7\./) });

      await redis(db, "FLUSHALL");
      const done = await restore(backup.id, { kind: "same" });
      expect(done.status, JSON.stringify(done)).toBe("succeeded");
      expect(await redis(db, "GET", "greeting")).toBe("hello");
      expect(await redis(db, "HGET", "user:1", "name")).toBe("Ada");
      expect((await api(`/api/v1/databases/${db.id}/restart`, { token: owner.token, method: "POST" })).body.status).toBe("running");
      await waitFor("the keys after a restart", async () => (await redis(db, "GET", "greeting").catch(() => "")) === "hello", {
        timeout: 60_000,
        interval: 250,
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "a container: committed and saved, changed, restored in place as it ran",
    async () => {
      const name = unique("keeper");
      containers.push(name);
      await docker("run", "-d", "--name", name, "--label", "dev.pier.e2e=backups", TEST_IMAGE, "httpd", "-f", "-p", "8080", "-h", "/www");
      // In the container's own layer: only a commit keeps it.
      await docker("exec", name, "sh", "-c", "echo original > /www/state");
      const backup = await backUp({ kind: "container", host_id: hostA.id, id: name }, destinationId);
      expect(backup).toMatchObject({ format: "docker-image" });
      // The image made for the backup does not stay behind.
      expect(await docker("images", "-q", `pier-backup/${name}`)).toBe("");

      await docker("exec", name, "sh", "-c", "echo changed > /www/state");
      const done = await restore(backup.id, { kind: "same" });
      expect(done.status, JSON.stringify(done)).toBe("succeeded");
      expect(await docker("exec", name, "cat", "/www/state")).toBe("original");
      expect(await docker("ps", "-aq", "--filter", `name=${name}-before-restore`)).toBe("");
      // It runs the image the restore loaded; a later restore replaces that image rather than
      // leaving one behind per restore.
      const images = () => docker("images", "--format", "{{.Repository}}:{{.Tag}}", `pier-backup/${name}`);
      const loaded = await images();
      expect(loaded.split("\n")).toHaveLength(1);
      await docker("exec", name, "sh", "-c", "echo second > /www/state");
      const second = await backUp({ kind: "container", host_id: hostA.id, id: name }, destinationId);
      const again = await restore(second.id, { kind: "same" });
      expect(again.status, JSON.stringify(again)).toBe("succeeded");
      expect(await docker("exec", name, "cat", "/www/state")).toBe("second");
      const now = await images();
      expect(now.split("\n")).toHaveLength(1);
      expect(now).not.toBe(loaded);
    },
    TEST_TIMEOUT,
  );
});
