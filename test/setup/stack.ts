// Starts Pier the way a user does — `npm start` (scripts/start.ts) — on a temporary data
// directory and a free port, for end-to-end tests and benchmarks.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Stack {
  url: string;
  dataDir: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * How long a stack may take to come up before it counts as stuck. Not a timing expectation: the
 * wait ends as soon as npm start says it is up or exits, and a machine loaded by other suites
 * has taken over 2 minutes to build and start wrangler. Hooks that start a stack allow this plus
 * a margin.
 */
export const STACK_START_TIMEOUT_MS = 600_000;

/** `npm start` failed because a port it had picked was taken before it could listen on it. */
class PortTaken extends Error {}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  // The stack picks free ports (this one for the edge proxy, npm start one for wrangler dev) and
  // binds them seconds later, once built: on a busy machine (other stacks, thousands of outgoing
  // connections on ephemeral ports) another process can take one in between. Pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

async function startOnce(env: Record<string, string>): Promise<Stack> {
  const ownDataDir = env.PIER_DATA_DIR === undefined;
  const dataDir = env.PIER_DATA_DIR ?? (await mkdtemp(join(tmpdir(), "pier-e2e-")));
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: { ...process.env, PIER_DATA_DIR: dataDir, PORT: String(port), WRANGLER_LOG: "warn", WRANGLER_SEND_METRICS: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const halt = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const stop = async () => {
    await halt();
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + STACK_START_TIMEOUT_MS;
  while (!output.includes("Pier is up")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await halt();
      // A data directory the caller gave is theirs (a restart's), even when the start failed.
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
      const message = `npm start did not come up:\n${output}`;
      throw /Address already in use|EADDRINUSE|port \d+ (on 127\.0\.0\.1 )?is already in use/.test(output)
        ? new PortTaken(message)
        : new Error(message);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, dataDir, process: child, output: () => output, stop };
}
