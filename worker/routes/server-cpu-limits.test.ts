// Servers' CPU limits checked at the request against the host's CPU count, which its agent says
// in hello: on the canonical API and seeds 002 and 004's paths, in workerd with a scripted agent
// over the real HostRelay.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/client.ts";
import { servers } from "../db/schema.ts";
import { call, expectProblem, json, newOwner, unique, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";
import { waitFor } from "../../test/support/wait.ts";

describe("a server's CPU limit", () => {
  it("above the host's CPU count is a 422 naming the count, on create, bulk create, 002, 004 and a config change", async () => {
    const owner = await newOwner();
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: unique("h") } }), 201);
    const agent = await ScriptedAgent.connect(host.agent_token, {
      capabilities: ["container.update", "container.list", "container.inspect"],
      hello: { cpus: 2 },
    });
    await waitForStatus(owner, host.id, "online");
    await waitFor(
      "the host's CPU count",
      async () => (await json(await call(`/api/v1/hosts/${host.id}`, { token: owner.token }), 200)).cpus === 2,
    );
    const t = { token: owner.token };

    const one = await json(
      await call("/api/v1/servers", { ...t, body: { name: "big", image: "pier-test/busybox:latest", host_id: host.id, cpu: 4 } }),
      422,
    );
    expect(one.errors).toEqual([
      { pointer: "/body/cpu", detail: expect.stringMatching(/asks for 4 CPU cores, but host .* has 2: give at most 2/) },
    ]);
    const bulk = await json(
      await call("/api/v1/servers/bulk", {
        ...t,
        body: {
          host_id: host.id,
          servers: [
            { name: "fits", image: "pier-test/busybox:latest", cpu: 1.5 },
            { name: "too-big", image: "pier-test/busybox:latest", cpu: 2.5 },
          ],
        },
      }),
      422,
    );
    expect(bulk.errors[0]).toMatchObject({ pointer: "/body/servers/1/cpu", detail: expect.stringContaining("has 2") });
    // From a template (the dashboard's bulk dialog): the template's field.
    const templated = await json(
      await call("/api/v1/servers/bulk", {
        ...t,
        body: { host_id: host.id, count: 2, name_prefix: "many", template: { image: "pier-test/busybox:latest", cpu: 3 } },
      }),
      422,
    );
    expect(templated.errors[0]).toMatchObject({ pointer: "/body/template/cpu", detail: expect.stringContaining("has 2") });
    // 002 and 004's create paths, in their envelopes (the host is the organization's default).
    const v1 = await json(
      await call("/api/servers/create", { ...t, body: { name: "big-002", image: "pier-test/busybox:latest", cpu: 8 } }),
      422,
    );
    expect(v1.error).toMatchObject({ details: { field: "cpu", reason: expect.stringContaining("has 2") } });
    const v2 = await json(await call("/api/servers", { ...t, body: { name: "big-004", image: "pier-test/busybox:latest", cpu: 3 } }), 422);
    expect(JSON.stringify(v2)).toContain("has 2");
    // Nothing was created, and nothing was asked of the host.
    expect((await json(await call("/api/v1/servers", t), 200)).servers).toEqual([]);
    expect(agent.commands).toEqual([]);

    // A live change: refused above the count, sent to the host within it.
    const now = new Date().toISOString();
    const id = `srv_cpu${host.id.slice(-10).toLowerCase()}`;
    await createDatabase(env)
      .insert(servers)
      .values({
        id,
        organizationId: owner.organizationId,
        alias: 1,
        name: "live",
        hostId: host.id,
        image: "pier-test/busybox:latest",
        containerId: "c".repeat(64),
        volumeName: "live-data",
        status: "running",
        config: {},
        createdAt: now,
        updatedAt: now,
      });
    await expectProblem(
      await call(`/api/v1/servers/${id}/config`, { ...t, method: "PATCH", body: { cpu: 2.01 } }),
      422,
      /asks for 2.01 CPU cores, but host .* has 2/,
    );
    expect((await call(`/api/server/config/live`, { ...t, method: "PUT", body: { cpu: 16 } })).status).toBe(422);
    const patched = call(`/api/v1/servers/${id}/config`, { ...t, method: "PATCH", body: { cpu: 2 } });
    const update = await agent.next();
    expect(update).toMatchObject({ op: "container.update", args: { cpus: 2 } });
    agent.reply(update.id, { id: "c".repeat(64), warnings: [] });
    expect(await json(await patched, 200)).toMatchObject({ live: ["cpu"], server: { cpu: 2 } });
  });
});
