// Database dumps and restores inside the database's own container (protocol/dumps.ts), streamed:
// a dump's bytes go from the tool's stdout (an exec's multiplexed output) to the relay as its
// credit allows, a restore's bytes from the relay into the tool's stdin (a hijacked exec) as the
// tool reads them. The agent holds a few frames at a time, never an artifact.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { type Duplex, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { endpoint, pathSegment } from "../docker/endpoint.ts";
import { execCreate, execInspect, execStart } from "../docker/endpoints.ts";
import { DockerError } from "../docker/errors.ts";
import { MultiplexedStreamDemuxer } from "../docker/streams.ts";
import * as archive from "../docker/archive.ts";
import { HostToolError } from "../errors.ts";
import { type DatabaseDumpArgs, type DatabaseRestoreArgs, type DumpMeta, type DumpOpResults, majorVersion } from "../protocol.ts";
import type { DownloadSink, UploadSource } from "../transfer.ts";
import type { OpContext, OpHandlers } from "./context.ts";
import { entrySize, tarHeader } from "./deploy-tar.ts";

const BLOCK = 512;

/** What is kept of a tool's stderr for an error message (its last words matter most). */
const STDERR_KEEP = 4096;

/** Hijacked (DockerTransport.upgrade), without a TTY: stdin goes in raw, the output comes back multiplexed. */
const execStartAttached = endpoint<{ execId: string }>({
  name: "exec.start",
  method: "POST",
  path: (p) => `/exec/${pathSegment(p.execId)}/start`,
  body: () => ({ Detach: false, Tty: false }),
  expect: { 101: true, 200: true, 404: "no such exec instance", 409: "container is paused or stopped", 500: "server error" },
  response: "stream",
});

/** The last `limit` bytes of a stream, as text. */
class Tail {
  #parts: Uint8Array[] = [];
  #size = 0;
  readonly limit: number;
  constructor(limit = STDERR_KEEP) {
    this.limit = limit;
  }
  add(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    while (this.#size - (this.#parts[0]?.length ?? 0) >= this.limit) this.#size -= this.#parts.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.#parts).toString("utf8");
    return all.slice(-this.limit).trim();
  }
}

interface Exec {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
}

async function createExec(ctx: OpContext, container: string, exec: Exec, stdin: boolean): Promise<string> {
  try {
    const created = (await ctx.docker.transport.json(
      execCreate,
      {
        id: container,
        body: {
          AttachStdin: stdin,
          AttachStdout: true,
          AttachStderr: true,
          Cmd: exec.cmd,
          Env: exec.env ? Object.entries(exec.env).map(([k, v]) => `${k}=${v}`) : undefined,
          User: exec.user,
        },
      },
      ctx.signal,
    )) as { Id: string };
    return created.Id;
  } catch (error) {
    if (error instanceof DockerError && error.status === 409)
      throw new HostToolError("tool_failed", `the database container ${container} is not running: start the database, then retry`);
    throw error;
  }
}

/** The exit code; the output stream closes as the process exits, and the code can trail it by a moment. */
async function exitCode(ctx: OpContext, execId: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const state = (await ctx.docker.transport.json(execInspect, { execId }, ctx.signal)) as { Running: boolean; ExitCode: number | null };
    if (!state.Running || attempt >= 100) return state.ExitCode ?? -1;
    await sleep(20, undefined, { signal: ctx.signal });
  }
}

/** 126/127 with the runtime's words: the program is not in the image. */
function missingTool(code: number, stderr: string): boolean {
  return (code === 126 || code === 127) && /not found|no such file/i.test(stderr);
}

function toolFailure(container: string, tool: string, code: number, stderr: string): HostToolError {
  if (missingTool(code, stderr))
    return new HostToolError("tool_missing", `${tool} is not in the database's image (container ${container}): use an image that ships it`);
  const auth = /authentication failed|access denied|NOAUTH|WRONGPASS|invalid password|Authentication failed/i.test(stderr);
  const why = stderr || `exit code ${code}`;
  return new HostToolError(
    "tool_failed",
    auth
      ? `${tool} could not sign in to the database with the credentials Pier keeps for it (were they changed inside the database?): ${why}`
      : `${tool} failed (exit code ${code}): ${why}`,
  );
}

