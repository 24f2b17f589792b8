import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/wait.ts";
import { startLibsqlServer, type LibsqlServer, type LibsqlServerOptions } from "./server.ts";

let dir: string;
let server: LibsqlServer;
let client: Client;
let dbPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pier-libsql-"));
  dbPath = join(dir, "nested", "dir", "test.db");
  server = await startLibsqlServer({ path: dbPath, port: 0 });
  client = createClient({ url: server.url, intMode: "bigint" });
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Another server, on a file of its own, for tests that need different timeouts or auth. */
async function withServer(opts: Omit<LibsqlServerOptions, "path">, test: (server: LibsqlServer) => Promise<void>): Promise<void> {
  const other = await startLibsqlServer({ path: join(dir, `${crypto.randomUUID()}.db`), port: 0, ...opts });
  try {
    await test(other);
  } finally {
    await other.close();
  }
}

async function post(path: string, body: unknown, opts: { raw?: string; token?: string; base?: string } = {}) {
  const res = await fetch(new URL(path, opts.base ?? server.url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.raw ?? JSON.stringify(body),
  });
  const type = res.headers.get("content-type");
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = type === "application/json" ? JSON.parse(text) : undefined;
  return { status: res.status, type, text, json };
}

const stmt = (sql: string, extra: object = {}) => ({ type: "execute", stmt: { sql, ...extra } });

