// Server backups at the server manager documents' paths (seeds 002 and 004), end to end: a server
// made through the canonical API on host A with a file in its data volume, backed up with 004's
// `POST /api/server/backup/<name>`, listed by both documents, restored over a server on host B
// (`POST /api/backups/restore` with target_server) and back over its own server (002's
// `POST /api/backups/{backup_id}/restore`), the file read back each time, then deleted by both
// documents' paths. Hosts A and B are two agents on the one engine, under their own identities.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  newOwner,
  onlineHost,
  type NewHost,
  type Owner,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
} from "./client.ts";

describe.skipIf(!dockerAvailable())("server backups at the server manager documents' paths", () => {
  let owner: Owner;
  let hostA: NewHost;
  let hostB: NewHost;
  const agents: TestAgent[] = [];
  const names = { a: unique("bka"), b: unique("bkb") };
  let serverA: { id: string; alias: number; name: string };
  let serverB: { id: string; alias: number; name: string };

  const createServer = async (name: string, hostId: string) => {
    const res = await api("/api/v1/servers", {
      token: owner.token,
      body: { name, image: TEST_IMAGE, command: ["httpd", "-f", "-p", "8080"], host_id: hostId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const task = await taskEnd(owner.token, res.body.task_id, 300_000);
    expect(task.status, JSON.stringify(task)).toBe("succeeded");
    return waitFor(`server ${name} to run`, async () => {
      const s = (await api(`/api/v1/servers/${name}`, { token: owner.token })).body;
      return s?.status === "running" ? s : undefined;
    });
  };
  const inServer = (name: string, script: string) => docker("exec", `srv-${name}`, "sh", "-c", script);

  beforeAll(async () => {
    owner = await newOwner("srvbk");
    const a = await onlineHost(owner);
    const b = await onlineHost(owner);
    hostA = a.host;
    hostB = b.host;
    agents.push(a.agent, b.agent);
    serverA = await createServer(names.a, hostA.id);
    serverB = await createServer(names.b, hostB.id);
  }, 600_000);

  afterAll(async () => {
    for (const name of Object.values(names))
      await api(`/api/v1/servers/${name}`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    // Whatever the deletes left (a failed test): this organization's containers and volumes.
    const label = `label=dev.pier.org=${owner.organizationId}`;
    const containers = await docker("ps", "-aq", "--filter", label).catch(() => "");
    if (containers) await docker("rm", "-f", ...containers.split("\n")).catch(() => undefined);
    for (const v of (await docker("volume", "ls", "-q").catch(() => ""))
      .split("\n")
      .filter((n) => n.includes(names.a) || n.includes(names.b)))
      await docker("volume", "rm", "-f", v).catch(() => undefined);
    for (const { agent } of agents) await agent.stop();
  });

  it("backs a server up, restores it over a server on another host and over itself, and deletes the backups", async () => {
    await inServer(names.a, "echo precious > /data/file.txt && mkdir -p /data/d && echo nested > /data/d/n");

    // 004: back it up by name.
    const started = await api(`/api/server/backup/${names.a}`, { token: owner.token, method: "POST" });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toMatchObject({ success: true, data: { task_id: expect.any(String), backup_id: expect.stringMatching(/^bak_/) } });
    const backupId = started.body.data.backup_id as string;
    const done = await taskEnd(owner.token, started.body.data.task_id, 300_000);
    expect(done.status, JSON.stringify(done)).toBe("succeeded");

    // Both documents list it.
    const v2 = await api(`/api/server/backups/${names.a}`, { token: owner.token });
    expect(v2.body).toMatchObject({ success: true, data: [{ backup_id: backupId, status: "completed", node: hostA.name }] });
    const v1 = await api("/api/backups", { token: owner.token });
    expect(v1.body).toEqual({
      backups: [
        expect.objectContaining({
          id: 1,
          server_id: serverA.alias,
          server_name: names.a,
          backup_id: backupId,
          status: "completed",
          size: expect.stringMatching(/^\d+(\.\d+)?[kMGT]?B$/),
          created_at: expect.any(String),
        }),
      ],
      total: 1,
    });
    const status = await api(`/api/server/backup/${names.a}/status`, { token: owner.token });
    expect(status.body).toMatchObject({ success: true, data: { server_name: names.a, status: "completed", backups: 1 } });
    expect((await api(`/api/server/backup/status/${names.a}`, { token: owner.token })).body).toEqual(status.body);
    const nodes = await api(`/api/backups/nodes/${hostA.name}`, { token: owner.token });
    expect(nodes.body).toMatchObject({ success: true, data: { node: hostA.name, total: 1, backups: [{ backup_id: backupId }] } });

    // 004: over the server on host B; its own data goes, A's comes.
    await inServer(names.b, "echo other > /data/file.txt");
    const onB = await api("/api/backups/restore", { token: owner.token, body: { backup_id: backupId, target_server: names.b } });
    expect(onB.status, JSON.stringify(onB.body)).toBe(202);
    const restoredB = await taskEnd(owner.token, onB.body.data.task_id, 300_000);
    expect(restoredB.status, JSON.stringify(restoredB)).toBe("succeeded");
    expect(restoredB.result.restored).toMatchObject({ host_id: hostB.id, server_name: names.b });
    await waitFor(
      "server B to run again",
      async () => (await inServer(names.b, "cat /data/file.txt /data/d/n").catch(() => "")) || undefined,
    );
    expect(await inServer(names.b, "cat /data/file.txt /data/d/n")).toBe("precious\nnested");

    // 002: back over A itself, by its numeric id, after A's file changed.
    await inServer(names.a, "echo changed > /data/file.txt");
    const refused = await api(`/api/backups/${backupId}/restore`, {
      token: owner.token,
      body: { target_server_id: serverA.alias, overwrite: false },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "CONFLICT", message: expect.stringMatching(/overwrite/) } });
    const onA = await api(`/api/backups/${backupId}/restore`, {
      token: owner.token,
      body: { target_server_id: serverA.alias, overwrite: true },
    });
    expect(onA.status, JSON.stringify(onA.body)).toBe(202);
    expect(onA.body).toMatchObject({ success: true, task_id: expect.any(String) });
    expect((await taskEnd(owner.token, onA.body.task_id, 300_000)).status).toBe("succeeded");
    await waitFor("server A to run again", async () => (await inServer(names.a, "cat /data/file.txt").catch(() => "")) || undefined);
    expect(await inServer(names.a, "cat /data/file.txt")).toBe("precious");

    // Deleted through 004 (a second one through 002), then gone from both lists.
    const second = await api("/api/backups/create", { token: owner.token, body: { server_id: serverB.alias, backup_type: "full" } });
    expect(second.status, JSON.stringify(second.body)).toBe(202);
    expect((await taskEnd(owner.token, second.body.task_id, 300_000)).status).toBe("succeeded");
    expect((await api("/api/backups/delete", { token: owner.token, body: { backup_id: backupId } })).body).toMatchObject({
      success: true,
      data: { deleted: [backupId] },
    });
    expect((await api(`/api/backups/${second.body.backup_id}`, { token: owner.token, method: "DELETE" })).body).toMatchObject({
      success: true,
    });
    expect((await api("/api/backups", { token: owner.token })).body).toEqual({ backups: [], total: 0 });
    const unknown = await api("/api/backups/delete", { token: owner.token, body: { backup_id: backupId } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, error: expect.any(String) });
  }, 900_000);
});
