// The edge proxy in front of `wrangler dev`, against a real HTTP and WebSocket server behind it.
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { startEdgeProxy, type EdgeProxy } from "./edge-proxy.ts";

let target: Server;
let proxy: EdgeProxy;
let releaseStream: () => void = () => {};
const upgrades: IncomingHttpHeaders[] = [];
/** Every path the target was asked for, upgrades included. */
const reached: string[] = [];
/** Streams the target holds open now (`/held` and `/late`): a client that left must close its own. */
let openUpstream = 0;
/** `/late` requests whose answer the target has not started yet. */
const late: Array<() => void> = [];

beforeAll(async () => {
  target = createServer((req, res) => {
    reached.push(req.url ?? "");
    if (req.url === "/held" || req.url === "/late") {
      openUpstream++;
      res.on("close", () => openUpstream--);
    }
    if (req.url === "/late") {
      // An SSE stream whose headers come only when the test says so (wrangler under load).
      late.push(() => {
        if (res.destroyed) return;
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: open\n\n");
      });
      return;
    }
    if (req.url === "/held") {
      // A stream that stays open until the test ends, like an SSE subscription.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: open\n\n");
      return;
    }
    if (req.url === "/stream") {
      // One event now, the rest only when the test says so: a buffering proxy would hold the first.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      releaseStream = () => res.end("data: last\n\n");
      return;
    }
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ headers: req.headers, body })));
  });
  const wss = new WebSocketServer({ server: target });
  wss.on("connection", (socket, req) => {
    reached.push(req.url ?? "");
    upgrades.push(req.headers);
    socket.on("message", (m) => socket.send(`echo ${m}`));
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  proxy = await startEdgeProxy({ port: 0, target: { host: "127.0.0.1", port: (target.address() as AddressInfo).port } });
});

afterAll(async () => {
  await proxy?.close();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
});

