import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { HostSample } from "#protocol";
import { createDatabase } from "../db/client.ts";
import { hostMetrics, servers } from "../db/schema.ts";
import { runScheduled } from "../scheduled.ts";
import { ingestAgentMetrics, RAW_RETENTION_MS } from "../services/metrics.ts";
import { createTask, updateTask } from "../services/tasks.ts";
import { addMember, call, expectProblem, json, newOwner, unique, type TestAccount } from "../testing.ts";

async function newHost(owner: TestAccount) {
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
  return { id: host.id as string, name: host.name as string, organizationId: owner.organizationId };
}

function sample(at: number, cpu: number, extra: Partial<HostSample> = {}): HostSample {
  return {
    at,
    cpu_percent: cpu,
    memory_used: 4e9,
    memory_total: 8e9,
    memory_percent: 50,
    disk_used: 40e9,
    disk_total: 100e9,
    disk_percent: 40,
    net_in: 1000,
    net_out: 2000,
    load: [1, 0.5, 0.25],
    containers_running: 2,
    containers: [{ id: "c".repeat(64), name: "web", cpu_percent: cpu / 2, memory_usage: 1e8, memory_limit: 1e9, memory_percent: 10 }],
    ...extra,
  };
}

/** A 10-minute boundary at least 10 minutes ago, so every sample below is in the past. */
const bucketStart = () => Math.floor((Date.now() - 600_000) / 600_000) * 600_000;