/** Runs a short command to completion; its output as text. */
async function run(ctx: OpContext, container: string, exec: Exec): Promise<{ code: number; stdout: string; stderr: string }> {
  const execId = await createExec(ctx, container, exec, false);
  const reply = await ctx.docker.transport.send(execStart, { execId }, ctx.signal);
  const demux = new MultiplexedStreamDemuxer();
  const out: Record<string, Tail> = { stdout: new Tail(1024 * 1024), stderr: new Tail() };
  for await (const piece of reply.body) for (const frame of demux.push(piece as Uint8Array)) out[frame.stream]?.add(frame.payload);
  return { code: await exitCode(ctx, execId), stdout: out.stdout!.text(), stderr: out.stderr!.text() };
}

/** Runs a command that must succeed; its standard output. */
async function must(ctx: OpContext, container: string, exec: Exec): Promise<string> {
  const result = await run(ctx, container, exec);
  if (result.code !== 0) throw toolFailure(container, exec.cmd[0]!, result.code, result.stderr || result.stdout);
  return result.stdout;
}

/** The first of `tools` the image has (`<tool> --version` answers), with its version line. */
async function findTool(ctx: OpContext, container: string, tools: string[]): Promise<{ tool: string; version: string }> {
  for (const tool of tools) {
    const probe = await run(ctx, container, { cmd: [tool, "--version"] });
    if (probe.code === 0) return { tool, version: (probe.stdout || probe.stderr).split("\n")[0]!.trim() };
    if (!missingTool(probe.code, probe.stderr + probe.stdout)) throw toolFailure(container, tool, probe.code, probe.stderr || probe.stdout);
  }
  throw new HostToolError(
    "tool_missing",
    `${tools.join(" or ")} is not in the database's image (container ${container}): use an image that ships the engine's client tools`,
  );
}

/** Streams a command's stdout into the download; fails with its stderr when it exits non-zero. */
async function dumpExec(ctx: OpContext, sink: DownloadSink, container: string, exec: Exec): Promise<number> {
  const execId = await createExec(ctx, container, exec, false);
  const reply = await ctx.docker.transport.send(execStart, { execId }, ctx.signal);
  const stderr = new Tail();
  const demux = new MultiplexedStreamDemuxer();
  async function* stdout(): AsyncGenerator<Uint8Array> {
    for await (const piece of reply.body) {
      for (const frame of demux.push(piece as Uint8Array)) {
        if (frame.stream === "stdout") yield frame.payload;
        else stderr.add(frame.payload);
      }
    }
  }
  const bytes = await sink.send(stdout());
  const code = await exitCode(ctx, execId);
  if (code !== 0) throw toolFailure(container, exec.cmd[0]!, code, stderr.text());
  return bytes;
}

/** Feeds `input` to a command's stdin, closes it, and waits for the command; fails with its stderr. */
async function restoreExec(ctx: OpContext, container: string, exec: Exec, input: AsyncIterable<Uint8Array>): Promise<string> {
  const execId = await createExec(ctx, container, exec, true);
  const socket: Duplex = await ctx.docker.transport.upgrade(execStartAttached, { execId }, ctx.signal);
  const output = new Tail();
  const demux = new MultiplexedStreamDemuxer();
  const reading = (async () => {
    for await (const piece of socket) for (const frame of demux.push(piece as Uint8Array)) output.add(frame.payload);
  })();
  // A tool that gives up early closes its stdin: what is left of the input is not wanted then.
  let writeError: unknown = null;
  socket.on("error", (error) => (writeError ??= error));
  try {
    for await (const chunk of input) {
      if (writeError || socket.destroyed || !socket.writable) break;
      if (!socket.write(chunk)) await Promise.race([once(socket, "drain", { signal: ctx.signal }), once(socket, "close")]);
    }
    // Half-close: the engine closes the process's stdin, and the output ends when it exits.
    if (!socket.destroyed) socket.end();
    await reading.catch(() => undefined);
  } finally {
    if (!socket.destroyed) socket.destroy();
  }
  const code = await exitCode(ctx, execId);
  if (code !== 0) throw toolFailure(container, exec.cmd[0]!, code, output.text());
  return output.text();
}

// ---- reading an artifact's head without losing it ----

