import { readFile, statfs } from "node:fs/promises";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import type { Logger } from "./log.ts";
import { MAX_METRICS_BATCH, type ContainerCounts, type HostSample, type StatsSample } from "./protocol.ts";

// Interfaces whose traffic is not the host's own: loopback, and Docker's bridges and veth pairs
// (a container's traffic is counted once, on the host's real interface).
const VIRTUAL_INTERFACE = /^(lo|docker\d*|br-|veth|virbr|cni|flannel|cali|kube-ipvs)/;

interface CpuTimes {
  idle: number;
  total: number;
}

interface NetTotals {
  rx: number;
  tx: number;
  at: number;
}

/** `/proc/stat`'s first line: jiffies spent per mode across all CPUs. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { idle: idle + iowait, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** `/proc/meminfo`: used = total − available, as `free` reports it. */
export function parseMeminfo(text: string): { total: number; used: number } | null {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable") ?? kb("MemFree");
  if (total === undefined || available === undefined) return null;
  return { total, used: Math.max(0, total - available) };
}

/** `/proc/net/dev`: received and sent bytes summed over the host's real interfaces. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!name || rest === undefined || VIRTUAL_INTERFACE.test(name.trim())) continue;
    const fields = rest.trim().split(/\s+/).map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function osCpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

export interface HostSamplerOptions {
  /** The filesystem whose usage is "disk" (default `/`; Docker's data root is a good choice). */
  diskPath?: string;
  /** Where `/proc` is (a containerized agent can mount the host's at /host/proc). */
  procPath?: string;
}

/**
 * Samples the host: CPU and network as rates since the previous sample (so the first sample's
 * rates are measured from construction), memory, disk, load, and the containers' usage from the
 * stats cache. Reads `/proc` where there is one and falls back to `node:os` elsewhere.
 */
export class HostSampler {
  readonly #diskPath: string;
  readonly #proc: string;
  readonly #log: Logger;
  #cpu: CpuTimes | null = null;
  #net: NetTotals | null = null;

  constructor(log: Logger, options: HostSamplerOptions = {}) {
    this.#log = log;
    this.#diskPath = options.diskPath ?? "/";
    this.#proc = options.procPath ?? "/proc";
  }

  /** Takes the baseline for the first sample's rates. */
  async prime(): Promise<void> {
    this.#cpu = await this.#cpuTimes();
    this.#net = await this.#netTotals();
  }

  async sample(containers: { counts?: ContainerCounts; samples: StatsSample[] }): Promise<HostSample> {
    const [cpu, net, mem, disk] = await Promise.all([this.#cpuTimes(), this.#netTotals(), this.#memory(), this.#disk()]);
    const prevCpu = this.#cpu;
    const prevNet = this.#net;
    this.#cpu = cpu;
    this.#net = net;

    const cpuDelta = prevCpu ? cpu.total - prevCpu.total : 0;
    const cpuPercent = prevCpu && cpuDelta > 0 ? (1 - (cpu.idle - prevCpu.idle) / cpuDelta) * 100 : 0;
    const seconds = prevNet && net ? (net.at - prevNet.at) / 1000 : 0;
    // Counters reset when an interface goes away: a negative delta is "no data", not negative traffic.
    const rate = (now: number, before: number) => (seconds > 0 && now >= before ? (now - before) / seconds : 0);
    const [l1, l5, l15] = loadavg();
    const running = containers.counts?.running ?? containers.samples.length;
    return {
      at: Date.now(),
      cpu_percent: round2(Math.min(100, Math.max(0, cpuPercent))),
      memory_used: mem.used,
      memory_total: mem.total,
      memory_percent: round2(mem.total > 0 ? (mem.used / mem.total) * 100 : 0),
      disk_used: disk.used,
      disk_total: disk.total,
      disk_percent: round2(disk.total > 0 ? (disk.used / disk.total) * 100 : 0),
      net_in: Math.round(net && prevNet ? rate(net.rx, prevNet.rx) : 0),
      net_out: Math.round(net && prevNet ? rate(net.tx, prevNet.tx) : 0),
      load: [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)],
      containers_running: running,
      containers: containers.samples.map((s) => ({
        id: s.id,
        name: s.name,
        cpu_percent: s.cpu_percent,
        memory_usage: s.memory_usage,
        memory_limit: s.memory_limit,
        memory_percent: s.memory_percent,
      })),
    };
  }

  async #read(file: string): Promise<string | null> {
    try {
      return await readFile(`${this.#proc}/${file}`, "utf8");
    } catch {
      return null;
    }
  }

