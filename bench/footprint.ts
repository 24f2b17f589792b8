// The agent's resident memory, measured on a real agent process as hosts run it — the bundled
// package (agent-relay/dist/pier-agent.js, built by agent-relay/build.ts) under plain `node` — as the
// whole process tree (the bench process's own RSS would count the benchmark, the API client and
// every simulated agent). Idle: settled, with every running container's stats followed. Under
// load: container lists and stats from several loops while followed log streams run.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { type Api, mapLimit, sleep } from "./api.ts";
import { ratios, round, summarize, timed, type Summary } from "./stats.ts";

const ROOT = join(import.meta.dirname, "..");
export const AGENT_BUNDLE = join(ROOT, "agent-relay/dist/pier-agent.js");

export interface Footprint {
  command: string;
  /** Containers running on the engine while measuring (the agent follows each one's stats). */
  running_containers: number;
  idle_rss_mib: number;
  /**
   * Of idle_rss_mib: anonymous memory (the agent's own: heap, buffers, stacks) and file-backed pages
   * (mostly the node binary's code, shared with every other node process and reclaimable).
   */
  idle_rss_anon_mib: number;
  idle_rss_file_mib: number;
  /** The whole process tree (the agent is meant to be one process). */
  idle_tree_rss_mib: number;
  processes: number;
  load_tree_rss_mib_max: number;
  load_rss_mib_end: number;
  peak_rss_mib: number;
  load_requests: number;
  load_log_streams: number;
  load_log_lines: number;
  load_seconds: number;
  load_failures: number;
  /** The agent's CPU time (user + system) from its start to the end of the load, in seconds. */
  cpu_seconds: number;
  /**
   * With `breakdown`: the agent's own process.memoryUsage() and V8 heap figures, idle and at the
   * end of the load (bench/agent-memory-report.mjs).
   */
  breakdown?: { idle: unknown; load: unknown };
  /**
   * The baseline in the same run: plain `node` with the agent's V8 options, running nothing but a
   * timer. What the agent holds above it is the agent's own; below it no Node.js program can go.
   */
  node_alone: { command: string; rss_mib: number; anon_mib: number; file_mib: number };
  /** With `relayIterations`: the container list through this agent against the Docker socket. */
  relay?: { api: Summary; direct: Summary; ratio: { p50: number; p99: number; mean: number }; added_p50_ms: number };
}

/** User + system CPU time of a process, in seconds (/proc/<pid>/stat fields 14 and 15, in ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return round1((Number(fields[11]) + Number(fields[12])) / 100);
}

/** VmRSS / VmHWM of a process, and VmRSS split into RssAnon and RssFile (+ RssShmem), in MiB. */
async function memory(pid: number): Promise<{ rss: number; hwm: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return {
    rss: round1(kib("VmRSS") / 1024),
    hwm: round1(kib("VmHWM") / 1024),
    anon: round1(kib("RssAnon") / 1024),
    file: round1((kib("RssFile") + kib("RssShmem")) / 1024),
  };
}

/**
 * Starts `node agent-relay/dist/pier-agent.js` for `host`, waits for it to come online and settle,
 * reads its tree's RSS, then for `loadMs` lists containers and reads stats from `concurrency`
 * loops while `logStreams` followed log streams (of `logContainers`) run.
 */