async function count(table: string, c: Client = client): Promise<number> {
  return Number((await c.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

describe("HTTP surface", () => {
  it("answers health and version probes, and creates the database file", async () => {
    for (const path of ["/", "/health", "/v2", "/v3"]) {
      expect((await fetch(new URL(path, server.url))).status, path).toBe(200);
    }
    // The client probes v3-protobuf when asked for v3; answering 404 makes it fall back to JSON v2.
    expect((await fetch(new URL("/v3-protobuf", server.url))).status).toBe(404);
    expect((await fetch(new URL("/v2/pipeline", server.url))).status).toBe(404);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(existsSync(dbPath)).toBe(true);
  });

  it("answers malformed bodies with a JSON error the client can read", async () => {
    const broken = await post("/v2/pipeline", undefined, { raw: "{nope" });
    expect(broken.status).toBe(400);
    expect(broken.type).toBe("application/json");
    expect(broken.json.message).toMatch(/Malformed JSON/);

    const shapeless = await post("/v2/pipeline", { requests: 5 });
    expect(shapeless.status).toBe(400);
    expect(shapeless.json.message).toMatch(/requests array/);

    const badBaton = await post("/v2/pipeline", { baton: 7, requests: [] });
    expect(badBaton.status).toBe(400);
  });

  it("answers an unknown baton with 400 STREAM_EXPIRED", async () => {
    const res = await post("/v2/pipeline", { baton: "forged", requests: [stmt("SELECT 1")] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: "STREAM_EXPIRED", message: expect.any(String) });
  });

  it("refuses a body over 64 MiB with 413", async () => {
    // A server of its own, so the request goes out on a new connection: building the body blocks
    // the event loop for seconds on a loaded machine, and a kept-alive socket can pass the
    // server's keep-alive timeout meanwhile and be closed under the request (ECONNRESET).
    await withServer({}, async (other) => {
      const res = await post("/v2/pipeline", undefined, { raw: " ".repeat(64 * 1024 * 1024 + 1), base: other.url });
      expect(res.status).toBe(413);
      expect(res.json.message).toMatch(/exceeds/);
    });
  });

  it("requires the bearer token on pipelines when one is configured", async () => {
    await withServer({ authToken: "s3cret" }, async (other) => {
      const body = { requests: [stmt("SELECT 1"), { type: "close" }] };
      expect((await post("/v2/pipeline", body, { base: other.url })).status).toBe(401);
      expect((await post("/v2/pipeline", body, { base: other.url, token: "wrong" })).status).toBe(401);
      expect((await post("/v2/pipeline", body, { base: other.url, token: "s3cret" })).status).toBe(200);
      expect((await fetch(new URL("/v2", other.url))).status).toBe(200);

      const anonymous = createClient({ url: other.url });
      await expect(anonymous.execute("SELECT 1")).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      anonymous.close();
      const authed = createClient({ url: other.url, authToken: "s3cret" });
      expect((await authed.execute("SELECT 41 + 1 AS n")).rows[0]!.n).toBe(42);
      authed.close();
    });
  });
});

describe("Hrana requests", () => {
  it("answers every request with a result of its type, and rotates the baton", async () => {
    const first = await post("/v2/pipeline", {
      baton: null,
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ? + 1 AS n" },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "41" }] } },
        { type: "describe", sql: "SELECT :a AS x, ?3" },
        { type: "describe", sql: "CREATE TABLE IF NOT EXISTS described (x)" },
        { type: "get_autocommit" },
        { type: "sequence", sql: "CREATE TABLE seq_raw (x); INSERT INTO seq_raw VALUES (1);" },
        { type: "close_sql", sql_id: 1 },
        { type: "execute", stmt: { sql_id: 1 } },
        { type: "execute", stmt: { sql: "SELECT 1", want_rows: false } },
        "not an object",
        { type: "teleport" },
      ],
    });
    expect(first.status).toBe(200);
    const { baton, base_url, results } = first.json;
    expect(baton).toEqual(expect.any(String));
    expect(base_url).toBeNull();
    expect(results.map((r: { type: string; response?: { type: string } }) => r.response?.type ?? r.type)).toEqual([
      "store_sql",
      "execute",
      "describe",
      "describe",
      "get_autocommit",
      "sequence",
      "close_sql",
      "error",
      "execute",
      "error",
      "error",
    ]);
    expect(results[1].response.result).toMatchObject({
      cols: [{ name: "n", decltype: null }],
      rows: [[{ type: "integer", value: "42" }]],
      affected_row_count: 0,
      last_insert_rowid: null,
    });
    expect(results[2].response.result).toEqual({
      params: [{ name: ":a" }, { name: null }, { name: "?3" }],
      cols: [
        { name: "x", decltype: null },
        { name: "?3", decltype: null },
      ],
      is_explain: false,
      is_readonly: true,
    });
    expect(results[3].response.result.is_readonly).toBe(false);
    expect(results[4].response.is_autocommit).toBe(true);
    expect(results[7].error.code).toBe("SQL_NOT_FOUND");
    expect(results[8].response.result.rows).toEqual([]);
    expect(results[9].error.code).toBe("PROTOCOL_ERROR");
    expect(results[10].error.message).toMatch(/teleport/);

    const second = await post("/v2/pipeline", { baton, requests: [stmt("SELECT x FROM seq_raw"), { type: "close" }] });
    expect(second.status).toBe(200);
    expect(second.json.results[0].response.result.rows).toEqual([[{ type: "integer", value: "1" }]]);
    expect(second.json.results[1]).toEqual({ type: "ok", response: { type: "close" } });
    expect(second.json.baton).toBeNull();

    // Each baton is good for one request only.
    expect((await post("/v2/pipeline", { baton, requests: [] })).status).toBe(400);
  });

  it("lets autocommit writes commit after an EXPLAIN or describe of a write", async () => {
    await withServer({ busyTimeoutMs: 100 }, async (other) => {
      const c = createClient({ url: other.url });
      await c.execute("CREATE TABLE t (x)");
      const res = await post(
        "/v2/pipeline",
        {
          requests: [
            stmt("EXPLAIN INSERT INTO t VALUES (0)"),
            { type: "describe", sql: "INSERT INTO t VALUES (0)" },
            stmt("INSERT INTO t VALUES (1)"),
          ],
        },
        { base: other.url },
      );
      expect(res.json.results.map((r: { type: string }) => r.type)).toEqual(["ok", "ok", "ok"]);
      // The stream stays open; its write must be committed and its lock released all the same.
      await c.execute("INSERT INTO t VALUES (2)");
      expect(await count("t", c)).toBe(2);
      await post("/v2/pipeline", { baton: res.json.baton, requests: [{ type: "close" }] }, { base: other.url });
      c.close();
    });
  });

  it("refuses requests after close within the same pipeline", async () => {
    const res = await post("/v3/pipeline", { requests: [{ type: "close" }, stmt("SELECT 1")] });
    expect(res.json.baton).toBeNull();
    expect(res.json.results[1]).toMatchObject({ type: "error", error: { code: "STREAM_CLOSED" } });
  });

  it("evaluates batch conditions", async () => {
    const ok = (step: number) => ({ type: "ok", step });
    const error = (step: number) => ({ type: "error", step });
    const step = (condition: unknown, sql = "SELECT 1") => ({ condition, stmt: { sql } });
    const res = await post("/v2/pipeline", {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              step(null), // 0 runs
              step(null, "SELEC 1"), // 1 fails
              step(ok(0)), // 2 runs
              step(ok(1)), // 3 skipped
              step(error(1)), // 4 runs
              step({ type: "not", cond: ok(0) }), // 5 skipped
              step({ type: "and", conds: [ok(0), error(1)] }), // 6 runs
              step({ type: "or", conds: [ok(1), ok(3)] }), // 7 skipped
              step({ type: "is_autocommit" }), // 8 runs
              step(ok(10)), // 9 skipped: a later step has no result yet
              step({ type: "bogus" }), // 10 fails alone
              step(error(10)), // 11 runs
            ],
          },
        },
        { type: "close" },
      ],
    });
    const { step_results, step_errors } = res.json.results[0].response.result;
    const ran = step_results.map((r: unknown) => r !== null);
    const failed = step_errors.map((e: unknown) => e !== null);
    expect(ran).toEqual([true, false, true, false, true, false, true, false, true, false, false, true]);
    expect(failed).toEqual([false, true, false, false, false, false, false, false, false, false, true, false]);
    expect(step_errors[1].code).toBe("SQLITE_ERROR");
  });

  it("streams a batch through /v3/cursor", async () => {
    const res = await post("/v3/cursor", {
      baton: null,
      batch: {
        steps: [
          { stmt: { sql: "SELECT 1 AS a UNION ALL SELECT 2" } },
          { stmt: { sql: "SELEC" } },
          { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 3" } },
        ],
      },
    });
    expect(res.status).toBe(200);
    const lines = res.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ baton: expect.any(String), base_url: null });
    expect(lines.slice(1).map((l) => l.type)).toEqual(["step_begin", "row", "row", "step_end", "step_error"]);
    expect(lines[2].row).toEqual([{ type: "integer", value: "1" }]);
    expect(lines[5]).toMatchObject({ step: 1, error: { code: "SQLITE_ERROR" } });
    const close = await post("/v3/pipeline", { baton: lines[0].baton, requests: [{ type: "close" }] });
    expect(close.json.baton).toBeNull();
  });
});

