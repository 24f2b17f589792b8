// Monitoring end to end: a real agent's host samples arriving over the relay and rolled up, the
// DevFlow document's monitor.sh run as written against `npm start`, and an alert that opens after
// its duration, notifies once, and clears.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  attachAgent,
  docker,
  dockerAvailable,
  newHost,
  newOwner,
  type Owner,
  pierUrl,
  removeContainers,
  TEST_IMAGE,
  unique,
  waitFor,
  waitForStatus,
} from "./client.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const LABEL = `dev.pier.e2e=${process.pid}-monitoring`;

describe.skipIf(!dockerAvailable())("host metrics from a real agent", () => {
  let owner: Owner;
  afterAll(async () => {
    await removeContainers(LABEL);
  });

  it("arrive in batches over the relay, raw and rolled up, with per-container history", async () => {
    owner = await newOwner("metrics");
    const host = await newHost(owner);
    const name = unique("busy");
    await docker("run", "-d", "--label", LABEL, "--name", name, TEST_IMAGE, "sleep", "600");
    // Sample every 200 ms, send every 1 s: several samples per message.
    const { agent } = attachAgent(host.agent_token, { metricsIntervalMs: 200, metricsFlushMs: 1000 });
    try {
      await waitForStatus(owner, host.id, "online");
      const from = new Date(Date.now() - 60_000).toISOString();
      const raw = await waitFor("raw samples with the container in them", async () => {
        const res = await api(`/api/v1/hosts/${host.id}/metrics?from=${from}&step=1`, { token: owner.token });
        return res.body.points?.length >= 8 && res.body.points.at(-1).containers_running >= 1 ? res.body : undefined;
      });
      expect(raw.resolution).toBe("raw");
      const p = raw.points.at(-1);
      expect(p.memory_total).toBeGreaterThan(0);
      expect(p.memory_percent).toBeGreaterThan(0);
      expect(p.memory_percent).toBeLessThanOrEqual(100);
      expect(p.disk_total).toBeGreaterThan(0);
      expect(p).toMatchObject({ load_1: expect.any(Number), network_in: expect.any(Number), network_out: expect.any(Number) });
      expect(p.cpu_percent).toBeLessThanOrEqual(100);
      // The stack itself keeps the host's CPU busy: a sampler that always said 0 would fail here.
      expect(Math.max(...raw.points.map((x: any) => x.cpu_percent))).toBeGreaterThan(0);

      // Downsampled: the 5-minute rollups hold every raw sample once.
      const to = new Date(Date.now() + 600_000).toISOString();
      const bucketFrom = new Date(Math.floor(Date.parse(from) / 300_000) * 300_000).toISOString();
      const container = await waitFor("the container's history", async () => {
        const res = await api(`/api/v1/hosts/${host.id}/containers/${name}/metrics?from=${from}&step=1`, { token: owner.token });
        return res.status === 200 && res.body.points.length >= 2 ? res.body : undefined;
      });
      expect(container).toMatchObject({ container_name: name, resolution: "raw" });
      expect(container.points[0].memory_usage).toBeGreaterThan(0);

      // Once the agent has stopped sending, the 5-minute rollups hold every raw sample exactly once
      // (a batch still in flight when it stopped lands in both, in one transaction).
      await agent.stop();
      const [rawCount, rolled] = await waitFor("the rollups to count every raw sample", async () => {
        const [rawAll, rolled] = await Promise.all([
          api(`/api/v1/hosts/${host.id}/metrics?from=${bucketFrom}&to=${to}&step=15`, { token: owner.token }),
          api(`/api/v1/hosts/${host.id}/metrics?from=${bucketFrom}&to=${to}&step=300`, { token: owner.token }),
        ]);
        const rawCount = rawAll.body.points.reduce((n: number, x: any) => n + x.samples, 0);
        const rolledCount = rolled.body.points.reduce((n: number, x: any) => n + x.samples, 0);
        return rawCount === rolledCount ? ([rawCount, rolled.body] as const) : undefined;
      });
      expect(rawCount).toBeGreaterThanOrEqual(raw.points.length);
      expect(rolled.resolution).toBe("5m");
      expect(rolled.points[0].cpu_max).toBeGreaterThanOrEqual(rolled.points[0].cpu_percent);

      // The DevFlow list shows the agent's samples too.
      const devflow = await api(`/api/servers/${host.id}/metrics`, { token: owner.token });
      expect(devflow.body.data[0]).toMatchObject({
        server_id: host.id,
        cpu_usage: expect.any(Number),
        memory_usage: expect.any(Number),
        disk_usage: expect.any(Number),
      });
    } finally {
      await agent.stop();
    }
  });
});

