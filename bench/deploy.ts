// The deployment part of `npm run bench` (issue 4), run by bench/run.ts on its stack and agent:
//
//  (e) Webhook deliveries acknowledged per second, with nothing lost: signed GitHub push
//      deliveries posted concurrently to many applications (the 30-a-minute limit is per
//      application, so the load is spread the way real repositories spread it). Two kinds: pushes
//      to another branch (verify, deduplicate, record, answer) and pushes that queue a deployment
//      (the DeployQueue's enqueue too; their host has no agent, so they fail at once and load no
//      engine). "Nothing lost": every delivery answered 2xx and found in the application's list
//      with its outcome (recorded after the answer: the time until all are is reported too).
//      Beside them the floor: as many requests to a route that does nothing (/livez) at the same
//      concurrency, the most the dev server answers whatever the route does.
//  (f) The time Pier adds to a deployment: the same Dockerfile built and run by hand
//      (`docker build`, `docker run`, wait until it answers, remove the old one) versus a Pier
//      deployment of the same commit (fetch, git archive → /build, start beside, probe, switch),
//      alternated, a fresh commit each time so both build the same new layer.
import { execFile } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Pool } from "undici";
import type { Api } from "./api.ts";
import { mapLimit, sleep } from "./api.ts";
import { round, summarize, type Summary } from "./stats.ts";

const exec = promisify(execFile);
const BASE_IMAGE = process.env.BENCH_BASE_IMAGE ?? "pier-test/busybox:latest";
const APPS = Number(process.env.BENCH_WEBHOOK_APPS ?? 20);
/** Under the per-application limit of 30 a minute. */
const PER_APP = Number(process.env.BENCH_WEBHOOK_PER_APP ?? 25);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 16);
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 5);

export interface WebhookRun {
  kind: string;
  sent: number;
  acknowledged: number;
  recorded: number;
  seconds: number;
  per_second: number;
  latency: Summary;
  statuses: Record<string, number>;
  /** From the first request until every delivery was in the database with its outcome. */
  recorded_after_s: number;
  recorded_per_second: number;
}

/** The dev server's own ceiling: a route that does nothing (/livez), as many requests at the same concurrency. */
export interface WebhookFloor {
  sent: number;
  seconds: number;
  per_second: number;
  latency: Summary;
}

export interface DeployBenchResults {
  webhooks: WebhookRun[];
  webhook_floor?: WebhookFloor;
  deploy?:
    | {
        manual: Summary;
        pier: Summary;
        overhead_p50_ms: number;
        overhead_mean_ms: number;
        ratio_p50: number;
        iterations: number;
        phases: Record<(typeof PHASES)[number], Summary>;
      }
    | { error: string };
}

interface Ctx {
  url: string;
  api: Api;
  /** The host with the bench's agent attached. */
  hostId: string;
  runId: string;
  log: (line: string) => void;
  /** Sections to run (BENCH_SECTIONS): (e) webhooks, (f) the deployment. */
  webhooks?: boolean;
  deploys?: boolean;
}

const docker = (...args: string[]) => exec("docker", args, { maxBuffer: 16 * 1024 * 1024 }).then((r) => r.stdout.trim());

export async function runDeployBench(ctx: Ctx): Promise<DeployBenchResults> {
  const { api, log } = ctx;
  const project = await api.call<{ id: string }>("POST", "/api/v1/projects", { name: `bench-${ctx.runId}` }, 201);
  // A host with no agent: pushes queue deployments that fail at once ("host offline").
  const idle = await api.call<{ id: string }>("POST", "/api/v1/hosts", { name: `bench-${ctx.runId}-idle` }, 201);

  const webhooks: WebhookRun[] = [];
  let webhook_floor: WebhookFloor | undefined;
  if (ctx.webhooks !== false) {
    log(`(e) the floor: ${APPS * PER_APP} requests to /livez, ${CONCURRENCY} at a time`);
    webhook_floor = await floorRun(ctx, APPS * PER_APP);
  }
  for (const kind of ctx.webhooks === false ? [] : (["ignored", "queued"] as const)) {
    log(`(e) webhooks: ${APPS} applications x ${PER_APP} signed GitHub pushes (${kind}), ${CONCURRENCY} at a time`);
    webhooks.push(await webhookRun(ctx, project.id, idle.id, kind));
  }

  let deploy: DeployBenchResults["deploy"];
  if (ctx.deploys !== false)
    try {
      log(`(f) deployment overhead: ${DEPLOYS} deployments by hand and through Pier, alternated`);
      deploy = await deployOverhead(ctx, project.id);
    } catch (error) {
      deploy = { error: String((error as Error).message ?? error) };
      log(`(f) failed: ${(error as Error).message}`);
    }
  return { webhooks, webhook_floor, deploy };
}