/** Reads at least `size` bytes (fewer at the end); `rest` yields everything, those bytes first. */
export async function peek(
  source: AsyncIterable<Uint8Array>,
  size: number,
): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    taken.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(taken);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, rest: rest() };
}

/**
 * The server version in a PostgreSQL custom-format dump's header (pg_backup_archiver.c,
 * ReadHead): "PGDMP", the format's version, int and offset sizes, the format, the compression,
 * the creation time, then the database name, the server's version and pg_dump's, as strings.
 */
export function pgDumpServerVersion(head: Uint8Array): string | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (b.length < 11 || b.toString("latin1", 0, 5) !== "PGDMP") return null;
  const [vmaj, vmin] = [b[5]!, b[6]!];
  const intSize = b[8]!;
  let at = 11;
  const readInt = (): number | null => {
    if (at + 1 + intSize > b.length) return null;
    const sign = b[at]!;
    let value = 0;
    for (let i = 0; i < intSize; i++) value += b[at + 1 + i]! * 2 ** (8 * i);
    at += 1 + intSize;
    return sign ? -value : value;
  };
  const readStr = (): string | null => {
    const length = readInt();
    if (length === null) return null;
    if (length < 0) return "";
    if (at + length > b.length) return null;
    const text = b.toString("utf8", at, at + length);
    at += length;
    return text;
  };
  // 1.15 (PostgreSQL 16) made the compression one byte (an algorithm); before it was an int.
  if (vmaj > 1 || vmin >= 15) at += 1;
  else if (readInt() === null) return null;
  for (let i = 0; i < 7; i++) if (readInt() === null) return null; // creation time
  if (readStr() === null) return null; // database name
  return readStr();
}

/** `-- Server version	10.11.18-MariaDB-0+deb12u1` in a mysqldump/mariadb-dump header. */
export function sqlDumpServerVersion(head: Uint8Array): string | null {
  const text = Buffer.from(head).toString("utf8");
  return /^-- Server version\s+(.+?)\s*$/m.exec(text)?.[1] ?? null;
}

/** The `redis-ver` auxiliary field near the start of an RDB file (RDB 7+ writes it first). */
export function rdbRedisVersion(rdb: Uint8Array): string | null {
  const b = Buffer.from(rdb.buffer, rdb.byteOffset, rdb.length);
  if (b.toString("latin1", 0, 5) !== "REDIS") return null;
  // AUX (0xFA), then two length-prefixed strings; short strings carry a 6-bit length.
  const key = Buffer.from("\x09redis-ver", "latin1");
  const at = b.indexOf(key);
  if (at < 0 || at + key.length >= b.length) return null;
  const length = b[at + key.length]! & 0x3f;
  const start = at + key.length + 1;
  return start + length <= b.length ? b.toString("latin1", start, start + length) : null;
}

/**
 * What a server that is still starting answers (a new service restored into right after it was
 * made). PostgreSQL's image first runs a server for its init scripts and then stops it: a probe
 * that reached that one is cut off by its shutdown ("terminating connection due to administrator
 * command"), which also means "not ready yet".
 */
const NOT_READY =
  /could not connect|connection refused|the database system is (starting up|shutting down)|terminating connection due to administrator command|server closed the connection unexpectedly|database ".*" does not exist|can't connect to (local )?(mysql|mariadb)? ?server|^LOADING|no such file or directory/i;
/** How long a restore waits for a starting server. */
const READY_WITHIN_MS = 120_000;

/** Runs `probe` until the server answers it, while what fails says the server is still starting. */
async function whenReady<T>(ctx: OpContext, probe: () => Promise<T>): Promise<T> {
  const until = Date.now() + READY_WITHIN_MS;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (!(error instanceof HostToolError) || error.code !== "tool_failed" || !NOT_READY.test(error.message) || Date.now() > until)
        throw error;
      await sleep(250, undefined, { signal: ctx.signal });
    }
  }
}

/** Refuses a restore into an older major version than the artifact's, before anything changes. */
function checkVersions(args: DatabaseRestoreArgs, engine: string, source: string | null, target: string, sameFamily = true): void {
  if (args.allow_older_target || !source || !sameFamily) return;
  const [from, to] = [majorVersion(source), majorVersion(target)];
  if (from !== null && to !== null && to < from)
    throw new HostToolError(
      "conflict",
      `this backup was made on ${engine} ${source} and the target runs ${engine} ${target}: a dump cannot go back to an older major version. Restore it into a service running ${engine} ${from} or newer.`,
    );
}

