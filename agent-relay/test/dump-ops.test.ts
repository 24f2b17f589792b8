// Database dumps and restores against real servers (the images scripts/images.sh builds from
// Debian's packages), the agent's ops called directly with the relay's transfer replaced by a
// file: rows written, dumped, the table dropped, restored, read back; Redis keys likewise, with
// append-only on as Pier runs it. Failures: a dump too new for its target, a missing tool, a
// wrong password (MariaDB's: PostgreSQL's images trust connections over the local socket).
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkWriter } from "../src/chunker.ts";
import { DockerClient } from "../src/docker/client.ts";
import { handlers, type OpContext } from "../src/ops/index.ts";
import { OPS, type OpArgs, type OpResult } from "../src/protocol.ts";
import type { DownloadSink, UploadSource } from "../src/transfer.ts";
import { waitFor } from "../../test/support/wait.ts";
import { failure } from "./op-failure.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const available = await requireDocker("agent-relay/test/dump-ops.test.ts");
const docker = new DockerClient({ host: process.env.DOCKER_HOST });
const cli = (...args: string[]) => exec("docker", args, { timeout: 60_000 }).then((r) => r.stdout.trim());

type DumpArgs = OpArgs<"database.dump">;
/** A guard against hanging: a loaded machine starts a database server slowly. */
const TEST_TIMEOUT = 300_000;

function context(extra: { download?: DownloadSink; upload?: UploadSource }): OpContext {
  const signal = AbortSignal.timeout(300_000);
  const output = new ChunkWriter({ send: () => true, buffered: () => 0, signal, flushMs: 1 });
  return { docker, signal, output, stats: { all: () => [] }, ...extra } as OpContext;
}

/** database.dump into a file, as the relay's download would carry it. */
async function dump(
  args: DumpArgs,
  file: string,
): Promise<{ result: OpResult<"database.dump">; meta: Record<string, unknown> | undefined }> {
  const out = createWriteStream(file);
  let meta: Record<string, unknown> | undefined;
  const download: DownloadSink = {
    start: (m) => {
      meta ??= m ?? {};
    },
    async send(source) {
      let bytes = 0;
      for await (const piece of source) {
        bytes += piece.length;
        if (!out.write(piece)) await once(out, "drain");
      }
      return bytes;
    },
  };
  try {
    const result = (await handlers["database.dump"](
      OPS["database.dump"].args.parse(args),
      context({ download }),
    )) as OpResult<"database.dump">;
    return { result, meta };
  } finally {
    out.end();
    await finished(out);
  }
}

/** database.restore from a file, as the relay's upload would feed it. */
async function restore(args: OpArgs<"database.restore">, file: string): Promise<OpResult<"database.restore">> {
  const stream = createReadStream(file);
  const upload = Object.defineProperty(stream, "received", { get: () => stream.bytesRead }) as unknown as UploadSource;
  try {
    return (await handlers["database.restore"](
      OPS["database.restore"].args.parse(args),
      context({ upload }),
    )) as OpResult<"database.restore">;
  } finally {
    stream.destroy();
  }
}

