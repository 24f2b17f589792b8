import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { hosts } from "../db/schema.ts";
import { notify } from "../services/notifications.ts";
import { createTask, updateTask } from "../services/tasks.ts";
import { call, json, newOwner, unique } from "../testing.ts";

// Paths two seed documents share, or that one document's pattern would swallow from another.

describe("routing between the seed documents", () => {
  it("GET /api/tasks/status and /api/tasks/config are seed 004's, not task ids of seed 002's /api/tasks/{task_id}", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const running = await createTask(db, { organizationId: owner.organizationId, kind: "image.pull", message: "Pulling" });
    await updateTask(db, running.id, { status: "running", progress: 40 });
    const done = await createTask(db, { organizationId: owner.organizationId, kind: "image.pull" });
    await updateTask(db, done.id, { status: "succeeded", progress: 100 });

    const status = await json(await call("/api/tasks/status", { token: owner.token }), 200);
    expect(status).toEqual({
      success: true,
      data: {
        counts: { queued: 0, running: 1, succeeded: 1, failed: 0, cancelled: 0 },
        active: 1,
        tasks: [expect.objectContaining({ task_id: running.id, status: "running", progress: 40 })],
      },
      message: expect.any(String),
    });
    const config = await json(await call("/api/tasks/config", { token: owner.token }), 200);
    expect(config).toMatchObject({
      success: true,
      data: { statuses: expect.arrayContaining(["running"]), timeout_seconds: expect.any(Number) },
    });
    // Seed 002's own path still answers the task itself, and its missing tasks in its envelope.
    expect(await json(await call(`/api/tasks/${running.id}`, { token: owner.token }), 200)).toMatchObject({ task_id: running.id });
    expect(await json(await call("/api/tasks/tsk_missing", { token: owner.token }), 404)).toEqual({
      error: { code: "NOT_FOUND", message: expect.any(String), details: {} },
    });
    // Without credentials each path refuses in its own document's envelope.
    expect(await json(await call("/api/tasks/status"), 401)).toEqual({ success: false, error: expect.any(String), details: {} });
    expect(await json(await call(`/api/tasks/${running.id}`), 401)).toEqual({
      error: { code: "UNAUTHORIZED", message: expect.any(String), details: {} },
    });
  });

  it("GET /api/servers/{ip}/metrics is seed 004's (a server by address); /api/servers/{id}/metrics stays DevFlow's", async () => {
    const owner = await newOwner();
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    // The addresses an agent reports in its hello.
    await createDatabase(env)
      .update(hosts)
      .set({ addresses: ["192.0.2.17", "2001:db8::17"] })
      .where(eq(hosts.id, host.id));
    const push = { cpu_usage: 45.5, memory_usage: 62.3, disk_usage: 35.8, network_in: 1024000, network_out: 2048000, load_average: 1.5 };
    await json(await call(`/api/servers/${host.id}/metrics`, { token: owner.token, body: push }), 201);

    const devflow = await json(await call(`/api/servers/${host.id}/metrics`, { token: owner.token }), 200);
    expect(Object.keys(devflow)).toEqual(["data"]);
    expect(devflow.data[0]).toMatchObject({ server_id: host.id, cpu_usage: 45.5, recorded_at: expect.any(String) });

    for (const ip of ["192.0.2.17", "2001:db8::17"]) {
      const v2 = await json(await call(`/api/servers/${encodeURIComponent(ip)}/metrics`, { token: owner.token }), 200);
      expect(v2).toEqual({
        success: true,
        data: {
          server_ip: ip,
          server_id: host.id,
          server_name: host.name,
          metrics: expect.objectContaining({ cpu_usage: 45.5, memory_usage: 62.3, disk_usage: 35.8, timestamp: expect.any(String) }),
          history: [expect.objectContaining({ cpu_usage: 45.5 })],
        },
        message: expect.any(String),
      });
    }
    const health = await json(await call("/api/servers/192.0.2.17/health", { token: owner.token }), 200);
    expect(health).toMatchObject({ success: true, data: { server_ip: "192.0.2.17", id: host.id, health: expect.any(String) } });

    // Unknown in each document's terms and envelope.
    expect(await json(await call("/api/servers/198.51.100.1/metrics", { token: owner.token }), 404)).toEqual({
      success: false,
      error: expect.stringMatching(/198\.51\.100\.1/),
      details: {},
    });
    expect(await json(await call("/api/servers/hst_missing/metrics", { token: owner.token }), 404)).toEqual({
      message: expect.any(String),
    });
    // 004 has no metrics push: an address there is not a DevFlow server.
    expect(await json(await call("/api/servers/192.0.2.17/metrics", { token: owner.token, body: push }), 404)).toMatchObject({
      success: false,
    });
    // Another organization sees no server at that address.
    const stranger = await newOwner("stranger");
    await json(await call("/api/servers/192.0.2.17/metrics", { token: stranger.token }), 404);
  });

  it("GET /api/notifications satisfies seed 002's {notifications, total} and seed 004's {success, data, pagination}", async () => {
    const owner = await newOwner();
    for (const title of ["one", "two", "three"])
      await notify(env, { organizationId: owner.organizationId, kind: "deployment.succeeded", title, message: `${title}: details` });

    // A seed 002 client: no parameters, reads notifications[] and total.
    const v1 = await json(await call("/api/notifications", { token: owner.token }), 200);
    expect(v1.total).toBe(3);
    expect(v1.notifications.map((n: { message: string }) => n.message)).toEqual(["three: details", "two: details", "one: details"]);
    for (const n of v1.notifications) expect(n).toMatchObject({ id: expect.any(String), message: expect.any(String), type: "success" });

    // A seed 004 client: page and per_page, reads success, data[] and pagination.
    const v2 = await json(await call("/api/notifications?page=2&per_page=2", { token: owner.token }), 200);
    expect(v2).toMatchObject({ success: true, pagination: { page: 2, per_page: 2, total: 3, pages: 2 } });
    expect(v2.data.map((n: { message: string }) => n.message)).toEqual(["one: details"]);
    expect(v2.notifications).toEqual(v2.data);

    // 002's limit/offset still page.
    const offset = await json(await call("/api/notifications?limit=1&offset=1", { token: owner.token }), 200);
    expect(offset.notifications.map((n: { message: string }) => n.message)).toEqual(["two: details"]);
    expect(offset.pagination).toEqual({ page: 2, per_page: 1, total: 3, pages: 3 });

    const latest = await json(await call("/api/notifications/latest", { token: owner.token }), 200);
    expect(latest).toMatchObject({ success: true, total: 3, unread_count: 3, message: expect.any(String) });
    expect(latest.data).toEqual(latest.notifications);

    expect(await json(await call("/api/notifications?per_page=0", { token: owner.token }), 422)).toMatchObject({
      success: false,
      error: expect.stringMatching(/per_page/),
    });
  });
});
