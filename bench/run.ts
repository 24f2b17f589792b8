// `npm run bench`: Pier's performance targets (DESIGN.md, "Performance targets") measured in one
// run on one machine, against the real stack (`npm start`), a real agent and real containers.
// Prints a table and writes bench/results/<timestamp>.json and bench/results/latest.json.
//
// Knobs (environment): BENCH_CONTAINERS (10), BENCH_ITERATIONS (200), BENCH_SCALE ("1,50,200"),
// BENCH_BUDGET_S (300: a larger agent count is skipped, with the reason, once past it),
// BENCH_FOOTPRINT_CONTAINERS (50), BENCH_SUBSCRIBERS (1000), BENCH_TRANSFER_MB (64),
// BENCH_TRANSFER_ROUNDS (3), BENCH_SECTIONS ("a,b,c,d,e,f,g,h": the
// sections to run, e.g. "a,d" on a shared machine; the goals of sections not run read "not measured").
//
// Every container the run creates carries `dev.pier.bench=<run id>`, and only those are removed:
// the engine may be shared with other runs, tests and real workloads.
import { execFile } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { promisify } from "node:util";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../agent-relay/src/agent.ts";
import { DockerClient } from "../agent-relay/src/docker/client.ts";
import type { LogRecord } from "../agent-relay/src/log.ts";
import { startStack } from "../test/setup/stack.ts";
import { Api, HttpError, mapLimit, sleep } from "./api.ts";
import { deployReport, runDeployBench } from "./deploy.ts";
import { DirectDocker } from "./docker.ts";
import { runFanout, type FanoutResult } from "./fanout.ts";
import { startRuntimeWorker } from "./runtime.ts";
import { measureAgentFootprint, treeRssMiB, type Footprint } from "./footprint.ts";
import { ratios, round, summarize, timed, type Summary } from "./stats.ts";
import { runTransferBench, transferReport } from "./transfers.ts";

const N = Number(process.env.BENCH_CONTAINERS ?? 10);
const M = Number(process.env.BENCH_ITERATIONS ?? 200);
// Requests before timing starts: the Worker's code is JIT-cold at first, and the first requests
// also open the client's keep-alive connections.
const WARMUP = 100;
// A direct stats round takes 1-2 s (Docker waits for a second reading), so fewer rounds.
const DIRECT_STATS_ROUNDS = 10;
const SCALE = (process.env.BENCH_SCALE ?? "1,50,200").split(",").map(Number);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 300) * 1000;
const RESULTS = join(import.meta.dirname, "results");
const FOOTPRINT_CONTAINERS = Number(process.env.BENCH_FOOTPRINT_CONTAINERS ?? 50);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "a,b,c,d,e,f,g,h").split(",").map((x) => x.trim()));

const started = Date.now();
const runId = started.toString(36);
const log = (line: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

/**
 * Times one call. `wrangler dev` restarts the Worker whenever a file in its bundle changes, which
 * drops every agent socket for a moment; a 502/503 then is waited out and retried (and counted in
 * the results) rather than ending a run of several minutes. Only the successful attempt is timed.
 */
let interrupted = 0;
async function sample(fn: () => Promise<unknown>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await timed(fn);
    } catch (error) {
      if (attempt >= 5 || !(error instanceof HttpError && (error.status === 502 || error.status === 503))) throw error;
      interrupted++;
      log(`retrying after ${error.message.slice(0, 160)}`);
      await sleep(2_000);
    }
  }
}

/**
 * Times each call once per round, rotating which goes first, so background noise on a shared
 * machine (and any drift over the run) lands on every series alike.
 */
async function roundRobin<K extends string>(iterations: number, calls: Record<K, () => Promise<unknown>>): Promise<Record<K, Summary>> {
  const keys = Object.keys(calls) as K[];
  for (let i = 0; i < WARMUP; i++) for (const k of keys) await sample(calls[k]);
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(i + j) % keys.length]!;
      times[k].push(await sample(calls[k]));
    }
  }
  return Object.fromEntries(keys.map((k) => [k, summarize(times[k])])) as Record<K, Summary>;
}