describe.skipIf(!available.available)("database dumps and restores on real servers", () => {
  const tag = randomUUID().slice(0, 8);
  const label = `dev.pier.test=dumps-${tag}`;
  let dir: string;

  beforeAll(async () => {
    await exec("bash", ["scripts/images.sh", "databases"], { cwd: ROOT, timeout: 900_000 });
    await docker.negotiateApiVersion(AbortSignal.timeout(10_000));
    dir = await mkdtemp(join(tmpdir(), "pier-dumps-"));
  }, 900_000);

  afterAll(async () => {
    const ids = await cli("ps", "-aq", "--filter", `label=${label}`).catch(() => "");
    if (ids) await cli("rm", "-f", "-v", ...ids.split("\n")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await docker.close();
  });

  const start = async (name: string, image: string, env: Record<string, string>, cmd: string[] = []) => {
    const container = `pier-dumps-${name}-${tag}`;
    await cli(
      "run",
      "-d",
      "--name",
      container,
      "--label",
      label,
      ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      image,
      ...cmd,
    );
    return container;
  };

  it(
    "PostgreSQL: pg_dump -Fc out, the table dropped, pg_restore in, the rows back; a dump from a newer major refused",
    async () => {
      const container = await start("pg", "pier-test/postgres:15", {
        POSTGRES_USER: "shopper",
        POSTGRES_PASSWORD: "pg-secret",
        POSTGRES_DB: "shop",
      });
      const psql = (sql: string) =>
        cli("exec", "-e", "PGPASSWORD=pg-secret", container, "psql", "-h", "127.0.0.1", "-U", "shopper", "-d", "shop", "-tA", "-c", sql);
      await waitFor("postgres to accept connections", async () => (await psql("SELECT 1").catch(() => "")) === "1", {
        timeout: 120_000,
        interval: 250,
      });
      await psql(
        "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 500) g",
      );

      const args = { container, engine: "postgres", database: "shop", user: "shopper", password: "pg-secret" } as const;
      const file = join(dir, "shop.dump");
      const { result, meta } = await dump(args, file);
      expect(result).toMatchObject({
        engine: "postgres",
        format: "pg_dump",
        extension: "dump",
        server_version: expect.stringMatching(/^15\./),
      });
      expect(meta).toMatchObject({ format: "pg_dump", server_version: result.server_version });
      const bytes = await readFile(file);
      expect(bytes.subarray(0, 5).toString()).toBe("PGDMP");
      expect(result.bytes).toBe(bytes.length);

      await psql("DROP TABLE orders");
      const restored = await restore(args, file);
      expect(restored).toMatchObject({ engine: "postgres", bytes: bytes.length, source_version: result.server_version });
      expect(await psql("SELECT count(*), max(item) FROM orders")).toBe("500|item 99");

      // The same dump as if PostgreSQL 16 had made it: refused before anything changes.
      const newer = Buffer.from(bytes.toString("latin1").replace(/15\.(\d+) \(Debian 15\./, "16.$1 (Debian 16."), "latin1");
      const newerFile = join(dir, "newer.dump");
      await writeFile(newerFile, newer);
      await psql("INSERT INTO orders VALUES (501, 'after the backup')");
      const refused = await failure(restore(args, newerFile));
      expect(refused).toMatchObject({
        code: "conflict",
        message: expect.stringMatching(/PostgreSQL 16\.\d+.*PostgreSQL 15\..*older major version/),
      });
      expect(await psql("SELECT count(*) FROM orders")).toBe("501");
    },
    TEST_TIMEOUT,
  );

  it(
    "MariaDB: mariadb-dump --single-transaction out, the table dropped, piped back in",
    async () => {
      const container = await start("maria", "pier-test/mariadb:10.11", {
        MARIADB_ROOT_PASSWORD: "root-secret",
        MARIADB_DATABASE: "shop",
        MARIADB_USER: "shopper",
        MARIADB_PASSWORD: "user-secret",
      });
      const sql = (query: string) =>
        cli("exec", "-e", "MYSQL_PWD=user-secret", container, "mariadb", "-h", "127.0.0.1", "-ushopper", "-N", "-B", "shop", "-e", query);
      await waitFor("mariadb to accept connections", async () => (await sql("SELECT 1").catch(() => "")) === "1", {
        timeout: 120_000,
        interval: 250,
      });
      await sql(
        "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(64)); INSERT INTO orders VALUES (1, 'tea'), (2, 'coffee'), (3, 'água')",
      );

      const args = {
        container,
        engine: "mariadb",
        database: "shop",
        user: "shopper",
        password: "user-secret",
        root_password: "root-secret",
      } as const;
      const file = join(dir, "shop.sql");
      const { result } = await dump(args, file);
      expect(result).toMatchObject({
        engine: "mariadb",
        format: "mariadb-dump",
        extension: "sql",
        server_version: expect.stringMatching(/^10\.11\..*MariaDB/),
      });
      expect(await readFile(file, "utf8")).toContain("CREATE TABLE `orders`");

      await sql("DROP TABLE orders");
      const restored = await restore(args, file);
      expect(restored.source_version).toBe(result.server_version);
      expect(await sql("SELECT GROUP_CONCAT(item ORDER BY id) FROM orders")).toBe("tea,coffee,água");

      // Without root's password, as the service's own user.
      const asUser = await dump({ ...args, root_password: undefined }, join(dir, "user.sql"));
      expect(asUser.result.bytes).toBeGreaterThan(0);

      // A wrong password: the tool's own words, and what to check.
      const denied = await failure(dump({ ...args, root_password: "wrong" }, join(dir, "denied.sql")));
      expect(denied).toMatchObject({ code: "tool_failed", message: expect.stringMatching(/could not sign in.*Access denied/s) });
    },
    TEST_TIMEOUT,
  );

  it(
    "Redis: a fresh snapshot out (append-only on), the keys flushed, the snapshot back as the AOF's base",
    async () => {
      const container = await start("redis", "pier-test/redis:7", { REDIS_PASSWORD: "redis-secret" }, [
        "sh",
        "-c",
        'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes',
      ]);
      const redis = (...args: string[]) =>
        cli("exec", "-e", "REDISCLI_AUTH=redis-secret", container, "redis-cli", "--no-auth-warning", ...args);
      await waitFor("redis to answer", async () => (await redis("PING").catch(() => "")) === "PONG", { timeout: 60_000, interval: 250 });
      await redis("SET", "greeting", "hello");
      await redis("HSET", "user:1", "name", "Ada", "lang", "en");
      await redis("RPUSH", "queue", "a", "b", "c");

      const args = { container, engine: "redis", password: "redis-secret" } as const;
      const file = join(dir, "cache.rdb.tar");
      const { result } = await dump(args, file);
      expect(result).toMatchObject({ engine: "redis", format: "redis-rdb", server_version: expect.stringMatching(/^7\./) });
      const tar = await readFile(file);
      expect(tar.subarray(512, 517).toString()).toBe("REDIS");

      await redis("FLUSHALL");
      await redis("SET", "after", "the backup");
      const restored = await restore(args, file);
      expect(restored.source_version).toBe(result.server_version);
      expect(await redis("GET", "greeting")).toBe("hello");
      expect(await redis("HGET", "user:1", "name")).toBe("Ada");
      expect(await redis("LRANGE", "queue", "0", "-1")).toBe("a\nb\nc");
      expect(await redis("EXISTS", "after")).toBe("0");
      // It survives a restart: the restored data is what the append-only file now holds, and the
      // previous manifest is kept beside it.
      await cli("restart", container);
      await waitFor("redis to answer again", async () => (await redis("GET", "greeting").catch(() => "")) === "hello", {
        timeout: 60_000,
        interval: 250,
      });
      expect(await cli("exec", container, "ls", "/data/appendonlydir")).toContain("appendonly.aof.manifest.before-restore");
    },
    TEST_TIMEOUT,
  );

  it(
    "says which tool is missing, and that a stopped database must be started",
    async () => {
      const container = await start("busybox", TEST_IMAGE, {}, ["sleep", "600"]);
      const missing = await failure(dump({ container, engine: "postgres", database: "x", user: "x" }, join(dir, "none.dump")));
      expect(missing).toMatchObject({ code: "tool_missing", message: expect.stringMatching(/psql is not in the database's image/) });
      await cli("stop", "-t", "0", container);
      const stopped = await failure(dump({ container, engine: "redis" }, join(dir, "none.rdb")));
      expect(stopped).toMatchObject({ message: expect.stringMatching(/is not running: start the database/) });
    },
    TEST_TIMEOUT,
  );
});
