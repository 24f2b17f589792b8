// Straight to the Docker socket with a plain undici pool: the baseline has none of Pier's code in
// the way. Also creates and removes the benchmark's containers: each run labels its own with its
// run id and removes only those, so a run never touches another run's (or anyone's) containers
// on a shared engine.
import { Pool } from "undici";

export const BENCH_LABEL = "dev.pier.bench";
export const BENCH_IMAGE = "pier-test/busybox:latest";
// The agent speaks API 1.41 (agent-relay/src/docker/transport.ts); the baseline asks the same.
const API = "/v1.41";

export class DirectDocker {
  // Unlimited connections, so N stats samples really run in parallel, as a naive tool would.
  readonly #pool: Pool;

  constructor(socketPath = "/var/run/docker.sock") {
    this.#pool = new Pool("http://localhost", { socketPath, keepAliveTimeout: 10_000 });
  }

  async json<T = unknown>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
    const res = await this.#pool.request({
      method,
      path: API + path,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`docker ${method} ${path}: ${res.statusCode} ${text.trim()}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  listContainers(): Promise<unknown[]> {
    return this.json("GET", "/containers/json?all=1");
  }

  /** Docker waits for a second reading to compute CPU figures, so this takes about a second. */
  statsOnce(id: string): Promise<unknown> {
    return this.json("GET", `/containers/${id}/stats?stream=false`);
  }

  /** Starts `n` containers labelled with this run's id; `cmd` defaults to sleeping for an hour. */
  async createBenchContainers(n: number, runId: string, options: { prefix?: string; cmd?: string[] } = {}): Promise<string[]> {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const created = await this.json<{ Id: string }>("POST", `/containers/create?name=pier-bench-${runId}-${options.prefix ?? ""}${i}`, {
          Image: BENCH_IMAGE,
          Cmd: options.cmd ?? ["sleep", "3600"],
          Labels: { [BENCH_LABEL]: runId },
        });
        await this.json("POST", `/containers/${created.Id}/start`);
        return created.Id;
      }),
    );
  }

  /** Removes the containers this run created (its label value), nothing else. */
  async removeBenchContainers(runId: string): Promise<number> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`${BENCH_LABEL}=${runId}`] }));
    const list = await this.json<{ Id: string }[]>("GET", `/containers/json?all=1&filters=${filters}`);
    await Promise.all(list.map((c) => this.json("DELETE", `/containers/${c.Id}?force=1`)));
    return list.length;
  }

  /** Containers running on the engine (the agent follows the stats of every one of them). */
  async runningCount(): Promise<number> {
    return (await this.json<unknown[]>("GET", "/containers/json")).length;
  }

  /** One container started and removed, for the event fan-out: its id and when Docker says it started. */
  async startAndRemove(runId: string, name: string): Promise<string> {
    const created = await this.json<{ Id: string }>("POST", `/containers/create?name=pier-bench-${runId}-${name}`, {
      Image: BENCH_IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: { [BENCH_LABEL]: runId },
    });
    await this.json("POST", `/containers/${created.Id}/start`);
    return created.Id;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