async function series(iterations: number, fn: () => Promise<unknown>, warmup = WARMUP): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await sample(fn);
  const t: number[] = [];
  for (let i = 0; i < iterations; i++) t.push(await sample(fn));
  return summarize(t);
}

async function main(): Promise<Record<string, unknown>> {
  const results: Record<string, any> = {
    started_at: new Date(started).toISOString(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
    config: {
      containers: N,
      iterations: M,
      warmup: WARMUP,
      direct_stats_rounds: DIRECT_STATS_ROUNDS,
      scale: SCALE,
      sections: [...SECTIONS],
    },
    // Other work on the machine moves every figure: the 1-minute load average, sampled each phase.
    load_average: [round(loadavg()[0]!, 1)],
  };
  const loadSampler = setInterval(() => results.load_average.push(round(loadavg()[0]!, 1)), 30_000);
  loadSampler.unref();
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  // Agents log to memory, not stdout. Kept: warnings, errors and disconnects, with the agent's name.
  const incidents: Array<LogRecord & { agent: string }> = [];
  // The first agent logs at debug: its "command done" records time the agent's side of each list
  // (handler and Docker call), which splits the API's latency into relay and engine.
  const agentListMs: number[] = [];
  const agentLog = (agent: string) => (record: LogRecord) => {
    if (record.event === "command done" && record.op === "container.list") agentListMs.push(record.ms as number);
    if (record.level === "warn" || record.level === "error" || record.event === "disconnected") incidents.push({ agent, ...record });
  };

  try {
    const docker = new DirectDocker();
    cleanups.push(["close the docker pool", () => docker.close()]);
    results.machine.docker = (await docker.json<{ Version: string }>("GET", "/version")).Version;

    // 1. The stack, a user, a host and its agent.
    log("starting the stack (npm start)");
    const stack = await startStack({ PIER_OPEN_REGISTRATION: "true", PIER_RATE_LIMIT_PER_MINUTE: "1000000" });
    cleanups.push(["stop the stack", () => stack.stop()]);
    const api = new Api(stack.url);
    cleanups.push(["close the API pool", () => api.close()]);
    await api.registerAndLogin(runId);
    const host = await api.createHost(`bench-${runId}`);

    // Every in-process agent shares one Docker client (one undici dispatcher), as a real host would have one.
    const sharedDocker = new DockerClient();
    cleanups.push(["close the shared docker client", () => sharedDocker.close()]);
    const agents: RunningAgent[] = [];
    cleanups.push(["stop the agents", () => Promise.allSettled(agents.map((a) => a.stop()))]);
    agents.push(startAgent({ url: stack.url, token: host.agent_token, docker: sharedDocker, logLevel: "debug", onLog: agentLog("first") }));
    await api.waitOnline(host.id);
    log(`stack on ${stack.url}, host ${host.id} online`);

    // 2. The containers.
    cleanups.push(["remove the bench containers", () => docker.removeBenchContainers(runId)]);
    const ids = await docker.createBenchContainers(N, runId);
    log(`${N} containers running`);

    const listPath = `/api/v1/hosts/${host.id}/containers?all=true`;
    const apiList = () => api.call("GET", listPath);
    const directList = () => docker.listContainers();
    const [viaApi, direct] = await Promise.all([api.call<{ containers: unknown[] }>("GET", listPath), directList()]);
    results.containers_listed = { api: viaApi.containers.length, direct: direct.length };

    // 3a. Container list: relay overhead, and where Pier's time goes. The floor is a route that
    // does nothing (/livez: the dev server's own cost); an authenticated request to a path no route
    // serves adds exactly authentication and the rate limit (one RateLimiter DO call, no database
    // in steady state), /api/v1/me a database read besides; the list adds the relay (HostRelay DO,
    // the agent, the Docker call). The same path without a credential is counted against the
    // client's address: one RateLimiter call and nothing else. A Worker with nothing of Pier's in
    // it (bench/runtime.ts), timed in the same rounds, gives the runtime's own cost of one Durable
    // Object call and of one relay-shaped round trip, so what remains is Pier's own work.
    let list: Record<"api" | "direct", Summary> | undefined;
    if (SECTIONS.has("a")) {
      log(`(a) container list, ${M} iterations each`);
      agentListMs.length = 0;
      // The runtime's own costs, timed in the same rounds (bench/runtime.ts).
      const runtime = await startRuntimeWorker(log);
      cleanups.push(["stop the runtime worker", () => runtime.stop()]);
      const a = await roundRobin(M, {
        api: apiList,
        direct: directList,
        me: () => api.call("GET", "/api/v1/me"),
        // HEAD: no body either way, like the floor's 204 and the runtime worker's answers (a body
        // costs the dev server about a millisecond whatever its size). The list is measured
        // against the same 404 with its body.
        authed: () => api.call("HEAD", "/api/v1/bench-authenticated-no-route", undefined, 404),
        authed_get: () => api.call("GET", "/api/v1/bench-authenticated-no-route", undefined, 404),
        anonymous: () => api.callAnonymous("HEAD", "/api/v1/bench-anonymous-no-route", 404),
        floor: () => api.call("HEAD", "/livez", undefined, 204),
        runtime_floor: () => runtime.get("/floor"),
        runtime_call: () => runtime.get("/call"),
        runtime_roundtrip: () => runtime.get("/roundtrip"),
      });
      await runtime.stop();
      list = a;
      const runtimeCall = a.runtime_call.p50 - a.runtime_floor.p50;
      const runtimeRoundTrip = a.runtime_roundtrip.p50 - a.runtime_floor.p50;
      const agentSide = summarize(agentListMs.slice(-M));
      results.list = {
        api: a.api,
        direct: a.direct,
        ratio: ratios(a.api, a.direct),
        agent_side: agentSide,
        me: a.me,
        authed: a.authed,
        authed_get: a.authed_get,
        anonymous: a.anonymous,
        floor: a.floor,
        runtime: { floor: a.runtime_floor, call: a.runtime_call, roundtrip: a.runtime_roundtrip },
        // Pier's own milliseconds at p50: each layer minus the one below it.
        added_p50_ms: {
          auth_and_rate_limit: round(a.authed.p50 - a.floor.p50),
          relay: round(a.api.p50 - a.authed_get.p50 - a.direct.p50),
          // The split of auth_and_rate_limit: a Durable Object call in this runtime, and the rest.
          durable_object_call: round(a.anonymous.p50 - a.floor.p50),
          auth_beyond_the_call: round(a.authed.p50 - a.anonymous.p50),
          // What the runtime alone costs for the same shapes, in a Worker with nothing of Pier's
          // (bench/runtime/worker.js): one Durable Object call, and one call that waits for a
          // WebSocket echo; and what Pier adds to each beyond them.
          runtime_durable_object_call: round(runtimeCall),
          runtime_relay_round_trip: round(runtimeRoundTrip),
          auth_beyond_the_runtime: round(a.authed.p50 - a.floor.p50 - runtimeCall),
          relay_beyond_the_runtime: round(a.api.p50 - a.authed_get.p50 - a.direct.p50 - runtimeRoundTrip),
        },
      };
    }

    // 3b. Stats for every container: the agent's cache vs sampling each container.
    if (SECTIONS.has("b")) {
      log("(b) stats for every container");
      const statsPath = `/api/v1/hosts/${host.id}/stats`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        let samples: { id: string }[] = [];
        await sample(async () => ({ samples } = await api.call("GET", statsPath)));
        if (ids.every((id) => samples.some((s) => s.id === id))) break;
        if (Date.now() > deadline)
          throw new Error(`the stats cache holds ${samples.length} samples, not all ${N} bench containers, after 30 s`);
        await sleep(250);
      }
      const statsApi = await series(M, () => api.call("GET", statsPath));
      const statsDirect = await series(DIRECT_STATS_ROUNDS, () => Promise.all(ids.map((id) => docker.statsOnce(id))), 1);
      results.stats = { api: statsApi, direct: statsDirect, ratio: ratios(statsDirect, statsApi) };
    }

    // 3d. Agent footprint, before the simulated agents load this machine: the bundled agent with
    // FOOTPRINT_CONTAINERS of this run's containers running (each writes a log line a second).
    if (SECTIONS.has("d")) {
      log(`(d) agent footprint: building the bundle, starting ${Math.max(0, FOOTPRINT_CONTAINERS - N)} more containers`);
      await promisify(execFile)(process.execPath, ["agent-relay/build.ts"], { cwd: join(import.meta.dirname, "..") });
      const ticking = await docker.createBenchContainers(Math.max(0, FOOTPRINT_CONTAINERS - N), runId, {
        prefix: "fp-",
        cmd: ["sh", "-c", "while :; do echo tick; sleep 1; done"],
      });
      try {
        const fpHost = await api.createHost(`bench-${runId}-fp`);
        results.footprint = [
          await measureAgentFootprint(api, fpHost, {
            settleMs: 10_000,
            loadMs: 15_000,
            concurrency: 4,
            logContainers: ticking.slice(0, 10),
            runningContainers: () => docker.runningCount(),
            // The relay through the agent as hosts run it (its bundle and V8 options), where (a)
            // times an agent inside this process.
            relayIterations: M,
            directList,
          }),
        ];
      } finally {
        await Promise.allSettled(ticking.map((id) => docker.json("DELETE", `/containers/${id}?force=1`)));
      }
    }

    // 3g. One Docker event to many SSE subscribers.
    if (SECTIONS.has("g")) {
      log(`(g) one event to ${SUBSCRIBERS} SSE subscribers`);
      try {
        const fanout: FanoutResult = await runFanout({
          api,
          docker,
          hostId: host.id,
          runId,
          stackPid: stack.process.pid!,
          subscribers: SUBSCRIBERS,
          log,
        });
        fanout.stack_rss_mib.after = await treeRssMiB(stack.process.pid!);
        results.fanout = fanout;
      } catch (error) {
        results.fanout = { error: String((error as Error).message ?? error) };
        log(`(g) failed: ${(error as Error).message}`);
      }
    }

    // 3e/3f. Webhook deliveries and deployment overhead (bench/deploy.ts), before the scale step loads the machine.
    if (SECTIONS.has("e") || SECTIONS.has("f"))
      results.deployments = await runDeployBench({
        url: stack.url,
        api,
        hostId: host.id,
        runId,
        log,
        webhooks: SECTIONS.has("e"),
        deploys: SECTIONS.has("f"),
      });

    // 3h. Image save and load through the relay vs the Docker socket, before the scale step loads the machine.
    if (SECTIONS.has("h")) results.transfers = await runTransferBench({ api, hostId: host.id, runId, log });

    // 3c. Scale: the first host's list latency with more agents connected.
    const scale: Array<Record<string, unknown>> = [];
    results.scale = scale;
    const sims: Array<{ id: string; agent_token: string }> = [];
    for (const count of SECTIONS.has("c") ? SCALE : []) {
      // One agent costs nothing to report (see below), whatever the budget.
      if (count > 1 && Date.now() - started > BUDGET_MS) {
        scale.push({ agents: count, skipped: `the run passed its ${BUDGET_MS / 1000} s budget before this step` });
        continue;
      }
      log(`(c) scale: ${count} agents`);
      try {
        const add = count - 1 - sims.length;
        const fresh = await mapLimit(Array.from({ length: Math.max(0, add) }), 8, (_, i) =>
          api.createHost(`bench-${runId}-sim-${sims.length + i}`),
        );
        const t0 = Date.now();
        for (const h of fresh) {
          const name = `sim-${sims.push(h)}`;
          // Only the relay connection: no event feed or stats readers, so the engine's load stays
          // that of one host while the control plane holds `count` agents.
          agents.push(
            startAgent({
              url: stack.url,
              token: h.agent_token,
              docker: sharedDocker,
              hostname: name,
              events: false,
              statsCache: false,
              logLevel: "info",
              onLog: agentLog(name),
            }),
          );
        }
        await mapLimit(fresh, 8, (h) => api.waitOnline(h.id, 120_000));
        const connectSeconds = (Date.now() - t0) / 1000;
        // One agent is (a)'s own setup, already timed there with the same calls: not timed twice.
        const r =
          agents.length === 1 && list ? { api: list.api, direct: list.direct } : await roundRobin(M, { api: apiList, direct: directList });
        scale.push({
          agents: count,
          api: r.api,
          direct: r.direct,
          ratio: ratios(r.api, r.direct),
          connect_seconds: fresh.length ? Math.round(connectSeconds * 10) / 10 : undefined,
          timed_in: agents.length === 1 && list ? "(a)" : undefined,
          bench_process_rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
          stack_rss_mib: await treeRssMiB(stack.process.pid!),
        });
      } catch (error) {
        scale.push({ agents: count, error: String((error as Error).message ?? error) });
        log(`scale ${count} failed: ${(error as Error).message}`);
      }
    }
    // Every in-process agent should still be on its first connection; more means drops.
    results.agent_reconnects = agents.reduce((n, a) => n + Math.max(0, a.status().connection.connections - 1), 0);
    results.interrupted_requests = interrupted;
    results.token_renewals = api.renewals;
    results.agent_incidents = incidents.length;
    // Disconnects per second: a burst of them at one moment is a Worker restart, not a slow relay.
    const disconnects: Record<string, number> = {};
    for (const i of incidents)
      if (i.event === "disconnected") disconnects[i.time.slice(0, 19)] = (disconnects[i.time.slice(0, 19)] ?? 0) + 1;
    results.agent_disconnects = disconnects;
    results.agent_incident_samples = incidents.filter((i) => i.event !== "disconnected").slice(0, 10);
    return results;
  } finally {
    for (const [what, fn] of cleanups.reverse()) {
      await fn().catch((error) => log(`cleanup: could not ${what}: ${error}`));
    }
    clearInterval(loadSampler);
    results.finished_at = new Date().toISOString();
    results.duration_s = Math.round((Date.now() - started) / 1000);
  }
}

