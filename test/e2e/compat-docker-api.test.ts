// Seed 001 (the multi-host Docker management API) at its root paths, through real agents and a
// real engine, compared with what `docker ps -a` and `docker inspect` report.
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  docker,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  removeContainers,
  SseStream,
  TEST_IMAGE,
  type TestAgent,
  unique,
  waitFor,
} from "./client.ts";

const LABEL = `dev.pier.e2e=${process.pid}-compat`;
const MEMORY = /^\d+\.\d{2} (B|KiB|MiB|GiB|TiB)$/;
const NETWORK = /^(\d+ B|\d+\.\d{2} (KB|MB|GB|TB))$/;

/**
 * `ask`'s answer together with what `read` says of the engine, taken while the engine stayed the
 * same before and after the question (and `settled` agrees): the suites running beside this one
 * create and remove containers on the same engine.
 */
async function whileEngineStill<T>(
  read: () => Promise<string>,
  ask: () => Promise<T>,
  settled: (answer: T, engine: string) => boolean = () => true,
): Promise<{ answer: T; engine: string }> {
  return waitFor(
    "the engine to hold still during the API call",
    async () => {
      const before = await read();
      const answer = await ask();
      const engine = await read();
      return before === engine && settled(answer, engine) ? { answer, engine } : undefined;
    },
    // Other files' builds keep the engine changing at times: a guard, not a timing expectation.
    { timeout: 120_000 },
  );
}