// ---- the engines ----

interface Engine {
  dump(args: DatabaseDumpArgs, ctx: OpContext, sink: DownloadSink): Promise<DumpOpResults["database.dump"]>;
  restore(args: DatabaseRestoreArgs, ctx: OpContext, upload: UploadSource): Promise<DumpOpResults["database.restore"]>;
}

const need = (value: string | undefined, what: string): string => {
  if (!value) throw new HostToolError("tool_failed", `the ${what} is needed for this engine`);
  return value;
};

const postgres: Engine = {
  async dump(args, ctx, sink) {
    const env = pgEnv(args);
    const server = await pgServerVersion(ctx, args, env);
    const { version } = await findTool(ctx, args.container, ["pg_dump"]);
    const meta: DumpMeta = { engine: "postgres", format: "pg_dump", extension: "dump", server_version: server, tool: version };
    sink.start(meta);
    const bytes = await dumpExec(ctx, sink, args.container, { cmd: ["pg_dump", "--format=custom", "--no-password"], env });
    return { ...meta, bytes };
  },
  async restore(args, ctx, upload) {
    const env = pgEnv(args);
    const { head, rest } = await peek(upload, 4096);
    if (head.length > 0 && Buffer.from(head).toString("latin1", 0, 5) !== "PGDMP")
      throw new HostToolError("tool_failed", "this artifact is not a PostgreSQL custom-format dump (pg_dump -Fc)");
    const source = pgDumpServerVersion(head);
    const target = await pgServerVersion(ctx, args, env);
    checkVersions(args, "PostgreSQL", source, target);
    await findTool(ctx, args.container, ["pg_restore"]);
    // One transaction: a restore that fails changes nothing. --no-owner: the service's user owns
    // what it restores, also in a new service whose user differs from the original's.
    const output = await restoreExec(
      ctx,
      args.container,
      {
        cmd: [
          "pg_restore",
          "--clean",
          "--if-exists",
          "--no-owner",
          "--single-transaction",
          "--no-password",
          `--dbname=${need(args.database, "database name")}`,
        ],
        env,
      },
      rest,
    );
    return { engine: "postgres", bytes: upload.received, server_version: target, source_version: source, output };
  },
};

function pgEnv(args: DatabaseDumpArgs): Record<string, string> {
  return {
    PGUSER: need(args.user, "database user"),
    PGDATABASE: need(args.database, "database name"),
    ...(args.password ? { PGPASSWORD: args.password } : {}),
  };
}

/**
 * The server's version, asked over TCP once the server is ready. The official image's init-time
 * server (docker-entrypoint.sh's docker_temp_server_start) listens on the Unix socket only
 * (`listen_addresses=''`): a probe over the socket could reach it, succeed, and pg_restore be cut
 * off by its shutdown moments later. Over 127.0.0.1 only the real server answers; until it does,
 * "connection refused" is one of the NOT_READY answers and is retried. The dump and the restore
 * themselves stay on the socket: by then the real server is the only one.
 */
async function pgServerVersion(ctx: OpContext, args: DatabaseDumpArgs, env: Record<string, string>): Promise<string> {
  await findTool(ctx, args.container, ["psql"]);
  const overTcp = { ...env, PGHOST: "127.0.0.1" };
  return whenReady(ctx, async () =>
    (await must(ctx, args.container, { cmd: ["psql", "-X", "-w", "-tAc", "SHOW server_version"], env: overTcp })).trim(),
  );
}