// ---- output ---------------------------------------------------------------------------------

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");

function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [
    `\n${title}`,
    row(header, widths),
    row(
      widths.map((w) => "-".repeat(w)),
      widths,
    ),
    ...rows.map((r) => row(r, widths)),
  ].join("\n");
}

const latencyRow = (label: string, s: Summary) => [label, String(s.n), ms(s.p50), ms(s.p99), ms(s.mean)];
const ratioRow = (label: string, r: { p50: number; p99: number; mean: number }) => [label, "", `${r.p50}x`, `${r.p99}x`, `${r.mean}x`];
const H = ["", "n", "p50", "p99", "mean"];

function report(r: Record<string, any>): string {
  const out: string[] = [
    `Pier bench ${r.started_at}: ${r.machine.cpus} CPU (${r.machine.cpu_model}), Node ${r.machine.node}, Docker ${r.machine.docker}; ` +
      `${r.config.containers} bench containers, ${r.containers_listed.direct} listed with all=true; ` +
      `load average ${Math.min(...r.load_average)}–${Math.max(...r.load_average)} (1 min, every 30 s)`,
  ];
  if (r.list)
    out.push(
      table("(a) Container list: API (Worker -> HostRelay DO -> agent -> Docker) vs Docker socket", H, [
        latencyRow("API  GET /api/v1/hosts/:id/containers?all=true", r.list.api),
        latencyRow("Docker GET /containers/json?all=1", r.list.direct),
        ratioRow("ratio API / Docker", r.list.ratio),
        latencyRow("  agent side of it: handler + Docker (1 ms steps)", r.list.agent_side),
        latencyRow("  authenticated, no relay: GET /api/v1/me (+1 database read)", r.list.me),
        ...(r.list.authed_get ? [latencyRow("  authenticated, a path no route serves: GET (404 and its body)", r.list.authed_get)] : []),
        latencyRow("  authentication + rate limit only: HEAD, a path no route serves (404)", r.list.authed),
        latencyRow("  the same without a credential: one RateLimiter call by address (HEAD, 404)", r.list.anonymous),
        latencyRow("  Worker floor, a route that does nothing: HEAD /livez", r.list.floor),
        ...(r.list.runtime
          ? [
              latencyRow("the runtime alone (bench/runtime/worker.js, nothing of Pier's): a route that does nothing", r.list.runtime.floor),
              latencyRow("  one Durable Object call", r.list.runtime.call),
              latencyRow("  one Durable Object call that waits for a WebSocket echo", r.list.runtime.roundtrip),
            ]
          : []),
      ]),
    );
  if (r.stats)
    out.push(
      table(`(b) Stats for all ${r.config.containers} containers`, H, [
        latencyRow("API  GET /api/v1/hosts/:id/stats (agent cache)", r.stats.api),
        latencyRow("Docker stats?stream=false for each, in parallel", r.stats.direct),
        ratioRow("ratio Docker / API", r.stats.ratio),
      ]),
    );
  if (r.scale.length)
    out.push(
      table(
        "(c) Container list on the first host vs connected agents",
        ["agents", "API p50", "API p99", "Docker p50", "ratio p50", "ratio p99", "connect", "bench RSS", "stack RSS"],
        r.scale.map((s: any) =>
          s.api
            ? [
                String(s.agents),
                ms(s.api.p50),
                ms(s.api.p99),
                ms(s.direct.p50),
                `${s.ratio.p50}x`,
                `${s.ratio.p99}x`,
                s.connect_seconds === undefined ? "" : `${s.connect_seconds} s`,
                `${s.bench_process_rss_mib} MiB`,
                `${s.stack_rss_mib} MiB`,
              ]
            : [String(s.agents), s.skipped ? `skipped: ${s.skipped}` : `failed: ${s.error}`],
        ),
      ),
    );
  if (r.footprint)
    out.push(
      table(
        "(d) Agent resident memory: the bundled agent under plain node, whole process tree",
        [
          "command",
          "containers",
          "processes",
          "idle",
          "idle: anonymous + file-backed",
          "plain node, same options, idle",
          "under load (max)",
          "load",
          "list through it p50 / Docker p50",
        ],
        r.footprint.map((f: Footprint) => [
          f.command,
          `${f.running_containers} running`,
          String(f.processes),
          `${f.idle_tree_rss_mib} MiB`,
          `${f.idle_rss_anon_mib} + ${f.idle_rss_file_mib} MiB`,
          f.node_alone ? `${f.node_alone.rss_mib} MiB (${f.node_alone.anon_mib} + ${f.node_alone.file_mib})` : "",
          `${f.load_tree_rss_mib_max} MiB`,
          `${f.load_requests} lists/stats in ${f.load_seconds} s (${Math.round(f.load_requests / f.load_seconds)}/s) + ${f.load_log_streams} followed logs (${f.load_log_lines} lines)${f.load_failures ? `, ${f.load_failures} failed` : ""}`,
          f.relay ? `${ms(f.relay.api.p50)} / ${ms(f.relay.direct.p50)} (${f.relay.ratio.p50}x)` : "",
        ]),
      ),
    );
  if (r.fanout?.error) out.push(`\n(g) One event to ${SUBSCRIBERS} SSE subscribers: failed: ${r.fanout.error}`);
  else if (r.fanout) {
    const f = r.fanout as FanoutResult;
    out.push(
      table(
        `(g) One Docker event to ${f.subscribers} SSE subscribers (${f.ready} ready in ${f.open_seconds} s; as many GET /livez at once ` +
          `${f.floor_seconds} s, the dev server's floor; ${f.delivered} delivered` +
          `${f.failed_to_open ? `; ${f.failed_to_open} not opened: ${f.open_error}` : ""})`,
        H,
        [
          latencyRow("from the event's time (includes the agent's ≤250 ms batching)", f.from_event_time),
          latencyRow("from the first subscriber's arrival (fan-out spread)", f.from_first_arrival),
        ],
      ) +
        `\nstack RSS: ${f.stack_rss_mib.before} MiB before, ${f.stack_rss_mib.subscribed} MiB with ${f.subscribers} streams open, ${f.stack_rss_mib.after} MiB after`,
    );
  }
  if (r.agent_reconnects > 0) {
    out.push(
      `\nWARNING: agents reconnected ${r.agent_reconnects} times and ${r.interrupted_requests} requests were retried. wrangler dev ` +
        "restarts the Worker (dropping every agent socket, close code 1006) whenever a source file in its bundle changes; " +
        "run the bench on a quiet tree.",
    );
  }
  const bursts = Object.entries(r.agent_disconnects as Record<string, number>).map(([at, n]) => `${n} at ${at}Z`);
  out.push(`agent reconnects: ${r.agent_reconnects}${bursts.length ? ` (disconnects: ${bursts.join(", ")})` : ""}`);
  for (const i of r.agent_incident_samples) out.push(`agent ${i.agent}: ${i.level} ${i.event} ${JSON.stringify(i)}`);
  if (r.deployments) out.push(...deployReport(r.deployments));
  out.push(...transferReport(r.transfers));
  out.push(goals(r));
  out.push(`total ${r.duration_s} s`);
  return out.join("\n");
}

