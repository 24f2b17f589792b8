import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "libsql";
import {
  HranaError,
  isObject,
  type BatchResult,
  type Col,
  type DescribeResult,
  type ProtoError,
  type StmtResult,
  type StreamResponse,
  type StreamResult,
} from "./proto.ts";
import { decodeValue, encodeValue, type SqlValue } from "./values.ts";

type Connection = Database.Database;

// libSQL syntax that plain SQLite rejects (this engine parses it but does not enforce it).
const READONLY_BEGIN = /^\s*BEGIN\s+(?:TRANSACTION\s+READONLY|READONLY(?:\s+TRANSACTION)?)\s*;?\s*$/i;
const ROLLBACK = /^\s*ROLLBACK(?:\s+TRANSACTION)?\s*;?\s*$/i;
const EXPLAIN_PREFIX = /^\s*EXPLAIN(?:\s+QUERY\s+PLAN)?\s/i;

/** One Hrana stream: a database connection of its own, so its transactions are isolated. */
export class Stream {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #sqls = new Map<number, string>();
  #db: Connection;
  #readonlyTx = false;
  #abortedTx = false;
  #closed = false;

  readonly #log: (line: string) => void;

  constructor(path: string, busyTimeoutMs: number, log: (line: string) => void = () => {}) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#log = log;
    this.#db = openConnection(path);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeConnection(this.#db);
  }

  async handle(request: unknown): Promise<StreamResult> {
    try {
      return { type: "ok", response: await this.#dispatch(request) };
    } catch (e) {
      return { type: "error", error: toProtoError(e) };
    }
  }

  async #dispatch(req: unknown): Promise<StreamResponse> {
    if (!isObject(req)) throw protocolError("a request must be an object");
    if (this.#closed) throw new HranaError("The stream is closed", "STREAM_CLOSED");
    switch (req.type) {
      case "close":
        this.close();
        return { type: "close" };
      case "execute":
        return { type: "execute", result: await this.#execute(req.stmt) };
      case "batch":
        return { type: "batch", result: await this.batch(req.batch) };
      case "sequence":
        this.#sequence(this.#sqlOf(req));
        return { type: "sequence" };
      case "describe":
        return { type: "describe", result: this.#describe(this.#sqlOf(req)) };
      case "store_sql":
        if (typeof req.sql_id !== "number" || typeof req.sql !== "string") {
          throw protocolError("store_sql needs a numeric sql_id and an sql string");
        }
        if (this.#sqls.has(req.sql_id)) throw protocolError(`SQL text ${req.sql_id} is already stored`);
        this.#sqls.set(req.sql_id, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        if (typeof req.sql_id === "number") this.#sqls.delete(req.sql_id);
        return { type: "close_sql" };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !this.#db.inTransaction };
      default:
        throw protocolError(`unknown request type ${JSON.stringify(req.type)}`);
    }
  }

  async batch(batch: unknown): Promise<BatchResult> {
    if (!isObject(batch) || !Array.isArray(batch.steps)) throw protocolError("a batch needs a steps array");
    const result: BatchResult = { step_results: [], step_errors: [] };
    for (const step of batch.steps) {
      let stepResult: StmtResult | null = null;
      let stepError: ProtoError | null = null;
      // A malformed step fails alone, so the client's own ROLLBACK step still runs.
      try {
        if (!isObject(step)) throw protocolError("a batch step must be an object");
        if (step.condition == null || this.#holds(step.condition, result)) {
          stepResult = await this.#execute(step.stmt);
        }
      } catch (e) {
        stepError = toProtoError(e);
      }
      result.step_results.push(stepResult);
      result.step_errors.push(stepError);
    }
    return result;
  }

  #holds(cond: unknown, done: BatchResult): boolean {
    if (!isObject(cond)) throw protocolError("a batch condition must be an object");
    switch (cond.type) {
      case "ok":
        return done.step_results[stepIndex(cond.step)] != null;
      case "error":
        return done.step_errors[stepIndex(cond.step)] != null;
      case "not":
        return !this.#holds(cond.cond, done);
      case "and":
        return condList(cond.conds).every((c) => this.#holds(c, done));
      case "or":
        return condList(cond.conds).some((c) => this.#holds(c, done));
      case "is_autocommit":
        return !this.#db.inTransaction;
      default:
        throw protocolError(`unknown condition type ${JSON.stringify(cond.type)}`);
    }
  }

  async #execute(stmt: unknown): Promise<StmtResult> {
    if (!isObject(stmt)) throw protocolError("a statement must be an object");
    const sql = this.#sqlOf(stmt);
    if (this.#abortedTx) return this.#afterAbortedTx(sql);
    const prepared = this.#db.prepare(READONLY_BEGIN.test(sql) ? "BEGIN DEFERRED" : sql);
    const args = this.#bindings(stmt, sql);
    const wantRows = stmt.want_rows !== false;
    // Retries re-run the same statement object, which resets it first (see #retryWhileBusy).
    return this.#retryWhileBusy(() => this.#run(prepared, sql, args, wantRows));
  }

  #run(stmt: Database.Statement, sql: string, args: SqlValue[], wantRows: boolean): StmtResult {
    try {
      const [, , totalBefore] = this.#counters();
      const start = performance.now();
      const rows = stmt.reader ? allRows(stmt, args, EXPLAIN_PREFIX.test(sql)) : (stmt.run(args), []);
      const queryDurationMs = performance.now() - start;
      const [changes, lastRowid, totalAfter] = this.#counters();
      if (READONLY_BEGIN.test(sql)) this.#enterReadonly();
      // changes() and last_insert_rowid() keep their values across statements that write nothing;
      // like sqld, report them only for a statement that did write.
      const wrote = totalAfter !== totalBefore;
      const affected = wrote ? Number(changes) : 0;
      return {
        cols: stmt.reader ? stmt.columns().map(toCol) : [],
        rows: wantRows ? rows.map((row) => row.map(encodeValue)) : [],
        affected_row_count: affected,
        last_insert_rowid: wrote ? String(lastRowid) : null,
        // The engine exposes no scan counters; these are the closest honest figures.
        rows_read: rows.length,
        rows_written: affected,
        query_duration_ms: queryDurationMs,
      };
    } finally {
      this.#leaveReadonlyIfDone();
    }
  }

  #counters(): bigint[] {
    return this.#db.prepare("SELECT changes(), last_insert_rowid(), total_changes()").raw().get() as bigint[];
  }

  #sequence(sql: string): void {
    if (this.#abortedTx) {
      this.#afterAbortedTx(sql);
      return;
    }
    // Not retried when busy: the statements before the busy one have already run.
    try {
      this.#db.exec(sql);
    } finally {
      this.#leaveReadonlyIfDone();
    }
  }

  #describe(sql: string): DescribeResult {
    const { params, writes } = this.#analyze(sql);
    const isExplain = EXPLAIN_PREFIX.test(sql);
    return {
      params: params.map((name) => ({ name })),
      cols: this.#db.prepare(sql).columns().map(toCol),
      is_explain: isExplain,
      is_readonly: isExplain || !writes,
    };
  }

  /**
   * The engine has no API for a statement's parameters or read-only-ness, but its compiled program
   * tells both: each parameter is a Variable opcode (P1 its index, P4 its name), and a write opens
   * a Transaction with P2 nonzero.
   */
  #analyze(sql: string): { params: (string | null)[]; writes: boolean } {
    const program = allRows(this.#db.prepare(`EXPLAIN ${sql.replace(EXPLAIN_PREFIX, "")}`), [], true);
    const params: (string | null)[] = [];
    let writes = false;
    for (const [, opcode, p1, p2, , p4] of program) {
      if (opcode === "Variable") params[Number(p1) - 1] = typeof p4 === "string" ? p4 : null;
      if (opcode === "Transaction" && p2 !== 0n) writes = true;
    }
    return { params: Array.from(params, (p) => p ?? null), writes };
  }

  #bindings(stmt: Record<string, unknown>, sql: string): SqlValue[] {
    const { args = [], named_args: named = [] } = stmt;
    if (!Array.isArray(args) || !Array.isArray(named)) throw protocolError("args and named_args must be arrays");
    if (named.length === 0) return args.map(decodeValue);
    if (args.length > 0) {
      const message = "Specifying both positional and named arguments is not supported";
      throw new HranaError(message, "ARGS_BOTH_POSITIONAL_AND_NAMED");
    }
    const byName = new Map<string, SqlValue>();
    for (const arg of named as unknown[]) {
      if (!isObject(arg) || typeof arg.name !== "string") throw protocolError("a named argument needs a name");
      byName.set(withoutPrefix(arg.name), decodeValue(arg.value));
    }
    // Bound by position: the engine's own named binding aborts the whole process on a statement
    // that also has a nameless parameter.
    const names = this.#analyze(sql).params;
    return names.map((name) => (name === null ? null : (byName.get(withoutPrefix(name)) ?? null)));
  }

  // Enforces what BEGIN TRANSACTION READONLY promises; the engine accepts the syntax but not the rule.
  #enterReadonly(): void {
    this.#db.exec("PRAGMA query_only = 1");
    this.#readonlyTx = true;
  }

  #leaveReadonlyIfDone(): void {
    if (this.#readonlyTx && !this.#closed && !this.#db.inTransaction) {
      this.#db.exec("PRAGMA query_only = 0");
      this.#readonlyTx = false;
    }
  }

  /**
   * All streams share one event loop, so SQLite's own busy timeout would block it and the lock
   * holder could never commit; instead the connection fails fast and the wait happens here.
   */
  async #retryWhileBusy<T>(run: () => T): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 50)) {
      try {
        return run();
      } catch (e) {
        const code = (e as { code?: unknown } | null)?.code;
        if (typeof code !== "string" || !code.startsWith("SQLITE_BUSY")) throw e;
        // SQLITE_BUSY_SNAPSHOT: the transaction read a snapshot that is gone; waiting won't help.
        if (code === "SQLITE_BUSY_SNAPSHOT" || Date.now() >= deadline || this.#closed) {
          this.#replaceConnection();
          throw e;
        }
        // Once per statement: a wait that is worth knowing about when a request seems to hang.
        if (delayMs === 1) this.#log(`statement waiting up to ${this.#busyTimeoutMs} ms for another stream's write lock`);
      }
      await sleep(delayMs);
    }
  }

  /**
   * A statement that failed with SQLITE_BUSY stays in progress until it is re-run or finalized
   * (which the engine does only on garbage collection), and meanwhile nothing written on its
   * connection can commit, not even in autocommit mode: the write lock would be held for good.
   * So the connection is swapped for a new one, losing any transaction it had.
   */
  #replaceConnection(): void {
    if (this.#closed) return;
    const hadTx = this.#db.inTransaction;
    closeConnection(this.#db);
    this.#db = openConnection(this.#path);
    this.#readonlyTx = false;
    this.#abortedTx = hadTx;
  }

  // Statements after a lost transaction would run outside the transaction the client believes it
  // is in; only its ROLLBACK is accepted, as a no-op.
  #afterAbortedTx(sql: string): StmtResult {
    if (!ROLLBACK.test(sql)) {
      throw new HranaError(
        "The transaction was rolled back when a statement gave up waiting for a lock; roll back to go on",
        "TRANSACTION_ABORTED",
      );
    }
    this.#abortedTx = false;
    return {
      cols: [],
      rows: [],
      affected_row_count: 0,
      last_insert_rowid: null,
      rows_read: 0,
      rows_written: 0,
      query_duration_ms: 0,
    };
  }

  #sqlOf(o: Record<string, unknown>): string {
    if (typeof o.sql === "string" && o.sql_id == null) return o.sql;
    if (o.sql == null && typeof o.sql_id === "number") {
      const sql = this.#sqls.get(o.sql_id);
      if (sql === undefined) throw new HranaError(`SQL text ${o.sql_id} is not stored`, "SQL_NOT_FOUND");
      return sql;
    }
    throw protocolError("exactly one of sql and sql_id must be given");
  }
}