describe("host metrics", () => {
  it("stores samples raw and in 5-minute rollups, and serves both by range and step", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const t0 = bucketStart();
    const db = createDatabase(env);
    // Two batches into one bucket (the rollup merges them), one sample into the next, and a replayed sample.
    await ingestAgentMetrics(db, env, host, [sample(t0, 10), sample(t0 + 15_000, 20)]);
    await ingestAgentMetrics(db, env, host, [sample(t0 + 30_000, 60), sample(t0 + 15_000, 20)]);
    await ingestAgentMetrics(db, env, host, [sample(t0 + 300_000, 80)]);

    const from = new Date(t0).toISOString();
    const to = new Date(t0 + 600_000).toISOString();
    const raw = await json(await call(`/api/v1/hosts/${host.id}/metrics?from=${from}&to=${to}&step=15`, { token: owner.token }), 200);
    expect(raw).toMatchObject({ host_id: host.id, resolution: "raw", step: 15 });
    expect(raw.points.map((p: any) => p.cpu_percent)).toEqual([10, 20, 60, 80]);
    expect(raw.points[0]).toMatchObject({
      memory_percent: 50,
      memory_used: 4e9,
      disk_percent: 40,
      network_in: 1000,
      network_out: 2000,
      load_1: 1,
      load_5: 0.5,
      load_15: 0.25,
      containers_running: 2,
    });

    const rolled = await json(await call(`/api/v1/hosts/${host.id}/metrics?from=${from}&to=${to}&step=300`, { token: owner.token }), 200);
    expect(rolled).toMatchObject({ resolution: "5m", step: 300 });
    expect(rolled.points).toEqual([
      expect.objectContaining({ at: from, samples: 3, cpu_percent: 30, cpu_max: 60 }),
      expect.objectContaining({ at: new Date(t0 + 300_000).toISOString(), samples: 1, cpu_percent: 80, cpu_max: 80 }),
    ]);
    // Raw samples averaged into 10-minute steps agree with the rollups.
    const coarse = await json(await call(`/api/v1/hosts/${host.id}/metrics?from=${from}&to=${to}&step=600`, { token: owner.token }), 200);
    expect(coarse.points).toEqual([expect.objectContaining({ samples: 4, cpu_percent: 42.5, cpu_max: 80 })]);

    const container = await json(
      await call(`/api/v1/hosts/${host.id}/containers/web/metrics?from=${from}&to=${to}&step=300`, { token: owner.token }),
      200,
    );
    expect(container).toMatchObject({ container_id: "c".repeat(64), container_name: "web", resolution: "5m" });
    expect(container.points.map((p: any) => [p.cpu_percent, p.cpu_max, p.samples])).toEqual([
      [15, 30, 3],
      [40, 40, 1],
    ]);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/containers/nope/metrics`, { token: owner.token }), 404);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/metrics?from=${to}&to=${from}`, { token: owner.token }), 422);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/metrics?from=2020-01-01T00:00:00Z&step=1`, { token: owner.token }), 422);
    await expectProblem(await call(`/api/v1/hosts/${host.id}/metrics?from=9000000000000000`, { token: owner.token }), 422);

    const other = await newOwner("other");
    await expectProblem(await call(`/api/v1/hosts/${host.id}/metrics`, { token: other.token }), 404);
  });

  it("prunes raw samples after a day on the cron trigger, keeping the rollups", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const db = createDatabase(env);
    const t0 = bucketStart();
    await ingestAgentMetrics(db, env, host, [sample(t0, 10)]);
    await runScheduled(env, t0 + RAW_RETENTION_MS + 60_000);
    const rows = await db.select().from(hostMetrics).all();
    const mine = rows.filter((r) => r.hostId === host.id);
    expect(mine.map((r) => r.resolution)).toEqual([300]);
  });
});

describe("the cron trigger", () => {
  it("tells a key's owner, once, that it expires within a week", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const key = await json(await call("/api/v1/api-keys", { token: owner.token, body: { name: "ci", expires_at: soon } }), 201);
    await json(
      await call("/api/v1/api-keys", {
        token: owner.token,
        body: { name: "later", expires_at: new Date(Date.now() + 60 * 86_400_000).toISOString() },
      }),
      201,
    );
    await runScheduled(env);
    await runScheduled(env);
    const notes = (await json(await call("/api/v1/notifications?kind=credential.expiring", { token: owner.token }), 200)).notifications;
    expect(notes).toEqual([
      expect.objectContaining({ target_type: "api_key", target_id: key.id, title: 'API key "ci" expires in 3 days', severity: "warning" }),
    ]);
    // Only the key's owner is told.
    expect((await json(await call("/api/v1/notifications", { token: member.token }), 200)).notifications).toEqual([]);
  });
});

describe("DevFlow metrics (seed 003)", () => {
  it("stores a push and lists it in Laravel's shapes", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const body = {
      cpu_usage: 45.5,
      memory_usage: 62.3,
      disk_usage: 35.8,
      network_in: 1024000,
      network_out: 2048000,
      load_average: 1.5,
      active_connections: 42,
    };
    const stored = await json(await call(`/api/servers/${host.id}/metrics`, { token: owner.token, body }), 201);
    expect(stored).toEqual({
      message: "Metrics stored successfully",
      data: {
        id: expect.any(Number),
        server_id: host.id,
        cpu_usage: 45.5,
        memory_usage: 62.3,
        disk_usage: 35.8,
        recorded_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      },
    });
    const list = await json(await call(`/api/servers/${host.id}/metrics`, { token: owner.token }), 200);
    expect(list.data).toEqual([{ id: stored.data.id, server_id: host.id, ...body, recorded_at: stored.data.recorded_at }]);
  });

  it("answers invalid pushes with 422 and Laravel's messages, and hides other organizations' servers", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const res = await call(`/api/servers/${host.id}/metrics`, {
      token: owner.token,
      body: { memory_usage: "lots", disk_usage: 120, network_in: -1 },
    });
    expect(await json(res, 422)).toEqual({
      message: "The given data was invalid.",
      errors: {
        cpu_usage: ["The cpu usage field is required."],
        memory_usage: ["The memory usage field must be a number."],
        disk_usage: ["The disk usage field must be between 0 and 100."],
        network_in: ["The network in field must be at least 0."],
      },
    });
    expect(
      await json(
        await call(`/api/servers/${host.id}/metrics`, {
          token: owner.token,
          rawBody: "{",
          headers: { "content-type": "application/json" },
        }),
        400,
      ),
    ).toHaveProperty("message");
    expect(await json(await call(`/api/servers/${host.id}/metrics`, { body: { cpu_usage: 1 } }), 401)).toEqual({
      message: "Unauthenticated.",
    });
    const viewer = await addMember(owner, "viewer");
    await json(
      await call(`/api/servers/${host.id}/metrics`, { token: viewer.token, body: { cpu_usage: 1, memory_usage: 1, disk_usage: 1 } }),
      403,
    );
    const other = await newOwner("other");
    await json(await call(`/api/servers/${host.id}/metrics`, { token: other.token }), 404);
    await json(
      await call(`/api/servers/${host.id}/metrics`, { token: other.token, body: { cpu_usage: 1, memory_usage: 1, disk_usage: 1 } }),
      404,
    );
  });
});

describe("alerts", () => {
  it("opens an alert once a threshold is crossed for its duration, notifies once, and clears on recovery", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const db = createDatabase(env);
    const rule = await json(
      await call("/api/v1/alert-rules", {
        token: owner.token,
        body: { host_id: host.id, metric: "cpu", threshold: 80, duration_seconds: 60 },
      }),
      201,
    );
    expect(rule).toMatchObject({ host_id: host.id, metric: "cpu", threshold: 80, duration_seconds: 60, enabled: true });
    await expectProblem(
      await call("/api/v1/alert-rules", {
        token: owner.token,
        body: { host_id: host.id, metric: "cpu", threshold: 70, duration_seconds: 60 },
      }),
      409,
    );

    const t0 = Date.now() - 5 * 60_000;
    // A spike shorter than the duration: no alert.
    await ingestAgentMetrics(db, env, host, [sample(t0, 95), sample(t0 + 15_000, 95), sample(t0 + 30_000, 20)]);
    expect((await json(await call(`/api/v1/alerts?host_id=${host.id}`, { token: owner.token }), 200)).alerts).toEqual([]);

    // Above 80 for a minute: pending, then firing once.
    await ingestAgentMetrics(db, env, host, [sample(t0 + 45_000, 85), sample(t0 + 60_000, 90)]);
    const pending = (await json(await call(`/api/v1/alerts?host_id=${host.id}`, { token: owner.token }), 200)).alerts;
    expect(pending).toEqual([expect.objectContaining({ state: "pending", metric: "cpu", value: 90, peak_value: 90 })]);
    await ingestAgentMetrics(db, env, host, [sample(t0 + 105_000, 97), sample(t0 + 120_000, 93)]);
    await ingestAgentMetrics(db, env, host, [sample(t0 + 135_000, 99)]);
    const [firing] = (await json(await call(`/api/v1/alerts?host_id=${host.id}`, { token: owner.token }), 200)).alerts;
    expect(firing).toMatchObject({
      state: "firing",
      value: 99,
      peak_value: 99,
      since: new Date(t0 + 45_000).toISOString(),
      fired_at: new Date(t0 + 105_000).toISOString(),
    });

    let notes = (await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications;
    expect(notes.filter((n: any) => n.kind === "alert.opened")).toEqual([
      expect.objectContaining({ target_type: "alert", target_id: firing.id, title: `CPU above 80% on ${host.name}` }),
    ]);

    // Health at a glance: the host has never had an agent, but it reports.
    const health = await json(await call("/api/servers/health-summary", { token: owner.token }), 200);
    expect(health).toMatchObject({ success: true, data: { total: 1, critical: 1 } });
    expect(health.data.servers[0]).toMatchObject({
      id: host.id,
      health: "critical",
      cpu_usage: 99,
      alerts: { firing: 1, unacknowledged: 1 },
    });

    const acked = await json(await call(`/api/alerts/${firing.id}/acknowledge`, { method: "POST", token: owner.token }), 200);
    expect(acked).toMatchObject({ success: true, data: { id: firing.id, acknowledged_by: owner.userId } });
    expect((await json(await call("/api/servers/health-summary", { token: owner.token }), 200)).data.servers[0].health).toBe("warning");

    // Recovery resolves it and notifies once.
    await ingestAgentMetrics(db, env, host, [sample(t0 + 150_000, 40), sample(t0 + 165_000, 30)]);
    const resolved = await json(await call(`/api/v1/alerts/${firing.id}`, { token: owner.token }), 200);
    expect(resolved).toMatchObject({ state: "resolved", resolved_at: new Date(t0 + 150_000).toISOString(), resolved_by: null });
    notes = (await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications;
    expect(notes.map((n: any) => n.kind).filter((k: string) => k.startsWith("alert."))).toEqual(["alert.cleared", "alert.opened"]);
    expect((await json(await call("/api/servers/health-summary", { token: owner.token }), 200)).data.servers[0].health).toBe("healthy");

    // The managed servers count too, after the hosts: one whose container died is critical.
    const now = new Date().toISOString();
    await db.insert(servers).values({
      id: "srv_healthsummary1",
      organizationId: owner.organizationId,
      alias: 1,
      name: "web-01",
      hostId: host.id,
      image: "pier-test/busybox:latest",
      ipAddress: "10.9.0.5",
      volumeName: "pier-srv-web-01",
      status: "error",
      lastError: "Its container exited.",
      config: { ports: [], data_path: "/data" },
      createdAt: now,
      updatedAt: now,
    });
    const withServer = await json(await call("/api/servers/health-summary", { token: owner.token }), 200);
    expect(withServer.data).toMatchObject({ total: 2, healthy: 1, critical: 1 });
    expect(withServer.data.servers.map((s: any) => [s.type, s.name, s.health])).toEqual([
      ["node", host.name, "healthy"],
      ["server", "web-01", "critical"],
    ]);
    expect(withServer.data.servers[1]).toMatchObject({
      id: 1,
      ip_address: "10.9.0.5",
      status: "error",
      last_error: "Its container exited.",
    });

    const other = await newOwner("other");
    await expectProblem(await call(`/api/v1/alerts/${firing.id}`, { token: other.token }), 404);
    expect(await json(await call(`/api/alerts/${firing.id}/acknowledge`, { method: "POST", token: other.token }), 404)).toMatchObject({
      success: false,
    });
    expect((await json(await call("/api/servers/health-summary", { token: other.token }), 200)).data).toMatchObject({
      total: 0,
      servers: [],
    });
  });

  it("clears alerts by hand with POST /api/alerts/clear", async () => {
    const owner = await newOwner();
    const host = await newHost(owner);
    const db = createDatabase(env);
    await json(
      await call("/api/v1/alert-rules", { token: owner.token, body: { metric: "memory", threshold: 40, duration_seconds: 0 } }),
      201,
    );
    await ingestAgentMetrics(db, env, host, [sample(Date.now(), 1)]);
    const [alert] = (await json(await call("/api/v1/alerts?state=firing", { token: owner.token }), 200)).alerts;
    expect(alert).toMatchObject({ metric: "memory", state: "firing", threshold: 40 });
    const viewer = await addMember(owner, "viewer");
    expect(await json(await call("/api/alerts/clear", { method: "POST", token: viewer.token }), 403)).toMatchObject({ success: false });
    const cleared = await json(
      await call("/api/alerts/clear", { method: "POST", token: owner.token, body: { alert_ids: [alert.id] } }),
      200,
    );
    expect(cleared).toMatchObject({
      success: true,
      data: { cleared: 1, alerts: [expect.objectContaining({ id: alert.id, state: "resolved", resolved_by: owner.userId })] },
    });
    expect((await json(await call("/api/alerts/clear", { method: "POST", token: owner.token }), 200)).data.cleared).toBe(0);
    const rules = await json(await call(`/api/v1/alert-rules?host_id=${host.id}`, { token: owner.token }), 200);
    expect(rules.effective).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ metric: "memory", source: "organization", threshold: 40 }),
        expect.objectContaining({ metric: "cpu", source: "default", threshold: 90 }),
      ]),
    );
    const audit = await json(await call("/api/v1/audit-events", { token: owner.token }), 200);
    expect(audit.audit_events.map((e: any) => e.action)).toEqual(expect.arrayContaining(["alert.clear", "alert_rule.create"]));
  });
});

describe("tasks API", () => {
  it("serves a task canonically and in both seed shapes, per organization", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const task = await createTask(db, { organizationId: owner.organizationId, kind: "image.pull", message: "Pulling" });
    await updateTask(db, task.id, { status: "running", progress: 75, message: "서버 생성 중..." });
    const canonical = await json(await call(`/api/v1/tasks/${task.id}`, { token: owner.token }), 200);
    expect(canonical).toMatchObject({
      id: task.id,
      kind: "image.pull",
      status: "running",
      progress: 75,
      message: "서버 생성 중...",
      started_at: expect.any(String),
      finished_at: null,
    });
    const list = await json(await call("/api/v1/tasks?status=running", { token: owner.token }), 200);
    expect(list.tasks.map((t: any) => t.id)).toEqual([task.id]);
    const v1 = await json(await call(`/api/tasks/${task.id}`, { token: owner.token }), 200);
    expect(v1).toMatchObject({
      task_id: task.id,
      status: "running",
      progress: 75,
      message: "서버 생성 중...",
      created_at: task.createdAt,
      updated_at: expect.any(String),
    });
    const v2 = await json(await call(`/api/tasks/${task.id}/status`, { token: owner.token }), 200);
    expect(v2).toMatchObject({ success: true, data: { task_id: task.id, status: "running", progress: 75 }, message: expect.any(String) });

    const other = await newOwner("other");
    await expectProblem(await call(`/api/v1/tasks/${task.id}`, { token: other.token }), 404);
    expect(await json(await call(`/api/tasks/${task.id}`, { token: other.token }), 404)).toEqual({
      error: { code: "NOT_FOUND", message: expect.any(String), details: {} },
    });
    expect(await json(await call(`/api/tasks/${task.id}/status`, { token: other.token }), 404)).toMatchObject({ success: false });
    expect((await json(await call("/api/v1/tasks", { token: other.token }), 200)).tasks).toEqual([]);
  });
});

describe("OpenAPI", () => {
  it("documents the notification, channel, task, metric and alert routes", async () => {
    const doc = await json(await call("/openapi.json"), 200);
    for (const path of [
      "/api/v1/notifications",
      "/api/v1/notifications/stream",
      "/api/v1/notifications/{id}/read",
      "/api/v1/notification-channels",
      "/api/v1/notification-channels/{id}/test",
      "/api/v1/notification-channels/{id}/deliveries",
      "/api/v1/tasks/{id}",
      "/api/v1/hosts/{id}/metrics",
      "/api/v1/hosts/{hostId}/containers/{id}/metrics",
      "/api/v1/alerts/{id}/acknowledge",
      "/api/v1/alert-rules",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });
});