const MIB = 1024 * 1024;

/**
 * Where the relay's milliseconds go, at p50: a Durable Object call costs what the RateLimiter's
 * did (anonymous 404 - floor), the agent's own share is its handler's time less Docker's (1 ms
 * steps, so approximate), and the rest is the WebSocket round trip and the Worker's own work.
 */
function relaySplit(r: Record<string, any>): string {
  const how = `p50 list - p50 authenticated ${r.list?.authed_get ? "GET " : ""}404 - p50 Docker`;
  const added = r.list?.added_p50_ms;
  if (added?.durable_object_call === undefined) return how;
  const agentOwn = round(Math.max(0, r.list.agent_side.p50 - r.list.direct.p50));
  if (added.runtime_relay_round_trip !== undefined) {
    const pier = round(added.relay - added.runtime_relay_round_trip - agentOwn);
    return `${how}: ~${added.runtime_relay_round_trip} ms the runtime's own (a Durable Object call waiting for a WebSocket echo, nothing of Pier's), ~${agentOwn} ms the agent's own, ~${pier} ms Pier's Worker and HostRelay`;
  }
  const rest = round(added.relay - added.durable_object_call - agentOwn);
  return `${how}: ~${added.durable_object_call} ms a Durable Object call (as the RateLimiter's), ~${agentOwn} ms the agent's own, ~${rest} ms the WebSocket round trip and the rest`;
}