  async #cpuTimes(): Promise<CpuTimes> {
    const text = await this.#read("stat");
    return (text && parseProcStat(text)) || osCpuTimes();
  }

  async #netTotals(): Promise<NetTotals | null> {
    const text = await this.#read("net/dev");
    return text ? { ...parseNetDev(text), at: Date.now() } : null;
  }

  async #memory(): Promise<{ total: number; used: number }> {
    const text = await this.#read("meminfo");
    return (text && parseMeminfo(text)) || { total: totalmem(), used: totalmem() - freemem() };
  }

  async #disk(): Promise<{ total: number; used: number }> {
    try {
      const s = await statfs(this.#diskPath);
      const total = s.blocks * s.bsize;
      // Like `df`: used = total − free; "available" excludes root's reserve and is not "free".
      return { total, used: Math.max(0, total - s.bfree * s.bsize) };
    } catch (error) {
      this.#log.debug("disk usage unavailable", { path: this.#diskPath, error });
      return { total: 0, used: 0 };
    }
  }
}

export interface MetricsReporterOptions {
  intervalMs: number;
  flushMs: number;
  /** Sends one batch; false when the link is down (the batch is kept for later). */
  send: (samples: HostSample[]) => boolean;
  containers: () => { counts?: ContainerCounts; samples: StatsSample[] };
  sampler: HostSampler;
  log: Logger;
}

/**
 * Samples every `intervalMs` and sends what it has every `flushMs` (batched: the platform bills
 * WebSocket messages, and one message a minute per host is plenty). While the link is down the
 * samples wait, up to one batch's worth, so a reconnect leaves no gap in the charts.
 */
export class MetricsReporter {
  readonly #options: MetricsReporterOptions;
  readonly #pending: HostSample[] = [];
  #sampleTimer: ReturnType<typeof setInterval> | undefined;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  /** Set by the control plane (`metrics.configure`), over the options' interval. */
  #intervalMs: number | undefined;

  constructor(options: MetricsReporterOptions) {
    this.#options = options;
  }

  get pending(): number {
    return this.#pending.length;
  }

  start(): void {
    void this.#options.sampler.prime();
    this.#sampleTimer = setInterval(() => void this.sampleNow(), this.intervalMs);
    this.#flushTimer = setInterval(() => this.flush(), this.#options.flushMs);
  }

  /** The interval samples are taken at now. */
  get intervalMs(): number {
    return this.#intervalMs ?? this.#options.intervalMs;
  }

  /** Samples every `intervalMs` from now on; null goes back to the configured interval. */
  setInterval(intervalMs: number | null): void {
    this.#intervalMs = intervalMs ?? undefined;
    if (this.#sampleTimer === undefined) return;
    clearInterval(this.#sampleTimer);
    this.#sampleTimer = setInterval(() => void this.sampleNow(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#sampleTimer);
    clearInterval(this.#flushTimer);
  }

  async sampleNow(): Promise<void> {
    try {
      this.#pending.push(await this.#options.sampler.sample(this.#options.containers()));
      if (this.#pending.length > MAX_METRICS_BATCH) this.#pending.splice(0, this.#pending.length - MAX_METRICS_BATCH);
    } catch (error) {
      this.#options.log.warn("host sample failed", { error });
    }
  }

  /** Sends what is pending; keeps it if the link is down. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending.slice(0, MAX_METRICS_BATCH);
    if (this.#options.send(batch)) this.#pending.splice(0, batch.length);
  }
}