describe("DevFlow's monitor.sh (seed 003)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pier-monitor-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("pushes this machine's metrics, run as written with its three settings filled in", async () => {
    const owner = await newOwner("devflow");
    const host = await newHost(owner);
    // A personal token the DevFlow way: POST /api/login.
    const login = await api("/api/login", { body: { email: `${owner.username}@example.test`, password: owner.password } });
    expect(login.status).toBe(200);
    const script = (await readFile(new URL("./fixtures/monitor.sh", import.meta.url), "utf8"))
      .replace('API_URL="http://your-domain.com/api"', `API_URL="${pierUrl()}/api"`)
      .replace('SERVER_ID="1"', `SERVER_ID="${host.id}"`)
      .replace('TOKEN="your-api-token"', `TOKEN="${login.body.token}"`);
    const path = join(dir, "monitor.sh");
    await writeFile(path, script, { mode: 0o755 });
    // The script reads the CPU figure as top's second field, which top glues to its label at 100 %
    // ("%Cpu(s):100.0 us"): on a saturated machine the script would send `"cpu_usage": us,`. A `top`
    // ahead on PATH restores the space the script relies on; the script itself runs unchanged.
    const { stdout: realTop } = await promisify(execFile)("bash", ["-c", "command -v top"]);
    const shims = join(dir, "bin");
    await mkdir(shims, { recursive: true });
    await writeFile(join(shims, "top"), `#!/bin/sh\n"${realTop.trim()}" "$@" | sed 's/Cpu(s):\\([0-9]\\)/Cpu(s): \\1/'\n`, { mode: 0o755 });
    const { stdout } = await promisify(execFile)("bash", [path], {
      timeout: 60_000,
      env: { ...process.env, PATH: `${shims}:${process.env.PATH}` },
    });
    const answer = JSON.parse(stdout.slice(stdout.indexOf("{")));
    expect(answer).toMatchObject({
      message: "Metrics stored successfully",
      data: { server_id: host.id, cpu_usage: expect.any(Number), memory_usage: expect.any(Number), disk_usage: expect.any(Number) },
    });

    const list = await api(`/api/servers/${host.id}/metrics`, { token: login.body.token });
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toMatchObject({
      id: answer.data.id,
      network_in: 0,
      network_out: 0,
      active_connections: 0,
      load_average: expect.any(Number),
    });
    expect(list.body.data[0].disk_usage).toBeGreaterThan(0);
  });
});

describe("alerts", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it("opens after the threshold is crossed for its duration, notifies once, and clears when the value recovers", async () => {
    const owner = await newOwner("alerts");
    const host = await newHost(owner);
    const secret = "alerts-e2e-secret-0123456789";
    await api("/api/v1/notification-channels", {
      token: owner.token,
      body: {
        type: "webhook",
        name: "alerts",
        events: ["alert.opened", "alert.cleared"],
        config: { url: `${receiver.url}/alerts`, secret },
      },
    });
    const rule = await api("/api/v1/alert-rules", {
      token: owner.token,
      body: { host_id: host.id, metric: "cpu", threshold: 80, duration_seconds: 2 },
    });
    expect(rule.status).toBe(201);
    const push = (cpu: number) =>
      api(`/api/servers/${host.id}/metrics`, { token: owner.token, body: { cpu_usage: cpu, memory_usage: 30, disk_usage: 40 } });

    // High, and kept high until the duration has passed: pending, then firing.
    expect((await push(95)).status).toBe(201);
    const pending = await api(`/api/v1/alerts?host_id=${host.id}`, { token: owner.token });
    expect(pending.body.alerts).toEqual([expect.objectContaining({ state: "pending" })]);
    const firing = await waitFor(
      "the alert to fire",
      async () => {
        await push(96);
        const res = await api(`/api/v1/alerts?host_id=${host.id}&state=firing`, { token: owner.token });
        return res.body.alerts[0];
      },
      { timeout: 60_000, interval: 500 },
    );
    await push(97);
    const [opened] = await receiver.waitFor("/alerts");
    expect(opened!.body).toMatchObject({ event: "alert.opened", target_id: firing.id, data: { metric: "cpu", threshold: 80 } });

    const health = await api("/api/servers/health-summary", { token: owner.token });
    expect(health.body.data.servers[0]).toMatchObject({ id: host.id, health: "critical", alerts: { firing: 1 } });

    // Back to normal: resolved and announced.
    await push(20);
    const cleared = await receiver.waitFor("/alerts", 2);
    expect(cleared[1]!.body).toMatchObject({ event: "alert.cleared", target_id: firing.id });
    expect((await api(`/api/v1/alerts/${firing.id}`, { token: owner.token })).body).toMatchObject({ state: "resolved", resolved_by: null });
    const notes = await api("/api/v1/notifications", { token: owner.token });
    expect(notes.body.notifications.map((n: any) => n.kind)).toEqual(["alert.cleared", "alert.opened"]);
    expect(receiver.received.filter((r) => r.path === "/alerts")).toHaveLength(2);
  });
});
