// The agent's memory while images are saved through the relay's byte transfer: client → Worker →
// HostRelay → the agent (a separate process, as hosts run it) → the real engine. The credit rule
// (protocol/transfer.ts) lets at most one window of bytes be on its way, so what the agent holds
// must not depend on the image's size: a 64 MB and a 256 MB image (random bytes, incompressible)
// raise its peak resident memory by about the same amount. The peak is the kernel's (VmHWM, reset
// before each save through /proc/PID/clear_refs), so a spike between two samples is not missed.
import type { ChildProcess } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  pierUrl,
  run,
  spawnAgent,
  TEST_IMAGE,
  unique,
  waitForStatus,
} from "./client.ts";

const MB = 1024 * 1024;
const SIZES_MB = [64, 256] as const;

async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => {
    const value = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1];
    if (!value) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(value) * 1024;
  };
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Saves `image` through Pier, reading (and dropping) every byte; the agent's memory around it. */
async function saveThroughPier(owner: Owner, hostId: string, image: string, pid: number) {
  const before = (await memory(pid)).rss;
  // "5" resets the peak to the current RSS (Linux ≥ 4.0), so VmHWM afterwards is this save's peak.
  await writeFile(`/proc/${pid}/clear_refs`, "5");
  const started = performance.now();
  const res = await fetch(`${pierUrl()}/api/v1/hosts/${hostId}/images/${encodeURIComponent(image)}/save`, {
    headers: { authorization: `Bearer ${owner.token}` },
  });
  expect(res.status).toBe(200);
  let bytes = 0;
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) bytes += piece.length;
  const seconds = (performance.now() - started) / 1000;
  const { peak } = await memory(pid);
  return { bytes, growth: peak - before, before, peak, seconds };
}

describe.skipIf(!dockerAvailable())("the agent's memory while images are saved through the relay", () => {
  let owner: Owner;
  let hostId: string;
  let child: (ChildProcess & { output: () => string }) | undefined;
  const images = Object.fromEntries(SIZES_MB.map((mb) => [mb, `pier-test/mem-${mb}-${unique("x").toLowerCase()}:latest`])) as Record<
    (typeof SIZES_MB)[number],
    string
  >;
  const workDir = `/tmp/${unique("pier-mem")}`;

  beforeAll(async () => {
    owner = await newOwner("transfer-memory");
    const host = await newHost(owner);
    hostId = host.id;
    child = spawnAgent(host.agent_token);
    await waitForStatus(owner, hostId, "online");
    for (const mb of SIZES_MB) {
      // One layer of random bytes, imported without a registry.
      await run(
        "sh",
        [
          "-c",
          `mkdir -p ${workDir} && head -c ${mb}M /dev/urandom > ${workDir}/blob && tar -C ${workDir} -c blob | docker import - ${images[mb]}`,
        ],
        { timeout: 240_000 },
      );
      await rm(workDir, { recursive: true, force: true });
    }
  }, 600_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await rm(workDir, { recursive: true, force: true });
    await docker("rmi", "-f", ...Object.values(images)).catch(() => "");
  });

  it("grows the agent by about the same for 64 MB as for 256 MB: bounded by the window, not the size", async () => {
    const pid = child!.pid!;
    // A first save warms the agent up (code paths compiled, the engine client's pool, the relay's
    // first transfer), so what follows measures the transfer, not the start.
    await saveThroughPier(owner, hostId, TEST_IMAGE, pid);
    const measured: Record<number, Awaited<ReturnType<typeof saveThroughPier>>> = {};
    for (const mb of SIZES_MB) {
      measured[mb] = await saveThroughPier(owner, hostId, images[mb], pid);
      const m = measured[mb]!;
      console.log(
        `${mb} MB image: ${(m.bytes / MB).toFixed(1)} MB saved in ${m.seconds.toFixed(1)} s (${(m.bytes / MB / m.seconds).toFixed(1)} MB/s); ` +
          `agent RSS ${(m.before / MB).toFixed(1)} MB before, peak ${(m.peak / MB).toFixed(1)} MB, growth ${(m.growth / MB).toFixed(1)} MB`,
      );
      expect(m.bytes).toBeGreaterThan(mb * MB);
    }
    const small = measured[64]!.growth;
    const large = measured[256]!.growth;
    // Four times the bytes, not four times the memory: the larger save may grow the agent by at
    // most 16 MB more than the smaller one (GC timing and allocator noise), and by under a tenth of its size.
    expect(large, `growth for 256 MB (${(large / MB).toFixed(1)} MB) vs 64 MB (${(small / MB).toFixed(1)} MB)`).toBeLessThan(
      small + 16 * MB,
    );
    expect(large).toBeLessThan((256 * MB) / 10);
  }, 900_000);
});
