// The agent's resident memory, measured on a real agent process (the bench process's own RSS would
// count the benchmark, the API client and every simulated agent).
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Api, mapLimit, sleep } from "./api.ts";

const ROOT = join(import.meta.dirname, "..");

export interface Footprint {
  command: string;
  idle_rss_mib: number;
  /** With its child processes (tsx may start an esbuild service). */
  idle_tree_rss_mib: number;
  load_rss_mib_max: number;
  load_rss_mib_end: number;
  peak_rss_mib: number;
  load_requests: number;
  load_seconds: number;
  load_failures: number;
}

/** VmRSS / VmHWM of a process, in MiB. */
async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: round1(kib("VmRSS") / 1024), hwm: round1(kib("VmHWM") / 1024) };
}

/**
 * Starts `node <nodeArgs> agent-relay/src/main.ts` for `host`, waits for it to come online and
 * settle, reads its RSS, then lists containers through it from `concurrency` loops for `loadMs`.
 */
export async function measureAgentFootprint(
  api: Api,
  host: { id: string; agent_token: string },
  nodeArgs: string[],
  options: { settleMs: number; loadMs: number; concurrency: number },
): Promise<Footprint> {
  const args = [...nodeArgs, "agent-relay/src/main.ts"];
  let output = "";
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PIER_URL: api.url, PIER_AGENT_TOKEN: host.agent_token, PIER_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await api.waitOnline(host.id).catch((error) => {
      throw new Error(`${error.message}; agent output:\n${output.slice(-2000)}`);
    });
    // Let startup garbage be collected and the stats readers start before calling it idle.
    await sleep(options.settleMs);
    const idle = await memory(child.pid!);
    const idleTree = await treeRssMiB(child.pid!);

    let rssMax = idle.rss;
    let requests = 0;
    let failures = 0;
    const started = Date.now();
    const sampler = setInterval(
      () =>
        void memory(child.pid!).then(
          (m) => (rssMax = Math.max(rssMax, m.rss)),
          () => {},
        ),
      100,
    );
    await mapLimit(Array.from({ length: options.concurrency }), options.concurrency, async () => {
      while (Date.now() - started < options.loadMs) {
        await api.call("GET", `/api/v1/hosts/${host.id}/containers?all=true`).then(
          () => requests++,
          () => failures++,
        );
      }
    });
    clearInterval(sampler);
    const end = await memory(child.pid!);
    return {
      command: `node ${args.join(" ")}`,
      idle_rss_mib: idle.rss,
      idle_tree_rss_mib: idleTree,
      load_rss_mib_max: Math.max(rssMax, end.rss),
      load_rss_mib_end: end.rss,
      peak_rss_mib: end.hwm,
      load_requests: requests,
      load_seconds: round1((Date.now() - started) / 1000),
      load_failures: failures,
    };
  } finally {
    const alive = () => child.exitCode === null && child.signalCode === null;
    if (alive()) {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (alive()) child.kill("SIGKILL");
    }
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Resident memory of a process and all its descendants (the stack: libSQL, wrangler, workerd), in MiB. */
export async function treeRssMiB(root: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 (ppid) follows the ")" that ends the command name, which may itself hold spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const inTree = (pid: number): boolean => pid === root || (parents.has(pid) && inTree(parents.get(pid)!));
  let total = 0;
  for (const pid of parents.keys()) {
    if (inTree(pid))
      total += await memory(pid).then(
        (m) => m.rss,
        () => 0,
      );
  }
  return round1(total);
}
