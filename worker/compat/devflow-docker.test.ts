// zod-openapi extends zod before the protocol schemas are built (see worker/index.ts).
import "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { outsideBackups } from "../services/image-files.ts";
import { imageRows, processTable, statsView } from "./devflow-docker.ts";

// The Docker CLI's formats DevFlow's document shows, and the backups-directory rule, as pure functions.

describe("DevFlow's Docker formats", () => {
  it("writes `docker images` rows: one per tag, <none> for an untagged image, the 12-character id", () => {
    const id = `sha256:${"ab12".repeat(16)}`;
    const rows = imageRows([
      { Id: id, RepoTags: ["nginx:alpine", "ghcr.io/org/app:v1"], Created: 1_762_000_000, Size: 24_100_000 },
      { Id: id, RepoTags: ["<none>:<none>"], RepoDigests: ["nginx@sha256:ffff"], Created: 1_762_000_000, Size: 999 },
    ]);
    expect(rows).toEqual([
      { Repository: "nginx", Tag: "alpine", ID: "ab12ab12ab12", Size: "24.1MB", CreatedAt: "2025-11-01T12:26:40Z" },
      { Repository: "ghcr.io/org/app", Tag: "v1", ID: "ab12ab12ab12", Size: "24.1MB", CreatedAt: "2025-11-01T12:26:40Z" },
      { Repository: "nginx", Tag: "<none>", ID: "ab12ab12ab12", Size: "999B", CreatedAt: "2025-11-01T12:26:40Z" },
    ]);
  });

  it("writes `docker stats` strings and a `docker top` table", () => {
    const view = statsView(
      {
        id: "c",
        name: "/my-project",
        cpu_percent: 15.5,
        memory_usage: 256_000_000,
        memory_limit: 512_000_000,
        memory_percent: 50,
        net_rx: 1_200_000,
        net_tx: 850_000,
        block_read: 450_000,
        block_write: 120_000,
        pids: 12,
        read_at: null,
      },
      "fallback",
    );
    expect(view).toEqual({
      Container: "my-project",
      CPUPerc: "15.5%",
      MemUsage: "256MB / 512MB",
      MemPerc: "50%",
      NetIO: "1.2MB / 850kB",
      BlockIO: "450kB / 120kB",
      PIDs: "12",
    });
    expect(
      processTable(
        ["PID", "USER", "COMMAND"],
        [
          ["1", "root", "nginx: master"],
          ["12", "www-data", "nginx: worker"],
        ],
      ),
    ).toBe("PID   USER       COMMAND\n1     root       nginx: master\n12    www-data   nginx: worker");
  });

  it("keeps image saves inside the backups directory however the path is spelled", () => {
    expect(outsideBackups("/backups", "/backups/my-project-2025-11-10.tar")).toBeNull();
    expect(outsideBackups("/backups", "/backups/nightly/app.tar")).toBeNull();
    for (const path of [
      "/etc/passwd",
      "/backups",
      "/backups/",
      "/backupsx/a.tar",
      "backups/a.tar",
      "/backups/../etc/a.tar",
      "/backups/./a.tar",
    ])
      expect(outsideBackups("/backups", path), path).not.toBeNull();
    expect(outsideBackups("/", "/a.tar")).toBeNull();
  });
});