const mysql: Engine = {
  async dump(args, ctx, sink) {
    const login = mysqlLogin(args);
    const server = await mysqlServerVersion(ctx, args, login);
    const { tool, version } = await findTool(ctx, args.container, ["mariadb-dump", "mysqldump"]);
    const meta: DumpMeta = { engine: args.engine, format: tool, extension: "sql", server_version: server, tool: version };
    sink.start(meta);
    // A consistent snapshot without locking (InnoDB); routines and triggers with the tables; no
    // CREATE DATABASE, so the dump restores into a database of another name too.
    const cmd = [tool, `--user=${login.user}`, "--single-transaction", "--routines", "--triggers", "--hex-blob", "--no-tablespaces"];
    if (login.user === "root") cmd.push("--events");
    cmd.push(need(args.database, "database name"));
    const bytes = await dumpExec(ctx, sink, args.container, { cmd, env: login.env });
    return { ...meta, bytes };
  },
  async restore(args, ctx, upload) {
    const login = mysqlLogin(args);
    const { head, rest } = await peek(upload, 4096);
    const source = sqlDumpServerVersion(head);
    const target = await mysqlServerVersion(ctx, args, login);
    const mariadb = (v: string | null) => /mariadb/i.test(v ?? "");
    checkVersions(args, mariadb(target) ? "MariaDB" : "MySQL", source, target, mariadb(source) === mariadb(target));
    const { tool } = await findTool(ctx, args.container, ["mariadb", "mysql"]);
    const { tool: dumper } = await findTool(ctx, args.container, ["mariadb-dump", "mysqldump"]);
    const database = need(args.database, "database name");
    // A SQL dump replays statement by statement, and its DDL commits as it goes: one that fails
    // half-way would leave the database half restored. So the database as it is now is dumped
    // first into a file in the container, and a failed restore is undone from it.
    const safety = `/tmp/pier-restore-safety-${randomUUID()}.sql`;
    await must(ctx, args.container, { cmd: ["sh", "-c", SAFETY_DUMP, dumper, login.user, database, safety], env: login.env });
    const removeSafety = () => run(ctx, args.container, { cmd: ["rm", "-f", safety] }).catch(() => undefined);
    let output: string;
    try {
      output = await restoreExec(ctx, args.container, { cmd: [tool, `--user=${login.user}`, database], env: login.env }, rest);
    } catch (error) {
      const said = error instanceof Error ? error.message : String(error);
      const code = error instanceof HostToolError ? error.code : "tool_failed";
      try {
        await must(ctx, args.container, { cmd: ["sh", "-c", SAFETY_LOAD, tool, login.user, database, safety], env: login.env });
      } catch (undo) {
        throw new HostToolError(
          code,
          `${said}; putting the previous data back failed too (${undo instanceof Error ? undo.message : String(undo)}): the dump taken before the restore is kept in the container at ${safety}`,
        );
      }
      await removeSafety();
      throw new HostToolError(code, `${said}; the database was put back as it was before the restore`);
    }
    await removeSafety();
    return { engine: args.engine, bytes: upload.received, server_version: target, source_version: source, output };
  },
};

// `sh -c` scripts for the MariaDB/MySQL restore's safety copy: $0 the tool, $1 the user, $2 the
// database, $3 the file; the password comes in MYSQL_PWD. Names are quoted with CHAR(96) (a
// backtick, which the shell would take for a command substitution).
const SAFETY_DUMP = 'umask 077 && "$0" --user="$1" --single-transaction --routines --triggers --hex-blob --no-tablespaces "$2" > "$3"';
const QUOTED_NAMES =
  "SELECT GROUP_CONCAT(CONCAT(CHAR(96), REPLACE(table_name, CHAR(96), CONCAT(CHAR(96), CHAR(96))), CHAR(96))) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type";
/** Drops what the failed restore left (views, then tables: triggers go with them), then loads the safety dump. */
const SAFETY_LOAD = [
  "set -e",
  `views=$("$0" --user="$1" -N -B -e "${QUOTED_NAMES} = 'VIEW'" "$2")`,
  `tables=$("$0" --user="$1" -N -B -e "${QUOTED_NAMES} = 'BASE TABLE'" "$2")`,
  'if [ -n "$views" ] && [ "$views" != NULL ]; then "$0" --user="$1" -e "DROP VIEW IF EXISTS $views" "$2"; fi',
  'if [ -n "$tables" ] && [ "$tables" != NULL ]; then "$0" --user="$1" -e "SET FOREIGN_KEY_CHECKS=0; DROP TABLE IF EXISTS $tables" "$2"; fi',
  '"$0" --user="$1" "$2" < "$3"',
].join("\n");

/** Root when its password is known (it may dump routines and events), else the service's user. */
function mysqlLogin(args: DatabaseDumpArgs): { user: string; env: Record<string, string> } {
  const user = args.root_password ? "root" : need(args.user, "database user");
  const password = args.root_password ?? args.password;
  // MYSQL_PWD keeps the password off the command line (both clients read it).
  return { user, env: password ? { MYSQL_PWD: password } : {} };
}

