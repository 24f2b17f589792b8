// A Docker engine of a test's own: a second dockerd (the same Debian docker.io as the shared one)
// on its own socket, data root and exec root, with pier-test/busybox loaded into it. For tests
// that run engine-wide operations as written — `docker system prune`, `docker image prune`, the
// DevFlow document's weekly-cleanup.sh — which on the shared engine would delete other suites'
// stopped containers and unused images while they run.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, TEST_IMAGE, waitFor } from "./client.ts";

export interface PrivateEngine {
  /** `unix:///…/docker.sock`, for the agent's `dockerHost`. */
  host: string;
  /** The `docker` CLI against this engine. */
  docker(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** `docker network ls` arguments for the bridge networks a test made (not the predefined ones). */
const NETWORKS = ["network", "ls", "-q", "--no-trunc", "--filter", "type=custom", "--filter", "driver=bridge"];
/** The host bridges of those networks: Docker names each `br-` and the first 12 of the id. */
const bridgesOf = (ids: string) =>
  ids
    .split("\n")
    .filter(Boolean)
    .map((id) => `br-${id.slice(0, 12)}`);

export async function startPrivateEngine(): Promise<PrivateEngine> {
  const dir = await mkdtemp(join(tmpdir(), "pier-engine-"));
  const socket = join(dir, "docker.sock");
  const host = `unix://${socket}`;
  // A bridge of its own and no iptables rules: nothing it does can touch the shared engine's networks.
  // Not --bridge=none: a dockerd started that way deletes the host's `docker0` at start-up, and
  // every container the shared engine started afterwards failed ("could not find bridge docker0").
  // Not a network namespace either: the tests push from it to a registry on the host's loopback.
  const bridge = `pe${randomBytes(4).toString("hex")}`;
  await run("ip", ["link", "add", bridge, "type", "bridge"]);
  const removeBridge = () => run("ip", ["link", "delete", bridge]).catch(() => undefined);
  // A worker that ends without running the file's afterAll (a hook timeout, an interrupted run)
  // would leave the bridge, its 10.213.x.0/24 route and the daemon behind: the process's exit
  // removes them whatever happened, synchronously as an exit handler must.
  let daemonPid: number | undefined;
  const onExit = () => {
    const networks = daemonPid ? spawnSync("docker", ["-H", host, ...NETWORKS], { encoding: "utf8", timeout: 10_000 }).stdout : "";
    if (daemonPid) spawnSync("kill", ["-KILL", String(daemonPid)]);
    for (const name of [bridge, ...bridgesOf(networks ?? "")]) spawnSync("ip", ["link", "delete", name]);
  };
  process.once("exit", onExit);
  try {
    await run("ip", ["addr", "add", `10.213.${randomBytes(1)[0]}.1/24`, "dev", bridge]);
    await run("ip", ["link", "set", bridge, "up"]);
  } catch (error) {
    process.off("exit", onExit);
    await removeBridge();
    throw error;
  }
  const daemon = spawn(
    "dockerd",
    [
      `--data-root=${join(dir, "data")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "docker.pid")}`,
      `--host=${host}`,
      `--bridge=${bridge}`,
      "--iptables=false",
      "--ip-masq=false",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  daemonPid = daemon.pid;
  let log = "";
  daemon.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
  const docker = async (...args: string[]) => (await run("docker", ["-H", host, ...args], { timeout: 120_000 })).stdout.trim();
  try {
    await waitFor("the private dockerd to answer", () => docker("version", "--format", "{{.Server.Version}}").catch(() => undefined));
    // `docker save | docker load`, as a shell pipe would run it.
    await run("sh", ["-c", `docker save ${TEST_IMAGE} | docker -H ${host} load`], { timeout: 120_000 });
  } catch (error) {
    daemon.kill("SIGTERM");
    await exited;
    await removeBridge();
    process.off("exit", onExit);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(`the private Docker engine did not start: ${String(error)}\n${log}`);
  }
  return {
    host,
    docker,
    async stop() {
      const ids = await docker("ps", "-aq").catch(() => "");
      if (ids) await docker("rm", "-f", ...ids.split("\n")).catch(() => undefined);
      // The networks made in this engine (a deployment's project network, compose's) each have a
      // br-* bridge on the host, and dockerd keeps them when it stops: removed here, and any bridge
      // still there once it is gone is deleted, or its 172.x route would stay on the host for good.
      const networks = bridgesOf(await docker(...NETWORKS).catch(() => ""));
      await docker("network", "prune", "-f").catch(() => undefined);
      daemon.kill("SIGTERM");
      await exited;
      for (const name of networks) await run("ip", ["link", "delete", name]).catch(() => undefined);
      await removeBridge();
      process.off("exit", onExit);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