async function floorRun(ctx: Ctx, count: number): Promise<WebhookFloor> {
  const pool = new Pool(ctx.url, { connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const once = async () => {
    const t0 = performance.now();
    const res = await pool.request({ method: "GET", path: "/livez" });
    await res.body.dump();
    if (res.statusCode !== 204) throw new Error(`/livez answered ${res.statusCode}`);
    return performance.now() - t0;
  };
  // Warm: the Worker's code and the pool's connections.
  await mapLimit(Array.from({ length: CONCURRENCY * 4 }), CONCURRENCY, once);
  const latencies: number[] = [];
  const started = performance.now();
  await mapLimit(Array.from({ length: count }), CONCURRENCY, async () => latencies.push(await once()));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { sent: count, seconds: round(seconds), per_second: round(count / seconds, 1), latency: summarize(latencies) };
}

async function webhookRun(ctx: Ctx, projectId: string, hostId: string, kind: "ignored" | "queued"): Promise<WebhookRun> {
  const apps = await mapLimit(Array.from({ length: APPS }), 8, (_, i) =>
    ctx.api.call<{ id: string; webhook_url: string; webhook_secret: string }>(
      "POST",
      "/api/v1/applications",
      {
        project_id: projectId,
        host_id: hostId,
        name: `hook-${kind}-${i}`,
        app_name: `hook-${ctx.runId}-${kind}-${i}`,
        git_url: "https://git.example.com/bench/app.git",
        git_branch: "main",
      },
      201,
    ),
  );
  const jobs = apps.flatMap((app) => Array.from({ length: PER_APP }, (_, n) => ({ app, n })));
  // Interleave applications so concurrent requests hit different queues, as real traffic does.
  jobs.sort((a, b) => a.n - b.n);
  const pool = new Pool(ctx.url, { connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  await mapLimit(jobs, CONCURRENCY, async ({ app, n }) => {
    const sha = createHmac("sha1", `${app.id}-${n}`).digest("hex");
    const body = JSON.stringify({
      ref: `refs/heads/${kind === "ignored" ? "other" : "main"}`,
      before: "0".repeat(40),
      after: sha,
      head_commit: { id: sha, message: `bench push ${n}`, timestamp: new Date().toISOString() },
      commits: [{ id: sha, message: `bench push ${n}` }],
      repository: { full_name: "bench/app" },
    });
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", app.webhook_secret).update(body).digest("hex")}`,
    };
    const t0 = performance.now();
    const res = await pool.request({ method: "POST", path: new URL(app.webhook_url).pathname, headers, body });
    await res.body.dump();
    latencies.push(performance.now() - t0);
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
  });
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  // Nothing lost: every delivery is in its application's list, with its outcome. Deliveries are
  // recorded right after their acknowledgement (WebhookInbox), so this waits until all are, or
  // nothing more arrives for 30 s.
  let recorded = 0;
  let lastChange = performance.now();
  for (;;) {
    let now = 0;
    for (const app of apps) {
      const page = await ctx.api.call<{ deliveries: Array<{ detail: string | null }> }>(
        "GET",
        `/api/v1/applications/${app.id}/webhook-deliveries?limit=200`,
      );
      now += page.deliveries.filter((d) => d.detail !== "received").length;
    }
    if (now !== recorded) lastChange = performance.now();
    recorded = now;
    if (recorded >= jobs.length || performance.now() - lastChange > 30_000) break;
    await sleep(200);
  }
  const recordedAfter = (lastChange - started) / 1000;
  const acknowledged = Object.entries(statuses).reduce((n, [status, count]) => n + (Number(status) < 300 ? count : 0), 0);
  return {
    kind,
    sent: jobs.length,
    acknowledged,
    recorded,
    seconds: round(seconds),
    per_second: round(jobs.length / seconds, 1),
    latency: summarize(latencies),
    statuses,
    recorded_after_s: round(recordedAfter),
    recorded_per_second: round(recorded / recordedAfter, 1),
  };
}

async function deployOverhead(ctx: Ctx, projectId: string): Promise<DeployBenchResults["deploy"]> {
  const { api } = ctx;
  const dir = await mkdtemp(join(tmpdir(), "pier-bench-repo-"));
  const git = (...args: string[]) => exec("git", ["-C", dir, "-c", "user.name=bench", "-c", "user.email=bench@example.test", ...args]);
  const manualName = `bench-manual-${ctx.runId}`;
  const appName = `bench-deploy-${ctx.runId}`;
  let appId = "";
  const commit = async (i: number) => {
    await writeFile(join(dir, "index.html"), `deployment ${i} ${randomUUID()}\n`);
    await git("add", "-A");
    await git("commit", "-q", "-m", `bench ${i}`);
  };
  try {
    await git("init", "-q", "-b", "main");
    // Signals: PID 1 must trap TERM or every stop waits 10 s; removal is forced anyway.
    await writeFile(
      join(dir, "Dockerfile"),
      `FROM ${BASE_IMAGE}\nCOPY index.html /www/index.html\nCMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]\n`,
    );
    await commit(0);
    const app = await api.call<{ id: string }>(
      "POST",
      "/api/v1/applications",
      {
        project_id: projectId,
        host_id: ctx.hostId,
        name: "bench deploy",
        app_name: appName,
        git_url: `file://${dir}`,
        build_type: "dockerfile",
        ports: [{ container_port: 8080 }],
        health_check: { http_path: "/index.html", port: 8080, interval_seconds: 1, retries: 30 },
      },
      201,
    );
    appId = app.id;

    const manual: number[] = [];
    const pier: number[] = [];
    const phases: Phases[] = [];
    const byHand = async (i: number) => {
      const t0 = performance.now();
      const tag = `pier-bench/manual-${ctx.runId}:${i < 0 ? "warm" : i}`;
      await docker("build", "-q", "-t", tag, dir);
      const previous = await docker("ps", "-aq", "--filter", `name=^${manualName}`);
      const id = await docker("run", "-d", "--name", `${manualName}-${i < 0 ? "warm" : i}`, "-p", "8080", tag);
      for (;;) {
        const ok = await exec("docker", ["exec", id, "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await sleep(100);
      }
      if (previous) await docker("rm", "-f", ...previous.split("\n"));
      return performance.now() - t0;
    };
    const throughPier = async () => {
      const t0 = performance.now();
      const d = await api.call<{ id: string }>("POST", `/api/v1/applications/${appId}/deployments`, undefined, 202);
      for (;;) {
        const now = await api.call<{ status: string; error: string | null }>("GET", `/api/v1/deployments/${d.id}`);
        if (now.status === "succeeded") break;
        if (now.status === "failed" || now.status === "cancelled") throw new Error(`bench deployment ${d.id} ${now.status}: ${now.error}`);
        await sleep(50);
      }
      const elapsed = performance.now() - t0;
      phases.push(await deploymentPhases(api, d.id));
      return elapsed;
    };
    // Warm both (base image layers, the agent's clone of the repository).
    await byHand(-1);
    await throughPier();
    phases.length = 0;
    for (let i = 1; i <= DEPLOYS; i++) {
      await commit(i);
      if (i % 2) {
        manual.push(await byHand(i));
        pier.push(await throughPier());
      } else {
        pier.push(await throughPier());
        manual.push(await byHand(i));
      }
    }
    const m = summarize(manual);
    const p = summarize(pier);
    return {
      manual: m,
      pier: p,
      overhead_p50_ms: round(p.p50 - m.p50),
      overhead_mean_ms: round(p.mean - m.mean),
      ratio_p50: round(p.p50 / m.p50),
      iterations: DEPLOYS,
      phases: Object.fromEntries(PHASES.map((k) => [k, summarize(phases.map((x) => x[k]).filter((x) => Number.isFinite(x)))])) as Record<
        (typeof PHASES)[number],
        Summary
      >,
    };
  } finally {
    if (appId) await api.call("DELETE", `/api/v1/applications/${appId}`, undefined, 204).catch(() => undefined);
    const leftovers = await docker("ps", "-aq", "--filter", `name=^${manualName}`).catch(() => "");
    if (leftovers) await docker("rm", "-f", ...leftovers.split("\n")).catch(() => undefined);
    const images = await docker("images", "-q", `pier-bench/manual-${ctx.runId}`).catch(() => "");
    if (images) await docker("rmi", "-f", ...new Set(images.split("\n"))).catch(() => undefined);
    const built = await docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=pier/${appName}`).catch(() => "");
    if (built) await docker("rmi", "-f", ...built.split("\n")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

const PHASES = ["queue", "build", "start", "health_wait", "switch"] as const;
type Phases = Record<(typeof PHASES)[number], number>;

/**
 * A deployment's time split at the marks the control plane records: created → started (queue),
 * → "Creating container" (build: fetch, archive, docker build), → "Started" (create and start the
 * new container), → "Removing the previous container" or "is now" (health wait), → finished
 * (switch: remove the old one, rename, record). Marks are the times the output reached the
 * control plane, so each phase includes the relay's share.
 */
async function deploymentPhases(api: Api, id: string): Promise<Phases> {
  const d = await api.call<{ created_at: string; started_at: string; finished_at: string }>("GET", `/api/v1/deployments/${id}`);
  const { logs } = await api.call<{ logs: Array<{ text: string; at: string }> }>("GET", `/api/v1/deployments/${id}/logs?limit=5000`);
  const mark = (re: RegExp) => {
    const piece = logs.find((l) => re.test(l.text));
    return piece ? Date.parse(piece.at) : Number.NaN;
  };
  const created = Date.parse(d.created_at);
  const started = Date.parse(d.started_at);
  const finished = Date.parse(d.finished_at);
  const creating = mark(/==> Creating container/);
  const running = mark(/==> Started /);
  const switching = Math.min(...[mark(/==> Removing the previous container/), mark(/==> \S+ is now /)].filter(Number.isFinite));
  return {
    queue: started - created,
    build: creating - started,
    start: running - creating,
    health_wait: switching - running,
    switch: finished - switching,
  };
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

/** Lines for bench/run.ts's report. */
export function deployReport(r: DeployBenchResults): string[] {
  const out = r.webhooks.length ? ["\n(e) Webhook deliveries (signed GitHub pushes, many applications, concurrent)"] : [];
  const floor = r.webhook_floor;
  if (floor)
    out.push(
      `  floor    ${floor.sent} GET /livez at the same concurrency: ${floor.per_second}/s; latency p50 ${ms(floor.latency.p50)}, p99 ${ms(floor.latency.p99)}`,
    );
  for (const w of r.webhooks) {
    const lost = w.sent - w.recorded;
    out.push(
      `  ${w.kind.padEnd(8)} ${w.sent} sent, ${w.acknowledged} acknowledged (2xx), ${w.recorded} recorded${lost ? ` — ${lost} LOST` : ", none lost"}: ` +
        `${w.per_second}/s${floor ? ` (${round(w.per_second / floor.per_second, 2)} of the floor)` : ""}; latency p50 ${ms(w.latency.p50)}, p99 ${ms(w.latency.p99)}; statuses ${JSON.stringify(w.statuses)}`,
      `           all recorded in the database ${w.recorded_after_s} s after the first request (${w.recorded_per_second}/s)`,
    );
  }
  if (!r.deploy) return out;
  out.push("\n(f) Deployment: the same Dockerfile by hand (docker build + docker run + wait until it answers) vs through Pier");
  if ("error" in r.deploy) out.push(`  failed: ${r.deploy.error}`);
  else {
    const d = r.deploy;
    out.push(`  by hand  p50 ${ms(d.manual.p50)}  mean ${ms(d.manual.mean)}  (n=${d.iterations})`);
    out.push(`  Pier     p50 ${ms(d.pier.p50)}  mean ${ms(d.pier.mean)}`);
    out.push(`  Pier adds ${ms(d.overhead_p50_ms)} at p50 (${ms(d.overhead_mean_ms)} mean), ${d.ratio_p50}x`);
    out.push(
      `  Pier's deployment by phase (p50 / mean, ms): ${PHASES.map((k) => `${k.replace("_", " ")} ${d.phases[k].p50} / ${d.phases[k].mean}`).join(", ")}`,
    );
  }
  return out;
}