/**
 * The server's version, asked over TCP once the server is ready, for the reason pgServerVersion
 * gives: the official mariadb and mysql images initialise through a temporary server started with
 * `--skip-networking` on the default socket, which a socket probe could reach just before it is
 * stopped. Over 127.0.0.1 only the real server answers ("Can't connect … server on '127.0.0.1'"
 * until then is NOT_READY). Pier's services have their users at '%', so TCP logins work; the
 * dump and the restore stay on the socket.
 */
async function mysqlServerVersion(
  ctx: OpContext,
  args: DatabaseDumpArgs,
  login: { user: string; env: Record<string, string> },
): Promise<string> {
  const { tool } = await findTool(ctx, args.container, ["mariadb", "mysql"]);
  const cmd = [tool, "--protocol=TCP", "--host=127.0.0.1", `--user=${login.user}`, "-N", "-B", "-e", "SELECT VERSION()"];
  return whenReady(ctx, async () => (await must(ctx, args.container, { cmd, env: login.env })).trim());
}

const mongo: Engine = {
  async dump(args, ctx, sink) {
    const auth = mongoAuth(args);
    const { version } = await findTool(ctx, args.container, ["mongodump"]);
    const server = await mongoServerVersion(ctx, args);
    const meta: DumpMeta = { engine: "mongo", format: "mongodump", extension: "archive", server_version: server, tool: version };
    sink.start(meta);
    const cmd = ["mongodump", "--archive", "--quiet", ...auth, ...(args.database ? [`--db=${args.database}`] : [])];
    return { ...meta, bytes: await dumpExec(ctx, sink, args.container, { cmd }) };
  },
  async restore(args, ctx, upload) {
    const auth = mongoAuth(args);
    await findTool(ctx, args.container, ["mongorestore"]);
    const target = await mongoServerVersion(ctx, args);
    const output = await restoreExec(ctx, args.container, { cmd: ["mongorestore", "--archive", "--drop", "--quiet", ...auth] }, upload);
    return { engine: "mongo", bytes: upload.received, server_version: target, source_version: null, output };
  },
};

function mongoAuth(args: DatabaseDumpArgs): string[] {
  return args.user ? [`--username=${args.user}`, `--password=${args.password ?? ""}`, "--authenticationDatabase=admin"] : [];
}

async function mongoServerVersion(ctx: OpContext, args: DatabaseDumpArgs): Promise<string> {
  const probe = await run(ctx, args.container, { cmd: ["mongod", "--version"] });
  return /db version v?([\d.]+)/.exec(probe.stdout)?.[1] ?? "unknown";
}

// Redis: a fresh RDB snapshot (BGSAVE), copied out of the container by the archive API as the tar
// it gives (`dump.rdb` alone); a restore stops the server, puts the RDB where the server loads it
// from at start — the append-only file's new base when append-only is on — and starts it again.

interface RedisConfig {
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appenddirname: string;
  appendfilename: string;
}

const redisEnv = (args: DatabaseDumpArgs) => (args.password ? { REDISCLI_AUTH: args.password } : undefined);

async function redisCli(ctx: OpContext, args: DatabaseDumpArgs, ...command: string[]): Promise<string> {
  const out = (await must(ctx, args.container, { cmd: ["redis-cli", "--no-auth-warning", ...command], env: redisEnv(args) })).trim();
  // redis-cli prints server errors on stdout and exits 0.
  if (/^(ERR|NOAUTH|WRONGPASS|NOPERM|LOADING|MISCONF)\b/.test(out)) {
    throw toolFailure(args.container, "redis-cli", 1, out);
  }
  return out;
}

async function redisInfo(ctx: OpContext, args: DatabaseDumpArgs, section: string): Promise<Record<string, string>> {
  const info: Record<string, string> = {};
  for (const line of (await redisCli(ctx, args, "INFO", section)).split("\n")) {
    const [key, ...value] = line.trim().split(":");
    if (key && value.length) info[key] = value.join(":");
  }
  return info;
}