describe.skipIf(!dockerAvailable())("seed 001 Docker endpoints", () => {
  let owner: Owner;
  let host: NewHost;
  let agent: TestAgent;
  let running: string;
  let stopped: string;
  const runningName = unique("nginx-web");

  beforeAll(async () => {
    owner = await newOwner();
    ({ host, agent } = await onlineHost(owner, { name: unique("119server") }));
    await agent.agent.eventsReady;
    running = await docker("run", "-d", "--name", runningName, "--label", LABEL, "-p", "8080", TEST_IMAGE, "httpd", "-f", "-p", "8080");
    stopped = await docker("create", "--label", LABEL, TEST_IMAGE, "true");
  });

  afterAll(async () => {
    await agent?.agent.stop();
    await removeContainers(LABEL);
  });

  it("GET /hosts lists the organization's hosts by name", async () => {
    const res = await api("/hosts", { token: owner.token });
    expect(res.body).toEqual({ success: true, data: [{ host: host.name, addr: expect.stringMatching(/^pier-agent:\/\//) }] });
  });

  it("GET /ps2/:host matches docker ps -a", async () => {
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    const answered = (res: { body: any }): Array<{ id: string }> =>
      (res.body.data ?? []).map(({ status: _status, ...rest }: Record<string, string>) => rest).sort(byId);
    const listed = (engine: string) =>
      engine
        .split("\n")
        .map((line) => {
          const [id, name, image, state] = line.split("|");
          return { id: id!.slice(0, 12), name, image, state };
        })
        .sort(byId);
    // The same before and after the call is not enough: a container another file's build starts
    // and removes in between (an intermediate step) is in the answer and in neither read, so the
    // answer must match the engine too, or it is asked again.
    const { answer: res, engine } = await whileEngineStill(
      () => docker("ps", "-a", "--no-trunc", "--format", "{{.ID}}|{{.Names}}|{{.Image}}|{{.State}}"),
      () => api(`/ps2/${host.name}`, { token: owner.token }),
      (answer, engine) => answer.status === 200 && isDeepStrictEqual(answered(answer), listed(engine)),
    );
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(answered(res)).toEqual(listed(engine));
    const mine = res.body.data.find((c: { id: string }) => c.id === running.slice(0, 12));
    expect(mine).toEqual({
      id: running.slice(0, 12),
      name: runningName,
      image: TEST_IMAGE,
      state: "running",
      status: expect.stringMatching(/^Up /),
    });
  });

  it("GET /inspect2/:host/:id maps docker inspect", async () => {
    const res = await api(`/inspect2/${host.name}/${runningName}`, { token: owner.token });
    expect(res.body.success).toBe(true);
    const d = res.body.data;
    expect(d).toMatchObject({
      id: running,
      name: `/${runningName}`,
      image: expect.stringMatching(/^sha256:/),
      platform: "linux",
      restart_count: 0,
    });
    expect(d.state).toMatchObject({ status: "running", running: true, paused: false, restarting: false, exit_code: 0 });
    expect(d.config).toMatchObject({ cmd: ["httpd", "-f", "-p", "8080"], working_dir: "" });
    expect(d.network.ip_address).toBe(await docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", running));
    const hostPort = (await docker("port", running, "8080/tcp")).split("\n")[0]!.split(":").pop();
    expect(d.network.ports["8080/tcp"]).toContainEqual({ host_ip: "0.0.0.0", host_port: hostPort });
    expect(d.network.networks.bridge).toMatchObject({ ip_address: d.network.ip_address, network_id: expect.any(String) });
  });

  it('POST /stop2 and /start2 answer "" and report a no-op as the daemon\'s error', async () => {
    const stop = await api("/stop2", { token: owner.token, body: { id: runningName, host: host.name } });
    expect(stop.status).toBe(200);
    expect(stop.body).toBe("");
    expect(await docker("inspect", "-f", "{{.State.Running}}", running)).toBe("false");
    const stopAgain = await api("/stop2", { token: owner.token, body: { id: runningName, host: host.name } });
    expect(stopAgain.body).toEqual({ success: false, message: "Error response from daemon: container not running" });
    const start = await api("/start2", { token: owner.token, body: { id: running.slice(0, 12), host: host.name } });
    expect(start.status).toBe(200);
    expect(start.body).toBe("");
    const startAgain = await api("/start2", { token: owner.token, body: { id: runningName, host: host.name } });
    expect(startAgain.body).toEqual({ success: false, message: "Error response from daemon: container already started" });
    const missing = await api("/start2", { token: owner.token, body: { id: "no-such-thing", host: host.name } });
    expect(missing.body).toEqual({ success: false, message: expect.stringMatching(/^Error response from daemon: No such container/) });
    const invalid = await api("/start2", { token: owner.token, body: { id: runningName } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.success).toBe(false);
  });

  it("GET /stat2 and /stat3 give human-formatted sizes; stopped containers read zero", async () => {
    await waitFor("the running container in the stats cache", async () => {
      const res = await api(`/api/v1/hosts/${host.id}/stats`, { token: owner.token });
      return res.body.samples.some((s: { id: string }) => s.id === running);
    });
    const one = await api(`/stat2/${host.name}/${runningName}`, { token: owner.token });
    expect(one.body.success).toBe(true);
    expect(one.body.data).toMatchObject({
      id: running.slice(0, 12),
      name: runningName,
      cpu_percent: expect.any(Number),
      memory_percent: expect.any(Number),
    });
    expect(one.body.data.memory_usage).toMatch(MEMORY);
    expect(one.body.data.memory_limit).toMatch(MEMORY);
    expect(one.body.data.network_rx).toMatch(NETWORK);

    // Every container the engine has, once the stats cache has seen them all (other suites'
    // containers come and go on this engine).
    const { answer: all, engine } = await whileEngineStill(
      () => docker("ps", "-aq"),
      () => api(`/stat3/${host.name}`, { token: owner.token }),
      (answer, engine) => isDeepStrictEqual(Object.keys(answer.body.data ?? {}).sort(), engine.split("\n").sort()),
    );
    expect(all.body.success).toBe(true);
    const ids = engine.split("\n").sort();
    expect(Object.keys(all.body.data).sort()).toEqual(ids);
    expect(all.body.data[stopped.slice(0, 12)]).toEqual({
      id: stopped.slice(0, 12),
      name: expect.any(String),
      cpu_percent: 0,
      memory_usage: "0.00 B",
      memory_limit: "0.00 B",
      memory_percent: 0,
      network_rx: "0 B",
      network_tx: "0 B",
    });
    expect(all.body.data[running.slice(0, 12)].memory_usage).not.toBe("0.00 B");
  });

  it("requires credentials, and another organization's host is unknown", async () => {
    expect((await api(`/ps2/${host.name}`)).status).toBe(401);
    const stranger = await newOwner("stranger");
    const res = await api(`/ps2/${host.name}`, { token: stranger.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ success: false, message: expect.stringContaining(host.name) });
  });

  it("GET /events streams container-event frames", async () => {
    const res = await fetch(`${pierUrl()}/events?access_token=${encodeURIComponent(owner.token)}`, {
      headers: { accept: "text/event-stream" },
    });
    const name = unique("evt");
    const stream = new SseStream(res);
    await stream.ready();
    await docker("run", "-d", "--name", name, "--label", LABEL, TEST_IMAGE, "sh", "-c", "exit 3");
    const events = await stream.until((e) => e.data?.actor_name === name && e.data.action === "die");
    const die = events.find((e) => e.data.actor_name === name && e.data.action === "die")!;
    expect(die.event).toBe("container-event");
    expect(die.data).toEqual({
      host: host.name,
      type: "container",
      action: "die",
      actor_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      actor_name: name,
      timestamp: expect.any(Number),
      attrs: expect.objectContaining({ exitCode: "3", name, image: TEST_IMAGE }),
    });
    expect(String(die.data.timestamp)).toMatch(/^\d{10}$/);
  });
});
