// npm start's one-click local host (issue 11.3): a control server on a loopback port that the
// Worker calls (contract: worker/lib/local-agent.ts), and a supervisor that runs the bundled agent
// (agent-relay/dist/pier-agent.js) for the attached host against this machine's Docker engine.
// The assignment is kept in the data directory (mode 600: it holds the agent token), so the agent
// comes back with the next `npm start`; an agent that dies is started again after a backoff.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostNameOf, LocalAgentAssignment, LocalAgentRelease, type LocalAgentStatus } from "../worker/lib/local-agent.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const AGENT_DIR = join(ROOT, "agent-relay");
export const AGENT_BUNDLE = join(AGENT_DIR, "dist", "pier-agent.js");

const RESTART_BASE_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** An agent that ran this long before dying was healthy: its next restart starts the backoff over. */
const HEALTHY_AFTER_MS = 60_000;
/** The agent's exit code for a configuration error (sysexits EX_CONFIG): restarting cannot help. */
const EXIT_CONFIG = 78;

export interface LocalAgentControl {
  /** What the Worker gets as PIER_LOCAL_AGENT_CONTROL: loopback, with a random secret as the path. */
  url: string;
  /** Starts the agent of the host attached in an earlier run, if any (once the Worker is up). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Builds the agent bundle when it is missing or older than its sources (a checkout has no dist/). */
async function ensureBundle(say: (line: string) => void): Promise<void> {
  if (existsSync(AGENT_BUNDLE) && (await stat(AGENT_BUNDLE)).mtimeMs >= (await newestMtime(join(AGENT_DIR, "src")))) return;
  say("building the agent bundle (agent-relay/dist/pier-agent.js)");
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, [join(AGENT_DIR, "build.ts")], { cwd: AGENT_DIR, stdio: ["ignore", "inherit", "inherit"] });
    build.once("error", reject);
    build.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`the agent build failed (exit ${code})`))));
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error("body too large");
  }
  return body;
}

export async function startLocalAgentControl(options: {
  dataDir: string;
  /** Where the agent reaches the Worker (npm start's own address). */
  pierUrl: string;
  say: (line: string) => void;
}): Promise<LocalAgentControl> {
  const { dataDir, pierUrl, say } = options;
  const stateFile = join(dataDir, "local-agent.json");
  const logFile = join(dataDir, "local-agent.log");
  const machine = hostNameOf(hostname());
  const secret = randomBytes(24).toString("base64url");

  let assignment: LocalAgentAssignment | null = null;
  let child: ChildProcess | null = null;
  let log: WriteStream | null = null;
  let restartTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopping = false;

  const stopChild = async () => {
    clearTimeout(restartTimer);
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once("exit", r));
    running.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
  };

  const run = (current: LocalAgentAssignment) => {
    log ??= createWriteStream(logFile, { flags: "a", mode: 0o600 });
    const started = Date.now();
    const agent = spawn(process.execPath, [AGENT_BUNDLE], {
      cwd: dataDir,
      // The agent's own settings (DOCKER_HOST, PIER_LOG_LEVEL, …) come from npm start's environment.
      env: { ...process.env, PIER_URL: pierUrl, PIER_AGENT_TOKEN: current.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = agent;
    agent.stdout?.pipe(log, { end: false });
    agent.stderr?.pipe(log, { end: false });
    say(`local agent started for host ${current.host_id} (pid ${agent.pid}; log: ${logFile})`);
    agent.once("exit", (code, signal) => {
      if (child !== agent || stopping) return;
      child = null;
      if (code === EXIT_CONFIG) {
        say(`the local agent refused its configuration (exit ${code}): see ${logFile}`);
        return;
      }
      failures = Date.now() - started >= HEALTHY_AFTER_MS ? 1 : failures + 1;
      const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (failures - 1));
      say(`the local agent exited (${signal ?? code}); starting it again in ${delay / 1000} s`);
      restartTimer = setTimeout(() => {
        if (!stopping && assignment === current) run(current);
      }, delay);
    });
  };

  // The bundle is built at most once per run, and ahead of the first click (see below).
  let bundle: Promise<void> | undefined;
  const bundleReady = () =>
    (bundle ??= ensureBundle(say).catch((err: Error) => {
      bundle = undefined; // the next click tries again
      throw err;
    }));

  /** Takes the assignment at once (the Worker is waiting); the agent follows once its bundle is ready. */
  const assign = async (next: LocalAgentAssignment) => {
    await writeFile(stateFile, `${JSON.stringify(next)}\n`, { mode: 0o600 });
    assignment = next;
    failures = 0;
    void (async () => {
      try {
        await bundleReady();
        await stopChild();
        if (assignment === next && !stopping) run(next);
      } catch (err) {
        say(`the local agent cannot start: ${(err as Error).message}`);
      }
    })();
  };

  /** The host is gone: its agent's token is revoked, so the agent stops and is not resumed again. */
  const release = async (hostId: string) => {
    if (assignment?.host_id !== hostId) return;
    assignment = null;
    await rm(stateFile, { force: true });
    await stopChild();
    say(`the local agent for host ${hostId} stopped: the host was deleted`);
  };

  const status = (): LocalAgentStatus => ({
    machine,
    host_id: assignment?.host_id ?? null,
    running: child !== null && child.exitCode === null,
  });

  const server: Server = createServer((req, res) => {
    const answer = (code: number, body?: unknown) => {
      res.writeHead(code, body === undefined ? {} : { "content-type": "application/json" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.url !== `/${secret}`) return answer(404, { error: "not found" });
    if (req.method === "GET") return answer(200, status());
    if (req.method === "DELETE") {
      readBody(req)
        .then(async (text) => {
          const parsed = LocalAgentRelease.safeParse(JSON.parse(text || "null"));
          if (!parsed.success) return answer(400, { error: "expected {host_id}" });
          await release(parsed.data.host_id);
          answer(204);
        })
        .catch((err: Error) => answer(500, { error: err.message }));
      return;
    }
    if (req.method !== "PUT") return answer(405, { error: "GET, PUT or DELETE" });
    readBody(req)
      .then(async (text) => {
        const parsed = LocalAgentAssignment.safeParse(JSON.parse(text || "null"));
        if (!parsed.success) return answer(400, { error: "expected {host_id, token}" });
        await assign(parsed.data);
        answer(204);
      })
      .catch((err: Error) => answer(500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/${secret}`,
    async resume() {
      if (!existsSync(stateFile) || assignment) {
        // Nothing attached yet: have the bundle ready for the first click.
        if (!assignment) bundleReady().catch((err: Error) => say(`the agent bundle could not be built: ${err.message}`));
        return;
      }
      try {
        const saved = LocalAgentAssignment.parse(JSON.parse(await readFile(stateFile, "utf8")));
        await bundleReady();
        assignment = saved;
        run(saved);
      } catch (err) {
        say(`ignoring ${stateFile} (${(err as Error).message}); attach this machine again from the dashboard`);
        await rm(stateFile, { force: true });
      }
    },
    async stop() {
      stopping = true;
      await stopChild();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      log?.end();
    },
  };
}
