import * as z from "zod/mini";

/** One container's resource usage at one moment, flattened from Docker's stats JSON. */
export const StatsSampleSchema = z.object({
  id: z.string(),
  name: z.string(),
  cpu_percent: z.number(),
  memory_usage: z.number(),
  memory_limit: z.number(),
  memory_percent: z.number(),
  net_rx: z.number(),
  net_tx: z.number(),
  block_read: z.number(),
  block_write: z.number(),
  pids: z.number(),
  /** ISO 8601 time Docker took the sample; null when Docker reports none (a stopped container). */
  read_at: z.nullable(z.string()),
});
export type StatsSample = z.infer<typeof StatsSampleSchema>;

type Json = Record<string, unknown>;

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const obj = (value: unknown): Json => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {});

// Docker reports "0001-01-01T00:00:00Z" (Go's zero time) for a container that is not running.
const isZeroTime = (value: string) => value.startsWith("0001-01-01");

/**
 * Turns one Docker stats document (`GET /containers/{id}/stats`) into a sample, computing CPU and
 * memory the way the `docker stats` CLI does, so numbers agree with what users see there.
 * `fallbackId` covers documents that lack `id` (older engines).
 */
export function normalizeStats(raw: unknown, fallbackId = ""): StatsSample {
  const doc = obj(raw);
  const cpu = obj(doc.cpu_stats);
  const precpu = obj(doc.precpu_stats);
  const cpuDelta = num(obj(cpu.cpu_usage).total_usage) - num(obj(precpu.cpu_usage).total_usage);
  const systemDelta = num(cpu.system_cpu_usage) - num(precpu.system_cpu_usage);
  const perCpu = obj(cpu.cpu_usage).percpu_usage;
  const onlineCpus = num(cpu.online_cpus) || (Array.isArray(perCpu) ? perCpu.length : 0) || 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;

  // Like the CLI: page cache is reclaimable, so it is not "used" memory. cgroup v1 reports it as
  // total_inactive_file, cgroup v2 as inactive_file.
  const memory = obj(doc.memory_stats);
  const memStats = obj(memory.stats);
  const usage = num(memory.usage);
  const inactive = num(memStats.total_inactive_file) || num(memStats.inactive_file);
  const memoryUsage = inactive > 0 && inactive < usage ? usage - inactive : usage;
  const memoryLimit = num(memory.limit);
  const memoryPercent = memoryLimit > 0 ? (memoryUsage / memoryLimit) * 100 : 0;

  let netRx = 0;
  let netTx = 0;
  for (const net of Object.values(obj(doc.networks))) {
    netRx += num(obj(net).rx_bytes);
    netTx += num(obj(net).tx_bytes);
  }

  let blockRead = 0;
  let blockWrite = 0;
  const io = obj(doc.blkio_stats).io_service_bytes_recursive;
  for (const entry of Array.isArray(io) ? io : []) {
    const op = String(obj(entry).op ?? "").toLowerCase();
    if (op === "read") blockRead += num(obj(entry).value);
    else if (op === "write") blockWrite += num(obj(entry).value);
  }

  const read = typeof doc.read === "string" && !isZeroTime(doc.read) ? doc.read : null;
  const name = typeof doc.name === "string" ? doc.name.replace(/^\//, "") : "";
  return {
    id: typeof doc.id === "string" && doc.id ? doc.id : fallbackId,
    name,
    cpu_percent: round2(cpuPercent),
    memory_usage: memoryUsage,
    memory_limit: memoryLimit,
    memory_percent: round2(memoryPercent),
    net_rx: netRx,
    net_tx: netTx,
    block_read: blockRead,
    block_write: blockWrite,
    pids: num(obj(doc.pids_stats).current),
    read_at: read,
  };
}

const round2 = (value: number) => Math.round(value * 100) / 100;
