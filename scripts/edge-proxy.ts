// `npm start`'s front door: what Cloudflare's edge does for a deployed Worker, done locally. On
// Cloudflare, `CF-Connecting-IP` is set by the platform from the connection, whatever the client
// sent, so the Worker may key its per-address limits on it. `wrangler dev` does not do that:
// miniflare fills in `CF-Connecting-IP` from the socket only when the client sent none, and passes
// a client's own value (and `X-Real-IP`) through untouched — so every spoofed address would get a
// fresh rate-limit bucket. This proxy listens where users connect, replaces those headers with the
// socket's address, and forwards everything (HTTP, streamed responses, WebSocket upgrades) to
// `wrangler dev` on a loopback port of its own — except wrangler's and miniflare's local-only
// endpoints, which the edge never lets through either (see `isLocalOnly`).
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

/** Headers a client could use to claim another address; the proxy drops them all. */
const CLIENT_ADDRESS_HEADERS = ["cf-connecting-ip", "x-real-ip", "true-client-ip", "x-forwarded-for"];
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

/**
 * Paths that `wrangler dev` answers itself rather than the Worker: `/__scheduled` (runs the cron
 * handler — `--test-scheduled`, which start.ts needs to run the cron locally, calling wrangler's
 * own port) and miniflare's `/cdn-cgi/…` (scheduled and email triggers, a data explorer). On
 * Cloudflare no client can reach either: `/cdn-cgi/` belongs to the edge and there is no
 * `/__scheduled`. The path is normalized as the URL parser behind the proxy will normalize it
 * (dot segments, `%2e`, backslashes), so `/x/../__scheduled` is refused too.
 */
export function isLocalOnly(rawUrl: string | undefined): boolean {
  let pathname: string;
  try {
    pathname = new URL(rawUrl ?? "/", "http://edge.invalid").pathname;
  } catch {
    return true;
  }
  return pathname === "/__scheduled" || pathname === "/cdn-cgi" || pathname.startsWith("/cdn-cgi/");
}

const REFUSAL = JSON.stringify({
  type: "about:blank",
  title: "Not Found",
  status: 404,
  detail: "Not found. (wrangler's local-only endpoints are not served to clients.)",
});

export interface EdgeProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The socket's address as Cloudflare writes it: IPv4-mapped IPv6 as plain IPv4. */
export const socketAddress = (socket: Socket): string => (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");

function forwardedHeaders(req: IncomingMessage, keepUpgrade: boolean): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...req.headers };
  for (const name of CLIENT_ADDRESS_HEADERS) delete headers[name];
  if (!keepUpgrade) for (const name of HOP_BY_HOP) delete headers[name];
  headers["cf-connecting-ip"] = socketAddress(req.socket);
  return headers;
}

export async function startEdgeProxy(options: { port: number; host?: string; target: { host: string; port: number } }): Promise<EdgeProxy> {
  const { target } = options;
  // No cap on sockets to wrangler: an SSE stream holds its socket for as long as it lives, so a cap
  // of N let only N streams open and queued every later request behind them, unanswered (the edge
  // has no such cap; 1 000 event subscribers once stalled at 256 here).
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

  const server: Server = createServer((req, res) => {
    if (isLocalOnly(req.url)) {
      req.resume();
      res.writeHead(404, { "content-type": "application/problem+json" }).end(REFUSAL);
      return;
    }
    // A request without a body can be sent again: a kept-alive connection that wrangler closed
    // while idle fails only when reused, before any answer (Node's documented keep-alive race).
    const replayable = !req.headers["content-length"] && !req.headers["transfer-encoding"];
    // A client that leaves before its answer is complete ends the upstream request, and nothing
    // is sent again for it. Ending a request on a reused kept-alive socket fails it with
    // ECONNRESET, which looked like the keep-alive race below, so the stream was sent again for
    // the client that had left (its listener, on the request, had fired already): every SSE
    // client that gave up before wrangler's headers (a Headers Timeout under load) left a stream
    // open upstream for good — an EventHub subscription and two sockets each.
    let upstream: ReturnType<typeof httpRequest> | undefined;
    let gone = false;
    res.on("close", () => {
      if (res.writableFinished) return;
      gone = true;
      upstream?.destroy();
    });
    const send = (attempt: number) => {
      upstream = httpRequest(
        { host: target.host, port: target.port, method: req.method, path: req.url, headers: forwardedHeaders(req, false), agent },
        (answer) => {
          const headers = { ...answer.headers };
          for (const name of HOP_BY_HOP) delete headers[name];
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          // Streams (SSE, logs) go out as they come: no buffering here.
          res.flushHeaders();
          answer.pipe(res);
        },
      );
      const sent = upstream;
      sent.on("error", (err: NodeJS.ErrnoException) => {
        if (gone) return;
        if (replayable && sent.reusedSocket && err.code === "ECONNRESET" && attempt < 3) return send(attempt + 1);
        if (res.headersSent) return void res.destroy(err);
        res.writeHead(502, { "content-type": "text/plain" }).end(`The local Worker (wrangler dev) did not answer: ${err.message}\n`);
      });
      if (replayable) sent.end();
      else req.pipe(sent);
    };
    send(1);
  });

  // WebSocket upgrades (agents, the terminal): replay the request with the rewritten headers, then splice.
  server.on("upgrade", (req, client: Socket, head: Buffer) => {
    if (isLocalOnly(req.url)) {
      client.end(
        `HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(REFUSAL)}\r\nconnection: close\r\n\r\n${REFUSAL}`,
      );
      return;
    }
    // No Nagle on either side: a relay command's small answers (an ack, then its result) must not
    // wait for the peer's delayed ACK, up to 40 ms each (Cloudflare's edge does not hold them).
    client.setNoDelay(true);
    const upstream = connect({ port: target.port, host: target.host, noDelay: true }, () => {
      const headers = forwardedHeaders(req, true);
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) lines.push(`${name}: ${v}`);
      }
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", end);
    client.on("error", end);
    upstream.on("close", end);
    client.on("close", end);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nobody listens on now, for `wrangler dev` behind the proxy. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
