// `npm run bench:agent`: only part (d) of `npm run bench`, the agent's resident memory, for working
// on it: one stack, BENCH_FOOTPRINT_CONTAINERS (50) containers that log a line a second, then each
// variant measured in turn as bench/footprint.ts measures it (idle, then streaming stats and logs).
//
// AGENT_RELAY_ITERATIONS (200, 0 for none): after the load, a container list through each variant's
// agent against the Docker socket, alternated, so options are compared on relay latency too.
// AGENT_BREAKDOWN=1: the agent's own process.memoryUsage() and V8 heap figures, idle and under load
// (bench/agent-memory-report.mjs, preloaded: ~1 MiB more RSS, so not for the footprint itself).
//
// AGENT_VARIANTS: variants separated by `;`, each the node options to try (empty: the bundle run as
// the bin, by its shebang; `-` alone: plain `node <bundle>`), optionally followed by `@path` to
// another bundle; NAME=value words set the agent's environment. Example:
//   AGENT_VARIANTS=";-;--max-semi-space-size=1 --jitless" npm run bench:agent
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startStack } from "../test/setup/stack.ts";
import { Api } from "./api.ts";
import { DirectDocker } from "./docker.ts";
import { measureAgentFootprint, type Footprint } from "./footprint.ts";
import { round } from "./stats.ts";

const CONTAINERS = Number(process.env.BENCH_FOOTPRINT_CONTAINERS ?? 50);
const VARIANTS = (process.env.AGENT_VARIANTS ?? "").split(";").map((v) => {
  const [flags = "", bundle] = v.split("@");
  const words = flags.split(" ").filter(Boolean);
  // NAME=value words are the agent's environment (MALLOC_ARENA_MAX=2), the rest node's options.
  const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split(/=(.*)/s).slice(0, 2)));
  const nodeArgs = words.filter((w) => !/^[A-Z_]+=/.test(w) && w !== "-");
  return { nodeArgs: nodeArgs.length || flags.includes("-") ? nodeArgs : undefined, bundle: bundle?.trim() || undefined, env };
});
const RELAY_ITERATIONS = Number(process.env.AGENT_RELAY_ITERATIONS ?? 200);
const BREAKDOWN = process.env.AGENT_BREAKDOWN === "1";
const runId = `am${Date.now().toString(36)}`;
const log = (line: string) => console.error(`[bench:agent] ${line}`);

const docker = new DirectDocker();
const stack = await startStack({ PIER_OPEN_REGISTRATION: "true", PIER_RATE_LIMIT_PER_MINUTE: "1000000" });
const api = new Api(stack.url);
const rows: Array<Footprint & { load_average: number[] }> = [];
try {
  await api.registerAndLogin(runId);
  if (!process.env.AGENT_NO_BUILD)
    await promisify(execFile)(process.execPath, ["agent-relay/build.ts"], { cwd: join(import.meta.dirname, "..") });
  log(`starting ${CONTAINERS} containers`);
  const ticking = await docker.createBenchContainers(CONTAINERS, runId, {
    prefix: "fp-",
    cmd: ["sh", "-c", "while :; do echo tick; sleep 1; done"],
  });
  for (const [i, variant] of VARIANTS.entries()) {
    const host = await api.createHost(`${runId}-${i}`);
    const footprint = await measureAgentFootprint(api, host, {
      settleMs: 10_000,
      loadMs: 15_000,
      concurrency: 4,
      logContainers: ticking.slice(0, 10),
      runningContainers: () => docker.runningCount(),
      relayIterations: RELAY_ITERATIONS,
      directList: () => docker.listContainers(),
      breakdown: BREAKDOWN,
      ...variant,
    });
    rows.push({ ...footprint, load_average: loadavg().map((x) => round(x, 1)) });
    log(
      `${footprint.command} (load average ${loadavg()[0]!.toFixed(1)}): idle ${footprint.idle_tree_rss_mib} MiB (${footprint.idle_rss_anon_mib} anonymous + ` +
        `${footprint.idle_rss_file_mib} file-backed), under load ${footprint.load_tree_rss_mib_max} MiB, ` +
        `${footprint.load_requests} requests, ${footprint.cpu_seconds} s CPU` +
        (footprint.relay
          ? `; list p50 ${footprint.relay.api.p50} ms through it vs ${footprint.relay.direct.p50} ms Docker ` +
            `(ratio p50 ${footprint.relay.ratio.p50}x, p99 ${footprint.relay.ratio.p99}x)`
          : ""),
    );
  }
} finally {
  await docker.removeBenchContainers(runId).catch((error) => log(`removing containers: ${error}`));
  await api.close();
  await docker.close();
  await stack.stop();
}
console.log(JSON.stringify(rows, null, 2));
