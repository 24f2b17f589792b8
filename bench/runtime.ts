// The local runtime's own costs, beside Pier's (section (a)): bench/runtime/worker.js, a Worker
// with nothing of Pier's in it, served by the same `wrangler dev` behind the same edge proxy as
// `npm start`, with an echo client on undici's WebSocket, as the agent holds its relay socket.
// What Pier's figures add over these is Pier's own work; what these add over their floor is the
// runtime's, which Pier's design pays once per request (a RateLimiter call) and once per relay
// command (a HostRelay call and its WebSocket round trip).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool, WebSocket } from "undici";
import { freeLoopbackPort, startEdgeProxy } from "../scripts/edge-proxy.ts";
import { sleep } from "./api.ts";

const ROOT = join(import.meta.dirname, "..");

export interface RuntimeWorker {
  /** GET /floor, /call or /roundtrip, and expect its 204. */
  get(path: "/floor" | "/call" | "/roundtrip"): Promise<void>;
  stop(): Promise<void>;
}

export async function startRuntimeWorker(log: (line: string) => void): Promise<RuntimeWorker> {
  const persist = await mkdtemp(join(tmpdir(), "pier-bench-runtime-"));
  const workerPort = await freeLoopbackPort();
  const edge = await startEdgeProxy({ port: 0, target: { host: "127.0.0.1", port: workerPort } });
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config",
      join(import.meta.dirname, "runtime/wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(workerPort),
      "--persist-to",
      persist,
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `http://127.0.0.1:${edge.port}`;
  const pool = new Pool(url, { keepAliveTimeout: 10_000 });
  let socket: WebSocket | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= halt());
  const halt = async () => {
    socket?.close();
    await pool.close().catch(() => undefined);
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([new Promise((r) => child.once("exit", r)), sleep(5_000)]);
    }
    await edge.close();
    await rm(persist, { recursive: true, force: true });
  };
  const get = async (path: string) => {
    const res = await pool.request({ method: "GET", path });
    const text = await res.body.text();
    if (res.statusCode !== 204) throw new Error(`runtime worker: GET ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  };
  try {
    for (let waited = 0; ; waited += 250) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}): ${stderr}`);
      if (waited > 180_000) throw new Error(`the runtime worker did not answer within 180 s: ${stderr}`);
      try {
        await get("/floor");
        break;
      } catch {
        await sleep(250);
      }
    }
    // The echo client: every message straight back, as the agent answers a command.
    socket = new WebSocket(`ws://127.0.0.1:${edge.port}/connect`);
    socket.addEventListener("message", (event) => socket!.send(event.data as string));
    await new Promise((resolve, reject) => {
      socket!.addEventListener("open", resolve, { once: true });
      socket!.addEventListener("error", () => reject(new Error("the echo client could not connect")), { once: true });
    });
    await get("/roundtrip");
    log(`runtime worker on ${url}`);
    return { get, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