describe("the edge proxy of npm start", () => {
  it("sets CF-Connecting-IP from the socket and drops every address header a client sent", async () => {
    const res = await fetch(`${proxy.url}/anything?x=1`, {
      method: "POST",
      headers: {
        "cf-connecting-ip": "198.51.100.7",
        "x-real-ip": "198.51.100.8",
        "x-forwarded-for": "198.51.100.9",
        "true-client-ip": "198.51.100.10",
        "x-request-id": "kept",
      },
      body: "payload",
    });
    const seen = (await res.json()) as { headers: IncomingHttpHeaders; body: string };
    expect(seen.headers["cf-connecting-ip"]).toBe("127.0.0.1");
    expect(seen.headers).not.toHaveProperty("x-real-ip");
    expect(seen.headers).not.toHaveProperty("x-forwarded-for");
    expect(seen.headers).not.toHaveProperty("true-client-ip");
    expect(seen.headers["x-request-id"]).toBe("kept");
    expect(seen.headers.host).toBe(new URL(proxy.url).host);
    expect(seen.body).toBe("payload");
  });

  it("streams a response as it comes", async () => {
    const res = await fetch(`${proxy.url}/stream`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe("data: first\n\n");
    releaseStream();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
    expect(rest).toBe("data: last\n\n");
  });

  it("holds a thousand streams open at once, and still answers a request beside them", async () => {
    // Each stream holds its connection to wrangler for as long as it lives: a pooled cap on those
    // connections would leave every stream past it (and every request after) without an answer.
    const controller = new AbortController();
    try {
      const firsts = await Promise.all(
        Array.from({ length: 1000 }, async () => {
          const res = await fetch(`${proxy.url}/held`, { signal: controller.signal });
          const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
          return (await reader.read()).value;
        }),
      );
      expect(new Set(firsts)).toEqual(new Set(["data: open\n\n"]));
      expect((await fetch(`${proxy.url}/after-the-streams`)).status).toBe(200);
    } finally {
      controller.abort();
    }
  });

  it("closes the stream behind a client that leaves, before or after the answer started", async () => {
    await expect.poll(() => openUpstream, { timeout: 30_000 }).toBe(0);
    // Twenty requests at once first leave twenty kept-alive connections to wrangler, which the
    // leavers then reuse: ending a request on a reused socket looks like the keep-alive race the
    // proxy retries, and a retry must not send the stream again for a client that is gone.
    await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${proxy.url}/warm`)).text()));
    const early = new AbortController();
    const leavers = Array.from({ length: 20 }, () => fetch(`${proxy.url}/late`, { signal: early.signal }).catch(() => "left"));
    await expect.poll(() => late.length).toBe(20);
    early.abort();
    expect(new Set(await Promise.all(leavers))).toEqual(new Set(["left"]));
    // Every one ends upstream though no answer had begun: none is left holding a subscription.
    await expect.poll(() => openUpstream).toBe(0);
    for (const answer of late.splice(0)) answer();

    const stayers = new AbortController();
    const held = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${proxy.url}/held`, { signal: stayers.signal });
        const reader = res.body!.getReader();
        await reader.read();
        return reader;
      }),
    );
    expect(openUpstream).toBe(20);
    stayers.abort();
    await Promise.all(held.map((reader) => reader.cancel().catch(() => {})));
    await expect.poll(() => openUpstream).toBe(0);
  });

  it("passes WebSocket upgrades through, with the socket's address", async () => {
    const ws = new WebSocket(`${proxy.url.replace("http", "ws")}/socket`, { headers: { "cf-connecting-ip": "198.51.100.7" } });
    const reply = new Promise<string>((resolve, reject) => {
      ws.once("message", (m) => resolve(String(m)));
      ws.once("error", reject);
    });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("hello");
    expect(await reply).toBe("echo hello");
    expect(upgrades.at(-1)?.["cf-connecting-ip"]).toBe("127.0.0.1");
    ws.close();
  });

  it("refuses wrangler's local-only endpoints (the cron trigger, miniflare's /cdn-cgi/) with 404, however the path is spelled", async () => {
    const paths = [
      "/__scheduled",
      "/__scheduled?cron=*%2F15+*+*+*+*",
      "/x/../__scheduled",
      "/%2e/__scheduled",
      "/./__scheduled",
      "/cdn-cgi/local/scheduled",
      "/cdn-cgi/local/explorer/api",
      "/cdn-cgi",
    ];
    for (const path of paths) {
      // fetch would normalize the path itself: send it as written.
      const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request(`${proxy.url}${path}`, { method: "POST" }, (answer) => {
          let body = "";
          answer.on("data", (d) => (body += d));
          answer.on("end", () => resolve({ status: answer.statusCode ?? 0, type: String(answer.headers["content-type"]), body }));
        });
        req.on("error", reject);
        req.end("x");
      });
      expect(res.status, path).toBe(404);
      expect(res.type).toBe("application/problem+json");
      expect(JSON.parse(res.body)).toMatchObject({ status: 404 });
    }
    const ws = new WebSocket(`${proxy.url.replace("http", "ws")}/__scheduled`);
    const refused = await new Promise<number>((resolve) => ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(404);
    expect(reached.filter((p) => /scheduled|cdn-cgi/.test(p))).toEqual([]);
    // Paths that merely look alike still reach the Worker.
    expect((await fetch(`${proxy.url}/__scheduled-not`)).status).toBe(200);
    expect(reached).toContain("/__scheduled-not");
  });

  it("answers 502 while nothing listens behind it", async () => {
    const idle = createServer();
    await new Promise<void>((resolve) => idle.listen(0, "127.0.0.1", resolve));
    const port = (idle.address() as AddressInfo).port;
    await new Promise((r) => idle.close(r));
    const orphan = await startEdgeProxy({ port: 0, target: { host: "127.0.0.1", port } });
    try {
      const res = await fetch(`${orphan.url}/healthz`);
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/did not answer/);
    } finally {
      await orphan.close();
    }
  });
});
