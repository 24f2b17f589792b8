// A local HTTP server standing in for Slack, Discord, Telegram, Resend and a user's webhook in the
// end-to-end tests: it records every request (raw body included) and answers what it is told to.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  status: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /**
   * Answers requests to `path` with the statuses given, in turn, the last one repeating. The turns
   * are counted for each delivery (a JSON body's `id`) apart: the engine is shared by the suite, so
   * another test's container may die and be announced in between, and its delivery must not use
   * up the statuses meant for the one under test.
   */
  respond(path: string, ...statuses: number[]): void;
  /** Waits until `count` requests to `path` (those `match` accepts, if given) have arrived. */
  waitFor(path: string, count?: number, match?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  /** Requests answered so far for each path and delivery id. */
  const turns = new Map<string, number>();
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: any = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON
      }
      const script = scripts.get(path) ?? [200];
      const key = `${path} ${typeof body?.id === "string" ? body.id : ""}`;
      const turn = turns.get(key) ?? 0;
      turns.set(key, turn + 1);
      const status = script[Math.min(turn, script.length - 1)]!;
      received.push({ method: req.method ?? "", path, headers: req.headers, raw, body, status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        status < 300
          ? JSON.stringify({ ok: true, id: `msg-${received.length}` })
          : JSON.stringify({ ok: false, error: "receiver says no" }),
      );
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("receiver: no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    respond: (path, ...statuses) => void scripts.set(path, statuses),
    async waitFor(path, count = 1, match = () => true) {
      for (;;) {
        const hits = received.filter((r) => r.path === path && match(r));
        if (hits.length >= count) return hits;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