export function toProtoError(e: unknown): ProtoError {
  if (e instanceof HranaError) return { message: e.message, code: e.code };
  const { message, code } = (e ?? {}) as { message?: unknown; code?: unknown };
  // What the engine reports for a statement that is only whitespace or comments.
  if (code === "SQLITE_OK") return { message: "SQL string does not contain any statement", code: "SQL_NO_STATEMENT" };
  return { message: String(message ?? e), code: typeof code === "string" ? code : "UNKNOWN" };
}

function openConnection(path: string): Connection {
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  return db;
}

function closeConnection(db: Connection): void {
  // The engine keeps a closed connection, and its locks, alive until its statements are garbage
  // collected, so an open transaction must be rolled back explicitly.
  try {
    if (db.inTransaction) db.exec("ROLLBACK");
  } catch {
    // Closing is all that is left to do; this also runs from timers, where a throw would crash.
  }
  db.close();
}

function withoutPrefix(name: string): string {
  return name.replace(/^[:@$]/, "");
}

function allRows(stmt: Database.Statement, args: SqlValue[], isExplain: boolean): unknown[][] {
  const rows = stmt.raw().all(args) as unknown[][];
  // After its last row the engine leaves an EXPLAIN of a write still running, and a running writer
  // keeps every later autocommit write on the connection, with its lock, from committing. get()
  // ends by resetting the statement; re-running an EXPLAIN has no effect.
  if (isExplain) stmt.get(args);
  return rows;
}

function toCol(c: { name: string; type: string | null }): Col {
  return { name: c.name, decltype: c.type };
}

function stepIndex(step: unknown): number {
  if (typeof step !== "number") throw protocolError("a step condition needs a numeric step");
  return step;
}

function condList(conds: unknown): unknown[] {
  if (!Array.isArray(conds)) throw protocolError("and/or conditions need a conds array");
  return conds;
}

function protocolError(message: string): HranaError {
  return new HranaError(`Invalid request: ${message}`, "PROTOCOL_ERROR");
}