async function redisConfig(ctx: OpContext, args: DatabaseDumpArgs): Promise<RedisConfig> {
  const get = async (key: string, fallback: string) => (await redisCli(ctx, args, "CONFIG", "GET", key)).split("\n")[1]?.trim() || fallback;
  return {
    dir: await get("dir", "/data"),
    dbfilename: await get("dbfilename", "dump.rdb"),
    appendonly: (await get("appendonly", "no")) === "yes",
    appenddirname: await get("appenddirname", "appendonlydir"),
    appendfilename: await get("appendfilename", "appendonly.aof"),
  };
}

/** A new RDB snapshot: BGSAVE (or scheduled after an AOF rewrite), then its completion. */
async function freshSnapshot(ctx: OpContext, args: DatabaseDumpArgs): Promise<void> {
  const before = await redisInfo(ctx, args, "persistence");
  const lastsave = Number(await redisCli(ctx, args, "LASTSAVE"));
  const started = await run(ctx, args.container, { cmd: ["redis-cli", "--no-auth-warning", "BGSAVE", "SCHEDULE"], env: redisEnv(args) });
  if (started.code !== 0 || !/Background saving (started|scheduled)/.test(started.stdout))
    throw toolFailure(args.container, "redis-cli BGSAVE", started.code || 1, started.stdout || started.stderr);
  for (;;) {
    await sleep(100, undefined, { signal: ctx.signal });
    const now = await redisInfo(ctx, args, "persistence");
    if (now.rdb_bgsave_in_progress === "1") continue;
    // rdb_saves (7.0+) counts snapshots; LASTSAVE has a second's resolution, so it is the fallback.
    const done =
      now.rdb_saves !== undefined
        ? Number(now.rdb_saves) > Number(before.rdb_saves)
        : Number(await redisCli(ctx, args, "LASTSAVE")) > lastsave;
    if (!done) continue;
    if (now.rdb_last_bgsave_status !== "ok")
      throw new HostToolError("tool_failed", "Redis could not write its snapshot (BGSAVE failed: see the server's log)");
    return;
  }
}

const redis: Engine = {
  async dump(args, ctx, sink) {
    const server = (await whenReady(ctx, () => redisInfo(ctx, args, "server"))).redis_version ?? "unknown";
    const config = await redisConfig(ctx, args);
    await freshSnapshot(ctx, args);
    const meta: DumpMeta = { engine: "redis", format: "redis-rdb", extension: "rdb.tar", server_version: server, tool: "BGSAVE" };
    const reply = await ctx.docker.transport.send(
      archive.containerArchiveGet,
      { id: args.container, path: `${config.dir}/${config.dbfilename}` },
      ctx.signal,
    );
    sink.start(meta);
    return { ...meta, bytes: await sink.send(reply.body as AsyncIterable<Uint8Array>) };
  },
  async restore(args, ctx, upload) {
    const { head, rest } = await peek(upload, 2 * BLOCK);
    if (head.length < 2 * BLOCK) throw new HostToolError("tool_failed", "this artifact is not a Redis snapshot (dump.rdb in a tar)");
    const size = entrySize(head.subarray(0, BLOCK));
    const rdb = head.subarray(BLOCK);
    if (Buffer.from(rdb).toString("latin1", 0, 5) !== "REDIS")
      throw new HostToolError("tool_failed", "this artifact is not a Redis snapshot (no RDB inside)");
    const source = rdbRedisVersion(rdb);
    const target = (await whenReady(ctx, () => redisInfo(ctx, args, "server"))).redis_version ?? "unknown";
    checkVersions(args, "Redis", source, target);
    const config = await redisConfig(ctx, args);
    const entries = await redisRestoreEntries(ctx, args, config);

    await ctx.docker.stopContainer(args.container, 30, ctx.signal);
    try {
      const body = redisRestoreTar(rest, size, entries);
      await ctx.docker.transport.send(
        archive.containerArchivePut,
        { id: args.container, path: config.dir, body: Readable.from(body) },
        ctx.signal,
      );
    } finally {
      // Started again either way: after a failed put the previous data is still what it loads.
      await ctx.docker.startContainer(args.container, ctx.signal);
    }
    for (;;) {
      const probe = await run(ctx, args.container, { cmd: ["redis-cli", "--no-auth-warning", "PING"], env: redisEnv(args) });
      if (probe.stdout.trim() === "PONG") break;
      if (/NOAUTH|WRONGPASS/.test(probe.stdout)) throw toolFailure(args.container, "redis-cli", 1, probe.stdout);
      await sleep(100, undefined, { signal: ctx.signal });
    }
    return { engine: "redis", bytes: upload.received, server_version: target, source_version: source, output: "" };
  },
};