describe("with @libsql/client", () => {
  it("executes with positional and named arguments", async () => {
    await client.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)");
    const inserted = await client.execute({ sql: "INSERT INTO people (name, age) VALUES (?, ?)", args: ["ada", 36] });
    expect(inserted.rowsAffected).toBe(1);
    expect(inserted.lastInsertRowid).toBe(1n);
    await client.execute({ sql: "INSERT INTO people (name, age) VALUES (:name, $age)", args: { name: "grace", age: 45 } });
    await client.execute({ sql: "INSERT INTO people (name, age) VALUES (@name, @age)", args: { "@name": "alan", "@age": 41 } });

    const rs = await client.execute({ sql: "SELECT name, age FROM people WHERE age > ? ORDER BY id", args: [40] });
    expect(rs.columns).toEqual(["name", "age"]);
    expect(rs.columnTypes).toEqual(["TEXT", "INTEGER"]);
    expect(rs.rows.map((r) => [r.name, r.age])).toEqual([
      ["grace", 45n],
      ["alan", 41n],
    ]);
    expect(rs.rowsAffected).toBe(0);
    expect(rs.lastInsertRowid).toBeUndefined();

    const updated = await client.execute({ sql: "UPDATE people SET age = age + 1 WHERE age > :min", args: { min: 40 } });
    expect(updated.rowsAffected).toBe(2);

    // Named arguments on a statement that also has a nameless parameter (which would crash the
    // engine's own named binding); the nameless one is unbound, hence NULL.
    const mixed = await client.execute({ sql: "SELECT ? AS p, :n AS n, :n + 1 AS m", args: { n: 1n } });
    expect(mixed.rows[0]).toMatchObject({ p: null, n: 1n, m: 2n });
  });

  it("round-trips large integers, floats, text, blobs and nulls", async () => {
    const blob = new Uint8Array([0, 1, 127, 128, 254, 255]);
    const cases: [unknown, string][] = [
      [9007199254740993n, "integer"],
      [9223372036854775807n, "integer"],
      [-9223372036854775808n, "integer"],
      [1.5, "real"],
      [2, "real"],
      ["héllo 🌍", "text"],
      [blob, "blob"],
      [null, "null"],
    ];
    for (const [value, type] of cases) {
      const rs = await client.execute({ sql: "SELECT ? AS v, typeof(?) AS t", args: [value, value] as never });
      const got = rs.rows[0]!;
      expect(got.t, String(value)).toBe(type);
      if (value instanceof Uint8Array) expect(new Uint8Array(got.v as ArrayBuffer)).toEqual(blob);
      else expect(got.v).toEqual(value);
    }

    await client.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER)");
    const ins = await client.execute({ sql: "INSERT INTO big VALUES (?, ?)", args: [9007199254740993n, -9007199254740993n] });
    expect(ins.lastInsertRowid).toBe(9007199254740993n);
    expect((await client.execute("SELECT v FROM big")).rows[0]!.v).toBe(-9007199254740993n);
  });

  it("commits a write batch and rolls back a failing one", async () => {
    await client.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT UNIQUE)");
    const results = await client.batch(
      [
        { sql: "INSERT INTO accounts (owner) VALUES (?)", args: ["a"] },
        "INSERT INTO accounts (owner) VALUES ('b')",
        "SELECT count(*) AS n FROM accounts",
      ],
      "write",
    );
    expect(results).toHaveLength(3);
    expect(results[1]!.lastInsertRowid).toBe(2n);
    expect(results[2]!.rows[0]!.n).toBe(2n);

    await expect(
      client.batch(["INSERT INTO accounts (owner) VALUES ('c')", "INSERT INTO accounts (owner) VALUES ('a')"], "write"),
    ).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT_UNIQUE" });
    expect((await client.execute("SELECT owner FROM accounts ORDER BY id")).rows.map((r) => r.owner)).toEqual(["a", "b"]);
  });

  it("commits and rolls back interactive transactions", async () => {
    await client.execute("CREATE TABLE notes (body TEXT)");
    const kept = await client.transaction("write");
    await kept.execute({ sql: "INSERT INTO notes VALUES (?)", args: ["kept"] });
    expect((await kept.execute("SELECT count(*) AS n FROM notes")).rows[0]!.n).toBe(1n);
    await kept.commit();

    const dropped = await client.transaction("write");
    await dropped.batch(["INSERT INTO notes VALUES ('dropped')", "INSERT INTO notes VALUES ('dropped too')"]);
    expect((await dropped.execute("SELECT count(*) AS n FROM notes")).rows[0]!.n).toBe(3n);
    await dropped.rollback();

    expect((await client.execute("SELECT body FROM notes")).rows.map((r) => r.body)).toEqual(["kept"]);
  });

  it("isolates concurrent transactions on separate streams", async () => {
    await client.batch(
      ["CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER)", "INSERT INTO counters VALUES ('a', 0), ('b', 0)"],
      "write",
    );
    const value = async (c: { execute: Client["execute"] }, name: string) =>
      (await c.execute({ sql: "SELECT value FROM counters WHERE name = ?", args: [name] })).rows[0]!.value;

    const writer = await client.transaction("deferred");
    const reader = await client.transaction("deferred");
    await writer.execute("UPDATE counters SET value = 1 WHERE name = 'a'");
    expect(await value(reader, "a")).toBe(0n);
    expect(await value(client, "a")).toBe(0n);
    await writer.commit();
    // The reader's snapshot predates the commit.
    expect(await value(reader, "a")).toBe(0n);
    await reader.commit();
    expect(await value(client, "a")).toBe(1n);
  });

  it("makes a second writer wait for the first to finish instead of failing", async () => {
    const log: string[] = [];
    await withServer({ log: (line) => log.push(line) }, async (other) => {
      const c = createClient({ url: other.url });
      await c.execute("CREATE TABLE queue (n INTEGER)");
      const first = await c.transaction("write");
      await first.execute("INSERT INTO queue VALUES (1)");

      const second = await c.transaction("write");
      let secondDone = false;
      const pending = second.execute("INSERT INTO queue VALUES (2)").then(() => (secondDone = true));
      await waitFor("the second writer to wait for the lock", () => log.some((l) => l.includes("waiting up to")));
      expect(secondDone).toBe(false);
      // Other streams keep being served while the second one waits.
      expect(await count("queue", c)).toBe(0);

      await first.commit();
      await pending;
      await second.commit();
      expect(await count("queue", c)).toBe(2);
      c.close();
    });
  });

  it("reports a lock held too long as SQLITE_BUSY instead of hanging", async () => {
    const log: string[] = [];
    await withServer({ busyTimeoutMs: 200, log: (line) => log.push(line) }, async (other) => {
      const c = createClient({ url: other.url });
      await c.execute("CREATE TABLE t (x)");
      const holder = await c.transaction("write");
      await holder.execute("INSERT INTO t VALUES (1)");
      await expect(c.execute("INSERT INTO t VALUES (2)")).rejects.toMatchObject({ code: "SQLITE_BUSY" });
      // It waited for the lock before giving up.
      expect(log).toContain("statement waiting up to 200 ms for another stream's write lock");
      await holder.rollback();
      await c.execute("INSERT INTO t VALUES (3)");
      expect(await count("t", c)).toBe(1);
      c.close();
    });
  });

  it("recovers a stream whose statement gave up waiting for a lock", async () => {
    await withServer({ busyTimeoutMs: 100 }, async (other) => {
      const c = createClient({ url: other.url });
      const on = (baton: string | null, requests: unknown[]) => post("/v2/pipeline", { baton, requests }, { base: other.url });
      const outcome = (res: Awaited<ReturnType<typeof on>>) =>
        res.json.results.map((r: { type: string; error?: { code: string } }) => r.error?.code ?? r.type);
      await c.execute("CREATE TABLE t (x)");
      const holder = await c.transaction("write");
      await holder.execute("INSERT INTO t VALUES (1)");

      const autocommit = await on(null, [stmt("INSERT INTO t VALUES (2)")]);
      expect(outcome(autocommit)).toEqual(["SQLITE_BUSY"]);
      const inTx = await on(null, [stmt("BEGIN DEFERRED"), stmt("SELECT count(*) FROM t"), stmt("INSERT INTO t VALUES (3)")]);
      expect(outcome(inTx)).toEqual(["ok", "ok", "SQLITE_BUSY"]);
      await holder.commit();

      // The next autocommit write on the same stream really commits and lets go of the lock.
      expect(outcome(await on(autocommit.json.baton, [stmt("INSERT INTO t VALUES (4)"), { type: "close" }]))).toEqual(["ok", "ok"]);
      expect(await count("t", c)).toBe(2);
      await c.execute("INSERT INTO t VALUES (5)");

      // The lost transaction refuses statements until the client rolls back.
      const after = await on(inTx.json.baton, [
        stmt("SELECT 1"),
        stmt("COMMIT"),
        stmt("ROLLBACK"),
        stmt("INSERT INTO t VALUES (6)"),
        { type: "close" },
      ]);
      expect(outcome(after)).toEqual(["TRANSACTION_ABORTED", "TRANSACTION_ABORTED", "ok", "ok", "ok"]);
      expect(await count("t", c)).toBe(4);
      c.close();
    });
  });

  it("reports SQL errors with their SQLite codes and keeps serving", async () => {
    await client.execute("CREATE TABLE users (email TEXT UNIQUE)");
    await client.execute("INSERT INTO users VALUES ('x@example.com')");
    await expect(client.execute("INSERT INTO users VALUES ('x@example.com')")).rejects.toMatchObject({
      name: "LibsqlError",
      code: "SQLITE_CONSTRAINT_UNIQUE",
      message: expect.stringContaining("UNIQUE constraint failed: users.email"),
    });
    await expect(client.execute("SELEC 1")).rejects.toMatchObject({ code: "SQLITE_ERROR" });
    await expect(client.execute("SELECT * FROM no_such_table")).rejects.toMatchObject({
      code: "SQLITE_ERROR",
      message: expect.stringContaining("no such table"),
    });
    await expect(client.execute("   ")).rejects.toMatchObject({ code: "SQL_NO_STATEMENT" });
    expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1n);
  });

  it("runs executeMultiple as a sequence and migrate as a transaction", async () => {
    await client.executeMultiple("CREATE TABLE seq (x); INSERT INTO seq VALUES (1); INSERT INTO seq VALUES (2);");
    expect(await count("seq")).toBe(2);
    // A sequence stops at the first error; what ran before it stays.
    await expect(client.executeMultiple("INSERT INTO seq VALUES (3); SELEC;")).rejects.toMatchObject({
      code: "SQLITE_ERROR",
    });
    expect(await count("seq")).toBe(3);

    const migrated = await client.migrate(["CREATE TABLE mig (id INTEGER PRIMARY KEY)", "INSERT INTO mig VALUES (7)"]);
    expect(migrated).toHaveLength(2);
    expect((await client.execute("SELECT id FROM mig")).rows[0]!.id).toBe(7n);
    await expect(client.migrate(["CREATE TABLE mig2 (x)", "INSERT INTO nowhere VALUES (1)"])).rejects.toThrow();
    const tables = await client.execute("SELECT name FROM sqlite_schema WHERE name = 'mig2'");
    expect(tables.rows).toHaveLength(0);
  });

  it("runs read transactions (BEGIN TRANSACTION READONLY) and refuses writes in them", async () => {
    await client.execute("CREATE TABLE library (title TEXT)");
    await client.execute("INSERT INTO library VALUES ('dune')");
    const tx = await client.transaction("read");
    expect((await tx.execute("SELECT title FROM library")).rows[0]!.title).toBe("dune");
    await expect(tx.execute("INSERT INTO library VALUES ('emma')")).rejects.toMatchObject({ code: "SQLITE_READONLY" });
    await tx.commit();
    await client.execute("INSERT INTO library VALUES ('emma')");
    expect(await count("library")).toBe(2);

    // The stream writes again once its read transaction ends.
    const res = await post("/v2/pipeline", {
      requests: [
        stmt("BEGIN TRANSACTION READONLY"),
        { type: "get_autocommit" },
        stmt("INSERT INTO library VALUES ('nope')"),
        stmt("COMMIT"),
        stmt("INSERT INTO library VALUES ('faust')"),
        { type: "close" },
      ],
    });
    expect(res.json.results.map((r: { type: string }) => r.type)).toEqual(["ok", "ok", "error", "ok", "ok", "ok"]);
    expect(res.json.results[1].response.is_autocommit).toBe(false);
    expect(await count("library")).toBe(3);
  });

  it("expires an idle stream and rolls back its transaction", async () => {
    const log: string[] = [];
    await withServer({ idleStreamTimeoutMs: 100, busyTimeoutMs: 50, log: (line) => log.push(line) }, async (other) => {
      const c = createClient({ url: other.url });
      await c.execute("CREATE TABLE t (x)");
      const abandoned = await c.transaction("write");
      await abandoned.execute("INSERT INTO t VALUES (1)");
      await waitFor("the idle stream to expire", () => log.some((l) => l.startsWith("stream expired")));
      await expect(abandoned.execute("SELECT 1")).rejects.toMatchObject({ code: "STREAM_EXPIRED" });
      expect(await count("t", c)).toBe(0);
      // The write lock went with it (with a 50 ms busy timeout, a held lock would fail this).
      const next = await c.transaction("write");
      await next.execute("INSERT INTO t VALUES (2)");
      await next.commit();
      expect(await count("t", c)).toBe(1);
      c.close();
    });
  });
});
