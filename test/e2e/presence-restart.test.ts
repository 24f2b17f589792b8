// Host presence that can be believed across a restart of the control plane (issue 14.6/14.7): the
// control plane and real agent processes are killed (or frozen) in different orders, and every
// host must end in its true state, every command must end with a clear status, and each
// `host.disconnected` / `host.lost` notice must arrive exactly once.
//
// A stack of its own (npm start on a data directory that survives the restart), with short
// presence windows: a disconnect is announced after 1 s, a host is lost after 15 s, and the cron
// trigger (the presence sweep) runs every 2 s.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, STACK_START_TIMEOUT_MS, startStack, type Stack } from "../setup/stack.ts";
import { api, dockerAvailable, spawnAgent, unique, waitFor } from "./client.ts";

const LOST_AFTER_MS = 15_000;

describe.skipIf(!dockerAvailable())("host presence across a control-plane restart", () => {
  let dataDir: string;
  let port: string;
  let stack: Stack | undefined;
  const agents: ChildProcess[] = [];

  const env = () => ({
    PIER_DATA_DIR: dataDir,
    PORT: port,
    PIER_OPEN_REGISTRATION: "true",
    PIER_RATE_LIMIT_PER_MINUTE: "100000",
    PIER_HOST_DISCONNECT_NOTICE_MS: "1000",
    PIER_HOST_LOST_AFTER_MS: String(LOST_AFTER_MS),
    PIER_CRON_INTERVAL_MS: "2000",
  });

  /** Stops the control plane (npm start and its wrangler) without touching the data directory. */
  async function stopControlPlane(): Promise<void> {
    const child = stack!.process;
    stack = undefined;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "pier-e2e-restart-"));
    port = String(await freePort());
    stack = await startStack(env());
  }, STACK_START_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const agent of agents) if (agent.exitCode === null) agent.kill("SIGKILL");
    if (stack) await stopControlPlane();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("kills the control plane and agents in every order: each host ends in its true state, each notice arrives once", async () => {
    const url = () => stack!.url;
    const call = (path: string, token: string) => api(path, { token, url: url() });

    const username = unique("restart");
    const reg = await api("/api/v1/auth/register", {
      url: url(),
      body: { username, email: `${username}@example.test`, password: "e2e-password" },
    });
    expect(reg.status).toBe(201);
    const login = async () =>
      (await api("/api/v1/auth/login", { url: url(), body: { login: username, password: "e2e-password" } })).body.access_token as string;
    let token = await login();

    const hosts: Record<"cpFirst" | "agentFirst" | "frozen" | "survivor", { id: string; name: string; agent: ChildProcess }> = {} as never;
    for (const role of ["cpFirst", "agentFirst", "frozen", "survivor"] as const) {
      const created = await api("/api/v1/hosts", { url: url(), token, body: { name: unique(role.toLowerCase()) } });
      expect(created.status).toBe(201);
      const agent = spawnAgent(created.body.agent_token, url());
      agents.push(agent);
      hosts[role] = { id: created.body.id, name: created.body.name, agent };
    }
    const status = async (role: keyof typeof hosts) => (await call(`/api/v1/hosts/${hosts[role].id}`, token)).body?.status;
    const waitForState = (role: keyof typeof hosts, state: string) =>
      waitFor(`${role} to be ${state}`, async () => (await status(role)) === state, { timeout: 90_000 });
    const notices = async (role: keyof typeof hosts, kind: string) =>
      ((await call(`/api/v1/notifications?kind=${kind}`, token)).body.notifications as Array<{ target_id: string }>).filter(
        (n) => n.target_id === hosts[role].id,
      ).length;
    const waitForNotice = (role: keyof typeof hosts, kind: string) =>
      waitFor(`${kind} for ${role}`, async () => (await notices(role, kind)) >= 1, { timeout: 90_000 });

    for (const role of Object.keys(hosts) as Array<keyof typeof hosts>) await waitForState(role, "online");

    // The agent first: its host is disconnected (and announced) while the control plane runs.
    hosts.agentFirst.agent.kill("SIGKILL");
    await waitForState("agentFirst", "disconnected");
    await waitForNotice("agentFirst", "host.disconnected");

    // A frozen agent: the command fails with a clear 504, the host is disconnected and announced.
    hosts.frozen.agent.kill("SIGSTOP");
    const frozen = await call(`/api/v1/hosts/${hosts.frozen.id}/containers`, token);
    expect(frozen.status).toBe(504);
    expect(frozen.body.detail).toMatch(/did not acknowledge/);
    await waitForState("frozen", "disconnected");
    await waitForNotice("frozen", "host.disconnected");

    // The control plane goes down, and then an agent dies while it is down.
    await stopControlPlane();
    hosts.cpFirst.agent.kill("SIGKILL");
    stack = await startStack(env());
    token = await login();

    // Commands end with a clear status at once: the dead agents' hosts are offline (503).
    for (const role of ["cpFirst", "agentFirst"] as const) {
      const res = await call(`/api/v1/hosts/${hosts[role].id}/containers`, token);
      expect(res.status, role).toBe(503);
    }
    // The frozen agent thaws and comes back; the surviving agent reconnects by itself.
    hosts.frozen.agent.kill("SIGCONT");
    await waitForState("frozen", "online");
    await waitForState("survivor", "online");
    expect((await call(`/api/v1/hosts/${hosts.frozen.id}/containers`, token)).status, "frozen").toBe(200);
    // The survivor's row still says online from before the restart (nothing saw it go), so that
    // state alone does not mean its agent is back yet: its commands succeed once it has redialled.
    await waitFor(
      "the survivor's agent to serve commands again",
      async () => {
        const res = await call(`/api/v1/hosts/${hosts.survivor.id}/containers`, token);
        if (res.status !== 200 && res.status !== 503) throw new Error(`survivor: unexpected ${res.status} ${JSON.stringify(res.body)}`);
        return res.status === 200;
      },
      { timeout: 90_000 },
    );
    // The dead agents' hosts: disconnected, then lost, each announced.
    await waitForState("cpFirst", "lost");
    await waitForState("agentFirst", "lost");
    await waitForNotice("cpFirst", "host.lost");
    await waitForNotice("agentFirst", "host.lost");
    await waitForNotice("frozen", "host.online");
    expect(await notices("frozen", "host.disconnected")).toBe(1);
    expect(await notices("frozen", "host.online")).toBe(1);

    // Once more across a second restart, so any relay that would announce again has woken (the
    // cron sweep and every relay's re-armed alarm run after it), then count.
    await stopControlPlane();
    stack = await startStack(env());
    token = await login();
    for (const role of ["cpFirst", "agentFirst"] as const) {
      expect((await call(`/api/v1/hosts/${hosts[role].id}/containers`, token)).status, role).toBe(503);
    }
    await waitForState("frozen", "online");
    await waitForState("survivor", "online");
    expect(await status("cpFirst")).toBe("lost");
    expect(await status("agentFirst")).toBe("lost");

    const counts: Record<string, Record<string, number>> = {};
    for (const role of Object.keys(hosts) as Array<keyof typeof hosts>) {
      counts[role] = {};
      for (const kind of ["host.disconnected", "host.lost", "host.online"]) counts[role][kind] = await notices(role, kind);
    }
    expect(counts.cpFirst).toEqual({ "host.disconnected": 1, "host.lost": 1, "host.online": 0 });
    expect(counts.agentFirst).toEqual({ "host.disconnected": 1, "host.lost": 1, "host.online": 0 });
    // The live agents were away during each restart (the frozen one also before the first): each
    // such absence may be announced (disconnected, and lost if it outlasted the 15 s window), but
    // once, and each announced one is followed by one "back online".
    for (const role of ["frozen", "survivor"] as const) {
      const c = counts[role]!;
      expect(c["host.disconnected"], role).toBeLessThanOrEqual(2);
      expect(c["host.lost"], role).toBeLessThanOrEqual(c["host.disconnected"]!);
      await waitFor(
        `${role}'s notices to pair up`,
        async () => (await notices(role, "host.online")) === (await notices(role, "host.disconnected")),
      );
    }
  }, 600_000);
});
