// npm start's local agent control and supervisor (scripts/local-agent.ts) on their own: the real
// agent bundle, pointed at an address where no Pier answers (it keeps retrying, which is all a
// supervised process needs to do here). The whole flow with a Worker is test/e2e/local-host.test.ts.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test/support/wait.ts";
import { startLocalAgentControl, type LocalAgentControl } from "./local-agent.ts";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A loopback address where nothing listens: the agent's connection attempts fail fast. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe("npm start's local agent control", () => {
  const controls: LocalAgentControl[] = [];
  const pids: number[] = [];
  let dataDir: string | undefined;

  afterEach(async () => {
    for (const control of controls.splice(0)) await control.stop();
    for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  async function start(lines: string[]) {
    dataDir ??= await mkdtemp(join(tmpdir(), "pier-local-agent-"));
    const control = await startLocalAgentControl({ dataDir, pierUrl: await deadUrl(), say: (line) => lines.push(line) });
    controls.push(control);
    return control;
  }

  const startedPids = (lines: string[]) =>
    lines.flatMap((line) => {
      const m = /local agent started for host (\S+) \(pid (\d+)/.exec(line);
      return m ? [{ host: m[1]!, pid: Number(m[2]) }] : [];
    });

  it("answers only at its secret path, runs the agent it is given, restarts it, and resumes it after a restart", async () => {
    const lines: string[] = [];
    const control = await start(lines);
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}$/);
    const base = new URL(control.url).origin;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/guess`, { method: "PUT", body: "{}" })).status).toBe(404);
    expect(await (await fetch(control.url)).json()).toEqual({
      machine: expect.stringMatching(/^[A-Za-z0-9][\w.-]*$/),
      host_id: null,
      running: false,
    });
    expect((await fetch(control.url, { method: "PUT", body: JSON.stringify({ host_id: "hst_1" }) })).status).toBe(400);

    const put = await fetch(control.url, { method: "PUT", body: JSON.stringify({ host_id: "hst_1", token: "pagt_test" }) });
    expect(put.status).toBe(204);
    const first = await waitFor("the agent to start", () => startedPids(lines)[0]);
    pids.push(first.pid);
    expect(first.host).toBe("hst_1");
    await waitFor("the control to report it running", async () => (await (await fetch(control.url)).json()).running === true || undefined);
    // Kept for the next npm start, readable by this user only (it holds the agent token).
    const saved = join(dataDir!, "local-agent.json");
    expect(JSON.parse(await readFile(saved, "utf8"))).toEqual({ host_id: "hst_1", token: "pagt_test" });
    expect((await stat(saved)).mode & 0o777).toBe(0o600);

    // An agent that dies is started again.
    process.kill(first.pid, "SIGKILL");
    const second = await waitFor("the agent to be restarted", () => startedPids(lines)[1]);
    pids.push(second.pid);
    expect(second.pid).not.toBe(first.pid);
    expect(second.host).toBe("hst_1");

    // Stopping the control stops the agent; the next one resumes it from the data directory.
    await control.stop();
    controls.splice(controls.indexOf(control), 1);
    await waitFor("the agent to stop with npm start", () => !alive(second.pid) || undefined);
    const nextLines: string[] = [];
    const next = await start(nextLines);
    expect(startedPids(nextLines)).toEqual([]);
    await next.resume();
    const resumed = await waitFor("the agent to be resumed", () => startedPids(nextLines)[0]);
    pids.push(resumed.pid);
    expect(resumed.host).toBe("hst_1");
    expect(await (await fetch(next.url)).json()).toMatchObject({ host_id: "hst_1" });
    expect(next.url).not.toBe(control.url);
  });

  it("stops and forgets the agent of a deleted host, and only that host's", async () => {
    const lines: string[] = [];
    const control = await start(lines);
    expect((await fetch(control.url, { method: "PUT", body: JSON.stringify({ host_id: "hst_2", token: "pagt_test" }) })).status).toBe(204);
    const agent = await waitFor("the agent to start", () => startedPids(lines)[0]);
    pids.push(agent.pid);
    const release = (body: unknown) => fetch(control.url, { method: "DELETE", body: JSON.stringify(body) });
    expect((await release({})).status).toBe(400);
    // Another host's deletion leaves this one alone.
    expect((await release({ host_id: "hst_other" })).status).toBe(204);
    expect(await (await fetch(control.url)).json()).toMatchObject({ host_id: "hst_2", running: true });

    expect((await release({ host_id: "hst_2" })).status).toBe(204);
    await waitFor("the agent to stop", () => !alive(agent.pid) || undefined);
    expect(await (await fetch(control.url)).json()).toMatchObject({ host_id: null, running: false });
    // Not resumed by the next npm start either.
    expect(await stat(join(dataDir!, "local-agent.json")).catch(() => null)).toBeNull();
    expect(startedPids(lines)).toHaveLength(1);
  });
});
