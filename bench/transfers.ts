// The byte-transfer part of `npm run bench`, run by bench/run.ts on its stack and agent:
//
//  (h) Image save and load through the relay (client → Worker → HostRelay DO → agent → engine,
//      credit-paced: protocol/transfer.ts) versus `docker save` / `docker load` straight on the
//      Docker socket, in MB/s, alternated round by round so background load lands on both. The
//      image is BENCH_TRANSFER_MB of random bytes (incompressible) imported for the run, tagged
//      with the run id, and removed afterwards.
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { Pool } from "undici";
import type { Api } from "./api.ts";
import { round } from "./stats.ts";

const exec = promisify(execFile);
const SIZE_MB = Number(process.env.BENCH_TRANSFER_MB ?? 64);
const ROUNDS = Number(process.env.BENCH_TRANSFER_ROUNDS ?? 3);
const MB = 1e6;

export interface ThroughputPair {
  /** Median over the rounds, MB/s (10^6 bytes). */
  pier_mb_s: number;
  direct_mb_s: number;
  /** direct / Pier: how many times slower through the relay. */
  ratio: number;
  rounds: Array<{ pier_s: number; direct_s: number }>;
}

export type TransferBenchResults =
  | { size_bytes: number; rounds: number; save: ThroughputPair; load: ThroughputPair | { error: string } }
  | { error: string };

interface Ctx {
  api: Api;
  hostId: string;
  runId: string;
  log: (line: string) => void;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const piece of body) n += piece.length;
  return n;
}

async function timedSeconds(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

function pair(rounds: Array<{ pier_s: number; direct_s: number }>, bytes: number): ThroughputPair {
  const pier = median(rounds.map((r) => bytes / MB / r.pier_s));
  const direct = median(rounds.map((r) => bytes / MB / r.direct_s));
  return {
    pier_mb_s: round(pier),
    direct_mb_s: round(direct),
    ratio: round(direct / pier),
    rounds: rounds.map((r) => ({ pier_s: round(r.pier_s), direct_s: round(r.direct_s) })),
  };
}

export async function runTransferBench({ api, hostId, runId, log }: Ctx): Promise<TransferBenchResults> {
  const image = `pier-bench/transfer-${runId}:latest`;
  const dir = await mkdtemp(join(tmpdir(), "pier-bench-transfer-"));
  const docker = new Pool("http://localhost", { socketPath: "/var/run/docker.sock", keepAliveTimeout: 10_000 });
  const pier = new Pool(api.url, { keepAliveTimeout: 10_000 });
  const auth = { authorization: `Bearer ${api.token}` };
  try {
    log(`(h) image transfers: importing a ${SIZE_MB} MB image of random bytes`);
    await exec(
      "sh",
      ["-c", `head -c ${SIZE_MB * MB} /dev/urandom > ${dir}/blob && tar -C ${dir} -c blob | docker import - ${image} && rm ${dir}/blob`],
      { timeout: 300_000 },
    );
    const tar = join(dir, "image.tar");

    const saveDirect = async (to?: string) => {
      const res = await docker.request({ method: "GET", path: `/v1.41/images/get?names=${encodeURIComponent(image)}` });
      if (res.statusCode !== 200) throw new Error(`docker save: ${res.statusCode} ${await res.body.text()}`);
      if (to) await pipeline(res.body, createWriteStream(to));
      else await drain(res.body);
    };
    const savePier = async () => {
      const res = await pier.request({
        method: "GET",
        path: `/api/v1/hosts/${hostId}/images/${encodeURIComponent(image)}/save`,
        headers: auth,
      });
      if (res.statusCode !== 200) throw new Error(`save through Pier: ${res.statusCode} ${await res.body.text()}`);
      await drain(res.body);
    };
    // Warm-up (and the tar the load rounds send): not timed.
    await saveDirect(tar);
    await savePier();
    const bytes = (await stat(tar)).size;

    log(`(h) image save, ${ROUNDS} rounds of ${round(bytes / MB)} MB each way`);
    const saves: Array<{ pier_s: number; direct_s: number }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so drift over the run lands on both.
      const [a, b] = i % 2 ? [savePier, () => saveDirect()] : [() => saveDirect(), savePier];
      const first = await timedSeconds(a);
      const second = await timedSeconds(b);
      saves.push(i % 2 ? { pier_s: first, direct_s: second } : { pier_s: second, direct_s: first });
    }

    let load: ThroughputPair | { error: string };
    try {
      log(`(h) image load, ${ROUNDS} rounds`);
      const loadDirect = async () => {
        const res = await docker.request({
          method: "POST",
          path: "/v1.41/images/load?quiet=1",
          headers: { "content-type": "application/x-tar", "content-length": String(bytes) },
          body: createReadStream(tar),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200 || /"error"/.test(text)) throw new Error(`docker load: ${res.statusCode} ${text.slice(0, 300)}`);
      };
      const loadPier = async () => {
        const res = await pier.request({
          method: "POST",
          path: `/api/v1/hosts/${hostId}/images/load`,
          headers: { ...auth, "content-type": "application/x-tar", "content-length": String(bytes) },
          body: createReadStream(tar),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`load through Pier: ${res.statusCode} ${text.slice(0, 300)}`);
      };
      const loads: Array<{ pier_s: number; direct_s: number }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        const [a, b] = i % 2 ? [loadPier, loadDirect] : [loadDirect, loadPier];
        const first = await timedSeconds(a);
        const second = await timedSeconds(b);
        loads.push(i % 2 ? { pier_s: first, direct_s: second } : { pier_s: second, direct_s: first });
      }
      load = pair(loads, bytes);
    } catch (error) {
      load = { error: String((error as Error).message ?? error) };
      log(`(h) image load failed: ${(error as Error).message}`);
    }
    return { size_bytes: bytes, rounds: ROUNDS, save: pair(saves, bytes), load };
  } catch (error) {
    log(`(h) failed: ${(error as Error).message}`);
    return { error: String((error as Error).message ?? error) };
  } finally {
    await exec("docker", ["rmi", "-f", image]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    await Promise.allSettled([docker.close(), pier.close()]);
  }
}

export function transferReport(r: TransferBenchResults | undefined): string[] {
  if (!r) return [];
  if ("error" in r) return [`\n(h) Image transfers: failed: ${r.error}`];
  const line = (what: string, p: ThroughputPair | { error: string }) =>
    "error" in p
      ? `  ${what}: failed: ${p.error}`
      : `  ${what}: Pier ${p.pier_mb_s} MB/s, Docker socket ${p.direct_mb_s} MB/s, ratio Docker / Pier ${p.ratio}x ` +
        `(seconds per round, Pier/Docker: ${p.rounds.map((x) => `${x.pier_s}/${x.direct_s}`).join(", ")})`;
  return [
    `\n(h) Image tar of ${round(r.size_bytes / MB)} MB through the relay (Worker -> HostRelay DO -> agent, credit-paced) vs the Docker socket, median of ${r.rounds} rounds`,
    line("save (GET …/images/:image/save vs GET /images/get)", r.save),
    line("load (POST …/images/load vs POST /images/load)", r.load),
  ];
}
