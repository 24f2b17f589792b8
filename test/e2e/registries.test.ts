// Organization registry credentials end to end: checked against the Registry V2 fixture's /v2/
// from a host (its engine's /auth), sealed and masked, then used by pushes and pulls on the host
// without any credentials in the request.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRegistry, startRegistry } from "../fixtures/registry.ts";
import {
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  taskEnd,
  TEST_IMAGE,
  type TestAgent,
  unique,
  withRoles,
} from "./client.ts";
import { cleanupOwner, deployLogs, waitDeployment } from "./deploy-helpers.ts";

describe.skipIf(!dockerAvailable())("registries: credentials checked from a host, sealed, used by pushes and pulls", () => {
  const tag = randomUUID().slice(0, 8);
  const repo = `pier-e2e/reg-${tag}`;
  const credentials = { username: "deployer", password: `a-long-registry-token-${tag}` };
  let owner: Owner;
  let member: string;
  let viewer: string;
  let host: NewHost;
  let agent: TestAgent;
  let registry: LocalRegistry;
  const pushed: string[] = [];

  const taskEnded = (id: string) => taskEnd(owner.token, id);
  const push = async (image: string) => {
    pushed.push(image);
    await docker("tag", TEST_IMAGE, image);
    return taskEnded((await api(`/api/v1/hosts/${host.id}/images/push`, { token: member, body: { image } })).body.task_id);
  };

  beforeAll(async () => {
    ({ owner, member, viewer } = await withRoles());
    ({ host, agent } = await onlineHost(owner));
    registry = await startRegistry({ images: [], auth: credentials });
  });

  afterAll(async () => {
    await agent?.agent.stop();
    for (const image of pushed) await docker("rmi", "-f", image).catch(() => undefined);
    await registry?.close();
  });

  it("refuses credentials the registry refuses, in its words, and saves none", async () => {
    const refused = await api("/api/v1/registries", {
      token: owner.token,
      body: { server: registry.host, username: credentials.username, password: "wrong-password" },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toContain(
      `The registry ${registry.host} refused these credentials (checked from host ${host.name} (${host.id}))`,
    );
    expect(refused.body.detail).toMatch(/401|unauthorized|authentication required/i);
    expect((await api("/api/v1/registries", { token: owner.token })).body.registries).toEqual([]);
    expect(registry.requests).toContain("GET /v2/");

    // A registry the host cannot reach passed no verdict on the password: the answer says so.
    const unreachable = await api("/api/v1/registries", {
      token: owner.token,
      body: { server: "127.0.0.1:1", username: credentials.username, password: "any-password" },
    });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.detail).toContain(
      `Could not check these credentials with the registry 127.0.0.1:1 from host ${host.name} (${host.id})`,
    );
    expect(unreachable.body.detail).not.toContain("refused these credentials");
    expect(unreachable.body.errors).toEqual([expect.objectContaining({ pointer: "/body/server" })]);
  });

  it("saves checked credentials, masked for everyone, admins only", async () => {
    const denied = await api("/api/v1/registries", { token: member, body: { server: registry.host, ...credentials } });
    expect(denied.status).toBe(403);
    const saved = await api("/api/v1/registries", {
      token: owner.token,
      body: { server: `http://${registry.host}/`, username: credentials.username, token: credentials.password },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body).toMatchObject({
      id: expect.stringMatching(/^reg_/),
      server: registry.host,
      username: credentials.username,
      password: `…${credentials.password.slice(-4)}`,
      verified_from_host_id: host.id,
    });
    const list = await api("/api/v1/registries", { token: viewer });
    expect(list.body.registries).toEqual([saved.body]);
    expect(JSON.stringify(list.body)).not.toContain(credentials.password);
    const audit = await api("/api/v1/audit-events?limit=50", { token: owner.token });
    expect(audit.body.audit_events.find((e: { action: string }) => e.action === "registry.create")).toMatchObject({
      target_id: saved.body.id,
    });
    expect(JSON.stringify(audit.body)).not.toContain(credentials.password);

    const again = await api("/api/v1/registries", { token: owner.token, body: { server: registry.host, ...credentials } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(saved.body.id);
    expect((await api("/api/v1/registries", { token: owner.token, body: { server: "not a host!", ...credentials } })).status).toBe(422);
    expect((await api("/api/v1/registries", { token: owner.token, body: { server: registry.host, username: "x" } })).status).toBe(422);
  });

  it("uses the saved credentials for pushes and pulls that bring none", async () => {
    const image = `${registry.host}/${repo}:v1`;
    const task = await push(image);
    expect(task.status, task.message).toBe("succeeded");
    expect(registry.tags(repo)).toEqual(["v1"]);
    expect(JSON.stringify(task)).not.toContain(credentials.password);

    await docker("rmi", image);
    const pull = await api(`/api/v1/hosts/${host.id}/images/pull`, { token: member, body: { image } });
    const pulled = await taskEnded(pull.body.task_id);
    expect(pulled.status, pulled.message).toBe("succeeded");
    expect(await docker("image", "inspect", "-f", "{{.Id}}", image)).toMatch(/^sha256:/);
  });

  it("deploys an application from the registry with the organization's credentials", async () => {
    const image = `${registry.host}/${repo}:v1`;
    await docker("rmi", "-f", image).catch(() => undefined);
    const projectId = (await api("/api/v1/projects", { token: owner.token, body: { name: `reg-${tag}` } })).body.id;
    const app = await api("/api/v1/applications", {
      token: owner.token,
      body: {
        project_id: projectId,
        name: "from the org registry",
        app_name: unique("reg-app"),
        image,
        pull_policy: "always",
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
      },
    });
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    try {
      const queued = await api(`/api/v1/applications/${app.body.id}/deployments`, { token: owner.token, method: "POST" });
      expect(queued.status, JSON.stringify(queued.body)).toBe(202);
      const done = await waitDeployment(owner, queued.body.id);
      expect(done.status, done.error).toBe("succeeded");
      expect(registry.requests.filter((r) => r.includes(`/v2/${repo}/manifests/v1`)).length).toBeGreaterThan(0);
      expect(await deployLogs(owner, queued.body.id)).not.toContain(credentials.password);
    } finally {
      await cleanupOwner("dev.pier.app", app.body.id, app.body.app_name);
      await docker("network", "rm", `pier-${projectId}`).catch(() => undefined);
    }
  });

  it("checks changed credentials before they replace the old ones; a forgotten registry pushes without", async () => {
    const [saved] = (await api("/api/v1/registries", { token: owner.token })).body.registries;
    const wrong = await api(`/api/v1/registries/${saved.id}`, { method: "PATCH", token: owner.token, body: { password: "nope" } });
    expect(wrong.status).toBe(422);
    expect((await push(`${registry.host}/${repo}:still-good`)).status).toBe("succeeded");
    const same = await api(`/api/v1/registries/${saved.id}`, {
      method: "PATCH",
      token: owner.token,
      body: { password: credentials.password },
    });
    expect(same.status).toBe(200);
    expect(same.body.updated_at >= saved.updated_at).toBe(true);

    expect((await api(`/api/v1/registries/${saved.id}`, { method: "DELETE", token: member })).status).toBe(403);
    expect((await api(`/api/v1/registries/${saved.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    const without = await push(`${registry.host}/${repo}:no-login`);
    expect(without.status).toBe("failed");
    expect(without.message).toMatch(/no basic auth credentials|unauthorized|authentication required/i);
    expect((await api(`/api/v1/registries/${saved.id}`, { token: owner.token })).status).toBe(404);
  });

  it("needs an online host to check from, and hides other organizations' registries", async () => {
    const lonely = await newOwner("lonely");
    const none = await api("/api/v1/registries", { token: lonely.token, body: { server: registry.host, ...credentials } });
    expect(none.status).toBe(409);
    expect(none.body.detail).toMatch(/No host of your organization is online/);
    const foreignHost = await api("/api/v1/registries", {
      token: lonely.token,
      body: { server: registry.host, ...credentials, verify_host_id: host.id },
    });
    expect(foreignHost.status).toBe(404);
  });
});