export async function measureAgentFootprint(
  api: Api,
  host: { id: string; agent_token: string },
  options: {
    settleMs: number;
    loadMs: number;
    concurrency: number;
    logContainers: string[];
    runningContainers: () => Promise<number>;
    /** Node options before the bundle (bench/agent-memory.ts compares them), and another bundle. */
    nodeArgs?: string[];
    bundle?: string;
    /** More environment for the agent (MALLOC_ARENA_MAX, …). */
    env?: Record<string, string>;
    /** Preload bench/agent-memory-report.mjs and ask the agent for its own figures (adds ~1 MiB). */
    breakdown?: boolean;
    /**
     * After the load: this many rounds of a container list through the agent and straight from
     * the Docker socket (`directList`), alternated, so agents run with different options can be
     * compared on relay latency, not only on memory.
     */
    relayIterations?: number;
    directList?: () => Promise<unknown>;
  },
): Promise<Footprint> {
  // As the bin runs: the bundle itself, whose shebang holds its node options; or, to compare
  // options, `node <options> <bundle>`.
  const bundle = options.bundle ?? AGENT_BUNDLE;
  const [file, args] = options.nodeArgs ? [process.execPath, [...options.nodeArgs, bundle]] : [bundle, []];
  const shebang = (await readFile(bundle, "utf8")).split("\n", 1)[0]!;
  let output = "";
  const reportDir = options.breakdown ? await mkdtemp(join(tmpdir(), "pier-bench-agent-")) : undefined;
  const reportFile = reportDir && join(reportDir, "memory.jsonl");
  const breakdownEnv = reportFile
    ? { NODE_OPTIONS: `--import=${join(import.meta.dirname, "agent-memory-report.mjs")}`, PIER_BENCH_MEMORY_REPORT: reportFile }
    : {};
  const report = async (): Promise<unknown> => {
    if (!reportFile) return undefined;
    const before = await readFile(reportFile, "utf8").catch(() => "");
    child.kill("SIGUSR2");
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const now = await readFile(reportFile, "utf8").catch(() => "");
      if (now.length > before.length) return JSON.parse(now.slice(before.length));
    }
    return "no report within 5 s";
  };
  const child = spawn(file, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PIER_URL: api.url,
      PIER_AGENT_TOKEN: host.agent_token,
      PIER_LOG_LEVEL: "warn",
      ...options.env,
      ...breakdownEnv,
    },
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
    const running = await options.runningContainers();
    const idle = await memory(child.pid!);
    const idleTree = await treeRss(child.pid!);
    const idleReport = await report();
    const shebangWords = shebang.split(/\s+/);
    const nodeAlone = await measureNodeAlone(options.nodeArgs ?? shebangWords.slice(shebangWords.indexOf("node") + 1));

    let treeMax = idleTree.mib;
    let requests = 0;
    let failures = 0;
    let logLines = 0;
    const started = Date.now();
    const sampler = setInterval(
      () =>
        void treeRss(child.pid!).then(
          (m) => (treeMax = Math.max(treeMax, m.mib)),
          () => {},
        ),
      200,
    );
    const logs = new Pool(api.url, { connections: options.logContainers.length + 1, bodyTimeout: 0 });
    const stopLogs = new AbortController();
    const streams = options.logContainers.map(async (id) => {
      const res = await logs.request({
        method: "GET",
        path: `/api/v1/hosts/${host.id}/containers/${id}/logs?follow=true&tail=10`,
        headers: { authorization: `Bearer ${api.token}` },
        signal: stopLogs.signal,
      });
      res.body.setEncoding("utf8");
      res.body.on("data", (text: string) => (logLines += text.split("event: log").length - 1));
      await new Promise((resolve) => res.body.once("close", resolve).once("error", resolve));
    });
    const paths = [`/api/v1/hosts/${host.id}/containers?all=true`, `/api/v1/hosts/${host.id}/stats`];
    await mapLimit(Array.from({ length: options.concurrency }), options.concurrency, async (_, i) => {
      while (Date.now() - started < options.loadMs) {
        await api.call("GET", paths[(i + requests) % paths.length]!).then(
          () => requests++,
          () => failures++,
        );
      }
    });
    clearInterval(sampler);
    const end = await memory(child.pid!);
    const cpu = await cpuSeconds(child.pid!);
    const endTree = await treeRss(child.pid!);
    const loadReport = await report();
    stopLogs.abort();
    await Promise.allSettled(streams);
    await logs.destroy().catch(() => {});
    let relay: Footprint["relay"];
    if (options.relayIterations && options.directList) {
      const calls = [() => api.call("GET", paths[0]!), options.directList];
      const times: [number[], number[]] = [[], []];
      for (let i = 0; i < 50; i++) for (const call of calls) await call();
      for (let i = 0; i < options.relayIterations; i++) {
        // Alternating which goes first, so drift on a shared machine lands on both alike.
        for (const j of i % 2 ? [1, 0] : [0, 1]) times[j]!.push(await timed(calls[j]!));
      }
      const [viaApi, direct] = times.map(summarize) as [Summary, Summary];
      relay = { api: viaApi, direct, ratio: ratios(viaApi, direct), added_p50_ms: round(viaApi.p50 - direct.p50) };
    }
    const envText = Object.entries(options.env ?? {})
      .map(([k, v]) => `${k}=${v} `)
      .join("");
    return {
      command:
        envText +
        (options.nodeArgs
          ? `node ${[...options.nodeArgs, bundle].map((a) => a.replace(`${ROOT}/`, "")).join(" ")}`
          : `${bundle.replace(`${ROOT}/`, "")} (${shebang})`),
      running_containers: running,
      idle_rss_mib: idle.rss,
      idle_rss_anon_mib: idle.anon,
      idle_rss_file_mib: idle.file,
      idle_tree_rss_mib: idleTree.mib,
      processes: idleTree.processes,
      node_alone: nodeAlone,
      load_tree_rss_mib_max: Math.max(treeMax, endTree.mib),
      load_rss_mib_end: end.rss,
      peak_rss_mib: end.hwm,
      load_requests: requests,
      load_log_streams: options.logContainers.length,
      load_log_lines: logLines,
      load_seconds: round1((Date.now() - started) / 1000),
      load_failures: failures,
      cpu_seconds: cpu,
      breakdown: reportFile ? { idle: idleReport, load: loadReport } : undefined,
      relay,
    };
  } finally {
    if (reportDir) await rm(reportDir, { recursive: true, force: true });
    const alive = () => child.exitCode === null && child.signalCode === null;
    if (alive()) {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (alive()) child.kill("SIGKILL");
    }
  }
}

const round1 = (x: number) => round(x, 1);

/** Plain `node` with these options and a timer, settled for as long as an idle agent is given at least. */
async function measureNodeAlone(nodeArgs: string[]): Promise<Footprint["node_alone"]> {
  const script = "setInterval(() => {}, 2 ** 30)";
  const child = spawn(process.execPath, [...nodeArgs, "-e", script], { stdio: "ignore" });
  try {
    await sleep(3_000);
    const m = await memory(child.pid!);
    return { command: `node ${[...nodeArgs, "-e", `'${script}'`].join(" ")}`, rss_mib: m.rss, anon_mib: m.anon, file_mib: m.file };
  } finally {
    child.kill("SIGKILL");
  }
}

/** Resident memory of a process and all its descendants (the stack: libSQL, wrangler, workerd), in MiB. */
export async function treeRssMiB(root: number): Promise<number> {
  return (await treeRss(root)).mib;
}

async function treeRss(root: number): Promise<{ mib: number; processes: number }> {
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
  let processes = 0;
  for (const pid of new Set([root, ...parents.keys()])) {
    if (!inTree(pid)) continue;
    processes++;
    total += await memory(pid).then(
      (m) => m.rss,
      () => 0,
    );
  }
  return { mib: round1(total), processes };
}
