import { describe, expect, it } from "vitest";
import { normalizeStats } from "./sample.ts";

// Trimmed from a real `GET /containers/{id}/stats?stream=false` answer (cgroup v1, API 1.41).
const running = {
  read: "2024-05-01T10:00:01.5Z",
  preread: "2024-05-01T10:00:00.5Z",
  id: "abc123",
  name: "/web",
  pids_stats: { current: 3 },
  cpu_stats: {
    cpu_usage: { total_usage: 2_000_000_000, percpu_usage: [1, 1, 1, 1] },
    system_cpu_usage: 20_000_000_000,
    online_cpus: 4,
  },
  precpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 18_000_000_000 },
  memory_stats: { usage: 150 * 1024 * 1024, limit: 1024 * 1024 * 1024, stats: { total_inactive_file: 22 * 1024 * 1024 } },
  networks: { eth0: { rx_bytes: 1000, tx_bytes: 200 }, eth1: { rx_bytes: 24, tx_bytes: 6 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: "Read", value: 4096 },
      { major: 8, minor: 0, op: "Write", value: 8192 },
      { major: 8, minor: 0, op: "Total", value: 12288 },
    ],
  },
};

describe("normalizeStats", () => {
  it("computes CPU and memory the way `docker stats` does", () => {
    expect(normalizeStats(running)).toEqual({
      id: "abc123",
      name: "web",
      // (0.5e9 / 2e9) × 4 CPUs × 100
      cpu_percent: 100,
      // usage minus reclaimable page cache
      memory_usage: 128 * 1024 * 1024,
      memory_limit: 1024 * 1024 * 1024,
      memory_percent: 12.5,
      net_rx: 1024,
      net_tx: 206,
      block_read: 4096,
      block_write: 8192,
      pids: 3,
      read_at: "2024-05-01T10:00:01.5Z",
    });
  });

  it("reads cgroup v2 memory and lowercase blkio ops", () => {
    const sample = normalizeStats({
      ...running,
      memory_stats: { usage: 100, limit: 400, stats: { inactive_file: 20 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: "read", value: 1 },
          { op: "write", value: 2 },
        ],
      },
    });
    expect(sample).toMatchObject({ memory_usage: 80, memory_percent: 20, block_read: 1, block_write: 2 });
  });

  it("reports a stopped container as zeros with no time", () => {
    const stopped = {
      read: "0001-01-01T00:00:00Z",
      name: "/old",
      id: "def",
      cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} },
      precpu_stats: { cpu_usage: { total_usage: 0 } },
      memory_stats: {},
      blkio_stats: { io_service_bytes_recursive: null },
      pids_stats: {},
    };
    expect(normalizeStats(stopped)).toEqual({
      id: "def",
      name: "old",
      cpu_percent: 0,
      memory_usage: 0,
      memory_limit: 0,
      memory_percent: 0,
      net_rx: 0,
      net_tx: 0,
      block_read: 0,
      block_write: 0,
      pids: 0,
      read_at: null,
    });
  });

  it("survives garbage and uses the fallback id", () => {
    expect(normalizeStats(null, "xyz")).toMatchObject({ id: "xyz", name: "", cpu_percent: 0, read_at: null });
  });
});
