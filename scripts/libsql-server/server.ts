import { createHash, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import Database from "libsql";
import { Hrana, type Reply } from "./hrana.ts";

export type LibsqlServerOptions = {
  /** The database file; its parent directories are created. */
  path: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** When set, pipeline and cursor requests need `Authorization: Bearer <authToken>`. */
  authToken?: string;
  idleStreamTimeoutMs?: number;
  /** How long a statement waits for another stream's write lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  log?: (line: string) => void;
};

export type LibsqlServer = { url: string; port: number; close(): Promise<void> };

const MAX_BODY_BYTES = 64 * 1024 * 1024;

const POST_ROUTES: Record<string, "pipeline" | "cursor"> = {
  "/v2/pipeline": "pipeline",
  "/v3/pipeline": "pipeline",
  "/v3/cursor": "cursor",
};

/** A local stand-in for sqld: Hrana over HTTP (v2 and v3, JSON) on a libSQL database file. */
export async function startLibsqlServer(opts: LibsqlServerOptions): Promise<LibsqlServer> {
  const log = opts.log ?? (() => {});
  mkdirSync(dirname(resolve(opts.path)), { recursive: true });
  // Held for the server's lifetime: it switches the file to WAL once, and it spares each stream's
  // close from being the last one, which would checkpoint and delete the WAL every time.
  const keeper = new Database(opts.path);
  keeper.exec("PRAGMA journal_mode = WAL");

  const hrana = new Hrana({
    path: opts.path,
    idleStreamTimeoutMs: opts.idleStreamTimeoutMs ?? 10_000,
    busyTimeoutMs: opts.busyTimeoutMs ?? 5_000,
    log,
  });
  const server = createServer((req, res) => {
    route(req, res, hrana, opts.authToken).catch((e: unknown) => {
      log(`${req.method} ${req.url} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (res.headersSent) res.destroy();
      else send(res, { status: 500, json: { message: `Internal server error: ${String(e)}` } });
    });
  });
  // Clients close an idle kept-alive socket before the server's timeout (undici: 2 s before the
  // `Keep-Alive: timeout` hint). With Node's 5 s, a client whose event loop stalls for a few
  // seconds can send on a socket the server is closing (ECONNRESET); a long timeout leaves
  // closing idle sockets to the clients. close() still ends every connection at once.
  server.keepAliveTimeout = 65_000;

  try {
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", ok);
    });
  } catch (e) {
    keeper.close();
    throw e;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(opts.host)}:${port}`;
  log(`listening on ${url}, database ${resolve(opts.path)}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () =>
      (closing ??= new Promise<void>((ok) => {
        hrana.close();
        server.close(() => ok());
        server.closeAllConnections();
      }).finally(() => keeper.close())),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, hrana: Hrana, authToken?: string): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method === "GET") {
    // Version probes carry no credentials (the client sends none), so they stay open like /health.
    if (path === "/" || path === "/health") return send(res, { status: 200, text: "ok\n" });
    if (path === "/v2" || path === "/v3") {
      return send(res, { status: 200, text: "Hello, this is Hrana over HTTP (v2, v3; JSON)\n" });
    }
  }
  const endpoint = req.method === "POST" ? POST_ROUTES[path] : undefined;
  if (endpoint === undefined) {
    req.resume();
    return send(res, { status: 404, json: { message: `No route for ${req.method} ${path}` } });
  }
  if (!authorized(req, authToken)) {
    req.resume();
    return send(res, { status: 401, json: { message: "Unauthorized", code: "UNAUTHORIZED" } });
  }
  const raw = await readBody(req);
  if (raw === undefined) {
    return send(res, { status: 413, json: { message: `The body exceeds ${MAX_BODY_BYTES} bytes` } });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    const message = `Malformed JSON: ${(e as Error).message}`;
    return send(res, { status: 400, json: { message, code: "PROTOCOL_ERROR" } });
  }
  send(res, await hrana[endpoint](body));
}

function send(res: ServerResponse, reply: Reply): void {
  const [type, payload] = "json" in reply ? ["application/json", JSON.stringify(reply.json)] : ["text/plain", reply.text];
  res.writeHead(reply.status, { "content-type": type, "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/** Resolves undefined when the body is too large; the rest is drained so the reply can be read. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => ok(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on("error", fail);
  });
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
  // Hashing first gives equal lengths, which timingSafeEqual requires.
  return timingSafeEqual(sha256(given), sha256(token));
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function urlHost(host: string | undefined): string {
  if (!host || host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
