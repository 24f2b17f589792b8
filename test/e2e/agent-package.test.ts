// The agent as users install it: `npm pack` of agent-relay/, installed with `npm i -g` into a
// prefix that shares nothing with this repository (offline, with an empty cache: the package must
// need nothing but Node.js), then run by its bin with plain `node` on PATH — the way the printed
// systemd commands install and run it. It must connect, serve commands and stop cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentInstall } from "../../worker/services/agent-install.ts";
import {
  api,
  docker,
  dockerAvailable,
  newOwner,
  type Owner,
  pierUrl,
  removeContainers,
  run,
  TEST_IMAGE,
  waitFor,
  waitForStatus,
} from "./client.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LABEL = `dev.pier.e2e=${process.pid}-package`;
const agentPackage = JSON.parse(await readFile(join(ROOT, "agent-relay/package.json"), "utf8")) as { name: string; version: string };

interface Install {
  package: string;
  npx: string;
  systemd: { env_file: string; unit: string; commands: string[] };
}

describe.skipIf(!dockerAvailable())("the pier-agent package", () => {
  let dir: string;
  let tarball: string;
  let owner: Owner;
  const children: ChildProcess[] = [];
  // Only Node.js (and the basic system tools) on PATH, nothing of this repository's environment.
  const bareEnv = (extra: Record<string, string>) => ({
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    npm_config_cache: join(dir, "npm-cache"),
    npm_config_update_notifier: "false",
    ...extra,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pier-agent-package-"));
    owner = await newOwner();
    // `npm pack` runs the prepack script, which bundles dist/ with esbuild.
    const { stdout } = await run("npm", ["pack", "-w", "agent-relay", "--json", "--pack-destination", dir], {
      cwd: ROOT,
      timeout: 120_000,
    });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed!.filename);
    // The bundle, the unit and the manual: no sources, no tests, no dependencies to fetch.
    const files = packed!.files.map((f) => f.path);
    expect(files).toContain("dist/pier-agent.js");
    expect(files).toContain("pier-agent.service");
    expect(files.filter((f) => f.startsWith("src/") || f.endsWith(".ts"))).toEqual([]);
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null) continue;
      // The npx run leads a process group of its own (npm and the agent under it).
      if (child.spawnargs[0] !== "sh") child.kill("SIGKILL");
      else
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // the group is gone already
        }
    }
    await removeContainers(LABEL);
    await rm(dir, { recursive: true, force: true });
  });

  function startBin(command: string, args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
    let output = "";
    const child = spawn(command, args, { cwd: dir, env: bareEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    children.push(child);
    return Object.assign(child, { output: () => output });
  }

  it("installs as printed by POST /api/v1/hosts, passes systemd-analyze, connects, serves commands and stops", async () => {
    const created = await api("/api/v1/hosts", { token: owner.token, body: { name: `package-${process.pid}` } });
    expect(created.status).toBe(201);
    const install = created.body.install as Install;
    expect(install.package).toBe(`${agentPackage.name}@${agentPackage.version}`);
    expect(install.npx).toBe(
      `PIER_URL=${pierUrl()} PIER_AGENT_TOKEN=${created.body.agent_token} npx -y pier-agent@${agentPackage.version}`,
    );

    // The printed systemd steps, with the tarball for the unpublished version and a scratch
    // directory for the system's root; sudo and systemctl are the only steps not run.
    const root = join(dir, "root");
    const rooted = (command: string) =>
      command
        .replaceAll(/(?<= )\/(?=opt\/|etc\/)/g, `${root}/`)
        .replaceAll(install.package, tarball)
        .replaceAll("sudo ", "");
    await mkdir(join(root, "etc/systemd/system"), { recursive: true });
    const [npmInstall, mkEnv, writeEnv, installUnit, enable] = install.systemd.commands;
    expect(enable).toBe("sudo systemctl daemon-reload && sudo systemctl enable --now pier-agent");
    // --offline with an empty cache: installing must not need the registry.
    await run("sh", ["-c", `${rooted(npmInstall!)} --offline`], { cwd: dir, env: bareEnv({}), timeout: 120_000 });
    for (const step of [mkEnv!, writeEnv!, installUnit!]) await run("sh", ["-c", rooted(step)], { cwd: dir, env: bareEnv({}) });
    const installed = join(root, "opt/pier-agent/lib/node_modules/pier-agent");
    expect(existsSync(join(installed, "node_modules"))).toBe(false);
    expect(await readFile(join(root, "etc/pier/agent.env"), "utf8")).toBe(install.systemd.env_file);

    // The unit, pointed at the scratch root, is valid and its ExecStart is the installed bin.
    const unitText = await readFile(join(root, "etc/systemd/system/pier-agent.service"), "utf8");
    expect(unitText).toBe(await readFile(join(root, install.systemd.unit.slice(1)), "utf8"));
    const execStart = /^ExecStart=(.+)$/m.exec(unitText)![1]!;
    const rootedUnit = join(dir, "pier-agent.service");
    await writeFile(rootedUnit, unitText.replaceAll("/opt/pier-agent", join(root, "opt/pier-agent")));
    await run("systemd-analyze", ["verify", rootedUnit], { env: bareEnv({}) });

    // Run it as the unit does: its ExecStart with the environment file's variables.
    const env = Object.fromEntries(
      install.systemd.env_file
        .trim()
        .split("\n")
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    const agent = startBin(join(root, execStart.slice(1)), [], { ...env, PIER_LOG_LEVEL: "debug" });
    const online = await waitForStatus(owner, created.body.id, "online").catch((error) => {
      throw new Error(`${error.message}; agent output:\n${agent.output().slice(-3000)}`);
    });
    expect(online.agent_version).toBe(agentPackage.version);
    // One process: node running the bundle, no loader or npm in between.
    expect(await readFile(`/proc/${agent.pid}/cmdline`, "utf8")).toMatch(/node\0.*pier-agent/);

    const id = await docker("run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "600");
    const list = await api(`/api/v1/hosts/${created.body.id}/containers?all=true`, { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.containers.map((c: { id: string }) => c.id)).toContain(id);
    const stopped = await api(`/api/v1/hosts/${created.body.id}/containers/${id}/stop?timeout=0`, { token: owner.token, method: "POST" });
    expect(stopped.status).toBeLessThan(300);
    expect(await docker("inspect", "-f", "{{.State.Running}}", id)).toBe("false");

    // The deployment code is in chunks loaded on first use: each must load with plain node from the install.
    const chunks = (await readdir(join(installed, "dist/chunks"))).filter((f) => f.endsWith(".js"));
    expect(chunks.length).toBeGreaterThan(0);
    const loader = chunks.map((f) => `await import(${JSON.stringify(join(installed, "dist/chunks", f))});`).join("");
    await run(process.execPath, ["--input-type=module", "-e", loader], { cwd: dir, env: bareEnv({}) });

    agent.kill("SIGTERM");
    const code = await new Promise((resolve) => (agent.exitCode === null ? agent.once("exit", resolve) : resolve(agent.exitCode)));
    expect(code).toBe(0);
    await waitForStatus(owner, created.body.id, "disconnected");
  });

  it("runs as the printed npx command when PIER_AGENT_PACKAGE names a tarball (npm start's development setting)", async () => {
    const created = await api("/api/v1/hosts", { token: owner.token, body: { name: `package-npx-${process.pid}` } });
    expect(created.status).toBe(201);
    // What POST /api/v1/hosts prints under `PIER_AGENT_PACKAGE=$PWD/pier-agent-<version>.tgz npm start`.
    const { npx } = agentInstall(pierUrl(), created.body.agent_token, tarball);
    expect(npx).toContain(tarball);
    // npm, npx's parent and the agent share one process group, so the end reaches all of them.
    let output = "";
    const agent = spawn("sh", ["-c", npx], {
      cwd: dir,
      env: bareEnv({ npm_config_offline: "true" }),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout!.on("data", (d) => (output += d));
    agent.stderr!.on("data", (d) => (output += d));
    children.push(agent);
    const online = await waitForStatus(owner, created.body.id, "online").catch((error) => {
      throw new Error(`${error.message}; output of \`${npx}\`:\n${output.slice(-3000)}`);
    });
    expect(online.agent_version).toBe(agentPackage.version);
    process.kill(-agent.pid!, "SIGTERM");
    await waitForStatus(owner, created.body.id, "disconnected");
  });

  it("stops with exit code 78 and says what to set when the token is missing", async () => {
    const installed = join(dir, "root/opt/pier-agent/bin/pier-agent");
    await waitFor("the install of the first test", async () => existsSync(installed));
    const agent = startBin(installed, [], { PIER_URL: pierUrl() });
    const code = await new Promise((resolve) => agent.once("exit", resolve));
    expect(code).toBe(78);
    expect(agent.output()).toMatch(/PIER_AGENT_TOKEN is not set/);
  });
});
