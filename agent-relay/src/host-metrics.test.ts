import { describe, expect, it } from "vitest";
import { HostSampler, MetricsReporter, parseMeminfo, parseNetDev, parseProcStat } from "./host-metrics.ts";
import { createLogger } from "./log.ts";
import { HostSampleSchema, MAX_METRICS_BATCH } from "./protocol.ts";

const log = createLogger({ level: "error", sink: () => undefined });

describe("host metrics", () => {
  it("parses /proc/stat, /proc/meminfo and /proc/net/dev", () => {
    expect(parseProcStat("cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4\n")).toEqual({ idle: 820, total: 981 });
    expect(parseProcStat("nothing")).toBeNull();
    expect(parseMeminfo("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    4000000 kB\n")).toEqual({
      total: 16000000 * 1024,
      used: 12000000 * 1024,
    });
    const netDev = [
      "Inter-|   Receive                                                |  Transmit",
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
      "    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0",
      "  eth0: 1000 10 0 0 0 0 0 0 2000 10 0 0 0 0 0 0",
      "docker0: 700 1 0 0 0 0 0 0 700 1 0 0 0 0 0 0",
      "vethabc: 300 1 0 0 0 0 0 0 300 1 0 0 0 0 0 0",
      "  wlan0: 10 1 0 0 0 0 0 0 20 1 0 0 0 0 0 0",
    ].join("\n");
    expect(parseNetDev(netDev)).toEqual({ rx: 1010, tx: 2020 });
  });

  it("samples this machine into a valid protocol sample", async () => {
    const sampler = new HostSampler(log);
    await sampler.prime();
    const sample = await sampler.sample({ counts: { total: 3, running: 2, paused: 0, stopped: 1 }, samples: [] });
    expect(HostSampleSchema.parse(sample)).toEqual(sample);
    expect(sample.memory_total).toBeGreaterThan(0);
    expect(sample.memory_percent).toBeGreaterThan(0);
    expect(sample.disk_total).toBeGreaterThan(0);
    expect(sample.containers_running).toBe(2);
  });

  it("keeps samples while the link is down and sends them as one batch when it is back", async () => {
    let up = false;
    const sent: number[] = [];
    const reporter = new MetricsReporter({
      intervalMs: 1_000_000,
      flushMs: 1_000_000,
      sampler: new HostSampler(log),
      containers: () => ({ samples: [] }),
      send: (samples) => (up ? (sent.push(samples.length), true) : false),
      log,
    });
    for (let i = 0; i < 3; i++) await reporter.sampleNow();
    reporter.flush();
    expect(sent).toEqual([]);
    expect(reporter.pending).toBe(3);
    up = true;
    reporter.flush();
    expect(sent).toEqual([3]);
    expect(reporter.pending).toBe(0);
    // A long outage keeps the newest batch's worth.
    up = false;
    for (let i = 0; i < MAX_METRICS_BATCH + 5; i++) await reporter.sampleNow();
    expect(reporter.pending).toBe(MAX_METRICS_BATCH);
  });
});