/** Where authentication's milliseconds go, at p50: the runtime's Durable Object call, and Pier's own. */
function authSplit(r: Record<string, any>): string {
  const how = "p50 authenticated 404 - p50 /livez";
  const added = r.list?.added_p50_ms;
  if (added?.durable_object_call === undefined) return how;
  if (added.runtime_durable_object_call !== undefined)
    return `${how}: ~${added.runtime_durable_object_call} ms the runtime's own Durable Object call (nothing of Pier's), ~${added.auth_beyond_the_runtime} ms Pier's own (anonymous 404 - /livez: ${added.durable_object_call} ms)`;
  return `${how}: ${added.durable_object_call} ms the RateLimiter call alone (anonymous 404 - /livez), ${added.auth_beyond_the_call} ms the rest`;
}

/** The goals of issue 10, each beside this run's measurement. */
function goals(r: Record<string, any>): string {
  const row = (goal: string, measured: number | undefined, unit: string, ok: (x: number) => boolean, note = "") => [
    goal,
    measured === undefined || !Number.isFinite(measured) ? "not measured" : `${round(measured)} ${unit}`,
    measured === undefined || !Number.isFinite(measured) ? "?" : ok(measured) ? "met" : "NOT MET",
    note,
  ];
  const hooks = (r.deployments?.webhooks ?? []) as Array<{
    kind: string;
    per_second: number;
    sent: number;
    recorded: number;
    acknowledged: number;
  }>;
  const slowest = hooks.length ? Math.min(...hooks.map((w) => w.per_second)) : undefined;
  const lost = hooks.reduce((n, w) => n + (w.sent - w.recorded) + (w.sent - w.acknowledged), 0);
  const fp = (r.footprint ?? [])[0] as Footprint | undefined;
  return table(
    "Goals (issue 10) beside this run",
    ["goal", "measured", "", "how"],
    [
      row("auth + rate limit add <= 1 ms over the floor", r.list?.added_p50_ms.auth_and_rate_limit, "ms", (x) => x <= 1, authSplit(r)),
      row("the relay adds <= 2 ms over the Docker socket", r.list?.added_p50_ms.relay, "ms", (x) => x <= 2, relaySplit(r)),
      row(
        "1 000 subscribers: p99 <= 100 ms",
        r.fanout?.failed_to_open ? Number.NaN : r.fanout?.from_event_time?.p99,
        "ms",
        (x) => x <= 100,
        r.fanout?.failed_to_open ? `${r.fanout.failed_to_open} streams did not open` : "from the event's time",
      ),
      row(
        ">= 300 webhook acknowledgements/s, none lost",
        lost ? 0 : slowest,
        "/s",
        (x) => x >= 300,
        lost
          ? `${lost} lost or unacknowledged`
          : r.deployments?.webhook_floor && slowest !== undefined
            ? `slower kind; the floor (GET /livez) ${r.deployments.webhook_floor.per_second}/s: ${round(slowest / r.deployments.webhook_floor.per_second, 2)} of it`
            : "slower of the two kinds",
      ),
      // The goals are in MB (10^6 bytes); the measurements in MiB.
      row(
        "agent <= 50 MB (47.7 MiB) idle",
        fp?.idle_tree_rss_mib,
        "MiB",
        (x) => x <= 50e6 / MIB,
        fp
          ? `RSS, ${fp.running_containers} containers running; ${fp.idle_rss_anon_mib} MiB anonymous, ` +
              `${fp.idle_rss_file_mib} MiB file-backed (the node binary's code, shared); plain node with the same options ` +
              `and nothing to do: ${fp.node_alone.rss_mib} MiB (${fp.node_alone.anon_mib} + ${fp.node_alone.file_mib})`
          : "",
      ),
      row(
        "agent <= 70 MB (66.8 MiB) streaming stats and logs",
        fp?.load_tree_rss_mib_max,
        "MiB",
        (x) => x <= 70e6 / MIB,
        "RSS, max while under load",
      ),
    ],
  );
}

try {
  const results = await main();
  console.log(report(results));
  await mkdir(RESULTS, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const file = join(RESULTS, `${String(results.started_at).replace(/[:.]/g, "-")}.json`);
  await writeFile(file, json);
  await writeFile(join(RESULTS, "latest.json"), json);
  log(`wrote ${file} and latest.json`);
  process.exit(0);
} catch (error) {
  log(`FAILED: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