interface RedisEntries {
  /** Where the RDB goes, relative to `dir`. */
  rdb: string;
  /** Small files written after it (the AOF manifest last, so a cut restore leaves the old one). */
  after: Array<{ name: string; content: string }>;
}

/** With append-only on, the RDB becomes the base of a new AOF generation; the old manifest is kept beside. */
async function redisRestoreEntries(ctx: OpContext, args: DatabaseDumpArgs, config: RedisConfig): Promise<RedisEntries> {
  if (!config.appendonly) return { rdb: config.dbfilename, after: [] };
  // Larger than any sequence the server has used, so no file of the previous data is overwritten.
  const seq = Math.floor(Date.now() / 1000);
  const dir = config.appenddirname;
  const base = `${config.appendfilename}.${seq}.base.rdb`;
  const incr = `${config.appendfilename}.${seq}.incr.aof`;
  const manifestName = `${config.appendfilename}.manifest`;
  const after = [{ name: `${dir}/${incr}`, content: "" }];
  const old = await readSmallFile(ctx, args.container, `${config.dir}/${dir}/${manifestName}`);
  if (old !== null) after.push({ name: `${dir}/${manifestName}.before-restore`, content: old });
  after.push({ name: `${dir}/${manifestName}`, content: `file ${base} seq ${seq} type b\nfile ${incr} seq ${seq} type i\n` });
  return { rdb: `${dir}/${base}`, after };
}

/** A small file of a container (an AOF manifest), or null when it is not there. */
async function readSmallFile(ctx: OpContext, container: string, path: string): Promise<string | null> {
  try {
    const reply = await ctx.docker.transport.send(archive.containerArchiveGet, { id: container, path }, ctx.signal);
    const tar = Buffer.from(await reply.body.arrayBuffer());
    if (tar.length < BLOCK) return null;
    const size = entrySize(tar.subarray(0, BLOCK));
    if (size > 1024 * 1024) return null;
    return tar.toString("utf8", BLOCK, BLOCK + size);
  } catch (error) {
    if (error instanceof DockerError && error.status === 404) return null;
    throw error;
  }
}

/** The uploaded tar's one entry re-headed under the RDB's restore name, then the small entries. */
export async function* redisRestoreTar(source: AsyncIterable<Uint8Array>, size: number, entries: RedisEntries): AsyncGenerator<Uint8Array> {
  yield tarHeader(entries.rdb, size);
  let skip = BLOCK; // the artifact's own header
  let left = size;
  for await (const chunk of source) {
    let piece = chunk;
    if (skip > 0) {
      const dropped = Math.min(skip, piece.length);
      skip -= dropped;
      piece = piece.subarray(dropped);
    }
    if (left <= 0 || piece.length === 0) continue;
    const take = piece.subarray(0, Math.min(left, piece.length));
    left -= take.length;
    yield take;
  }
  if (left > 0) throw new HostToolError("tool_failed", `the snapshot ended ${left} bytes short of its size: the artifact is cut`);
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad) yield new Uint8Array(pad);
  for (const entry of entries.after) {
    const data = Buffer.from(entry.content);
    yield tarHeader(entry.name, data.length);
    if (data.length) yield Buffer.concat([data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK)]);
  }
  yield new Uint8Array(2 * BLOCK);
}

const ENGINES: Record<DatabaseDumpArgs["engine"], Engine> = { postgres, mysql, mariadb: mysql, mongo, redis };

export const dumpOps: Pick<OpHandlers, "database.dump" | "database.restore"> = {
  "database.dump": async (args, ctx) => {
    if (!ctx.download) throw new Error("database.dump moves bytes and needs a transfer channel");
    return ENGINES[args.engine].dump(args, ctx, ctx.download);
  },
  "database.restore": async (args, ctx) => {
    if (!ctx.upload) throw new Error("database.restore moves bytes and needs a transfer channel");
    return ENGINES[args.engine].restore(args, ctx, ctx.upload);
  },
};
