// The agent's deployment operations against the real engine, called directly (no control plane):
// a static site built from a local git repository through `git archive` → /build, started beside
// the old container and switched to, a failing health check that leaves the old one serving,
// pull policies, missing build tools named clearly, and secrets kept out of the output.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkWriter } from "../src/chunker.ts";
import { DockerClient } from "../src/docker/client.ts";
import { toRelayError } from "../src/errors.ts";
import { deployBuild } from "../src/ops/deploy-build.ts";
import { deployRemove, deployRun } from "../src/ops/deploy-run.ts";
import type { OpContext } from "../src/ops/index.ts";
import type { DeployBuildArgs, DeployRunArgs } from "../src/protocol.ts";
import { requireDocker, TEST_IMAGE } from "./docker-available.ts";

const exec = promisify(execFile);
const available = await requireDocker("agent-relay/test/deploy-ops.test.ts");

function context(timeoutMs = 60_000) {
  const signal = AbortSignal.timeout(timeoutMs);
  let text = "";
  const output = new ChunkWriter({ send: (data) => ((text += data), true), buffered: () => 0, signal, flushMs: 1 });
  const ctx: OpContext = { docker, signal, output, stats: { all: () => [] } };
  return { ctx, output: () => (output.flush(), text) };
}

const docker = new DockerClient({ host: process.env.DOCKER_HOST });
const run = (...args: string[]) => exec("docker", args).then((r) => r.stdout.trim());

describe.skipIf(!available.available)("deployment operations on the real engine", () => {
  const appId = `app_agenttest${randomUUID().slice(0, 8)}`;
  const name = `pier-agent-test-${randomUUID().slice(0, 8)}`;
  let repo: string;
  let workDir: string;
  const git = (...args: string[]) => exec("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.test", ...args]);

  beforeAll(async () => {
    await docker.negotiateApiVersion(AbortSignal.timeout(10_000));
    workDir = await mkdtemp(join(tmpdir(), "pier-agent-work-"));
    process.env.PIER_AGENT_WORK_DIR = workDir;
    repo = await mkdtemp(join(tmpdir(), "pier-agent-repo-"));
    await git("init", "-q", "-b", "main");
    await exec("mkdir", ["-p", join(repo, "public")]);
    await writeFile(join(repo, "public", "index.html"), "<h1>version one</h1>\n");
    await git("add", ".");
    await git("commit", "-q", "-m", "version one");
  });

  afterAll(async () => {
    await deployRemove({ kind: "application", owner_id: appId }, context().ctx).catch(() => undefined);
    const images = await run("images", "-q", "--filter", `label=dev.pier.app=${appId}`);
    if (images) await exec("docker", ["rmi", "-f", ...new Set(images.split("\n"))]).catch(() => undefined);
    // The image source's re-tag of the shared test image: only the tag goes.
    await exec("docker", ["rmi", `pier/${name}:dpl_img`]).catch(() => undefined);
    await docker.close();
    await rm(repo, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
    delete process.env.PIER_AGENT_WORK_DIR;
  });

  const build = (deploymentId: string, extra: Partial<Extract<DeployBuildArgs["source"], { type: "git" }>> = {}): DeployBuildArgs => ({
    app_id: appId,
    deployment_id: deploymentId,
    app_name: name,
    image_tag: `pier/${name}:${deploymentId}`,
    source: {
      type: "git",
      git: { url: `file://${repo}`, branch: "main" },
      build_type: "static",
      publish_dir: "public",
      static_image: TEST_IMAGE,
      ...extra,
    },
    timeout_ms: 60_000,
  });
  const start = (deploymentId: string, image: string, extra: Partial<DeployRunArgs> = {}): DeployRunArgs => ({
    kind: "application",
    owner_id: appId,
    deployment_id: deploymentId,
    name,
    image,
    strategy: "start-first",
    env: { SECRET_VALUE: "do-not-print-me" },
    health_check: { http_path: "/index.html", port: 80, interval_seconds: 1, retries: 5 },
    min_uptime_ms: 300,
    timeout_ms: 60_000,
    ...extra,
  });

  it("builds a static site from the commit's tree and runs it, then replaces it without a gap", async () => {
    const first = context();
    const built = await deployBuild(build("dpl_one"), first.ctx);
    expect(built).toMatchObject({ image: `pier/${name}:dpl_one`, compose: false, commit_message: "version one" });
    expect(built.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(first.output()).toContain("Fetching file://");

    const ran = context();
    const one = await deployRun(start("dpl_one", built.image!), ran.ctx);
    expect(one.container_name).toBe(name);
    expect(await run("exec", name, "wget", "-q", "-O", "-", "http://127.0.0.1/index.html")).toBe("<h1>version one</h1>");
    expect(ran.output()).not.toContain("do-not-print-me");
    const labels = JSON.parse(await run("inspect", "-f", "{{json .Config.Labels}}", name));
    expect(labels).toMatchObject({ "dev.pier.managed": "true", "dev.pier.app": appId, "dev.pier.deployment": "dpl_one" });

    await writeFile(join(repo, "public", "index.html"), "<h1>version two</h1>\n");
    await git("commit", "-q", "-am", "version two");
    const built2 = await deployBuild(build("dpl_two"), context().ctx);
    const two = await deployRun(start("dpl_two", built2.image!), context().ctx);
    expect(two.replaced).toEqual([one.container_id]);
    expect(await run("exec", name, "wget", "-q", "-O", "-", "http://127.0.0.1/index.html")).toBe("<h1>version two</h1>");
    expect(await run("ps", "-aq", "--filter", `label=dev.pier.app=${appId}`)).toBe(two.container_id.slice(0, 12));
  });

  it("keeps the old container when the new one fails its health check, and says why", async () => {
    const before = await run("inspect", "-f", "{{.Id}}", name);
    const failing = context();
    const error = await deployRun(
      start("dpl_bad", `pier/${name}:dpl_two`, { health_check: { http_path: "/missing", port: 80, interval_seconds: 1, retries: 2 } }),
      failing.ctx,
    ).catch((e) => e);
    expect(toRelayError(error)).toMatchObject({ code: "deploy_failed", message: expect.stringMatching(/health check failed.*\/missing/) });
    expect(await run("inspect", "-f", "{{.Id}} {{.State.Running}}", name)).toBe(`${before} true`);
    expect(await run("ps", "-aq", "--filter", `label=dev.pier.app=${appId}`)).toBe(before.slice(0, 12));
    expect(failing.output()).toContain("The previous version keeps serving");
  });

  it("waits for Docker's own HEALTHCHECK when the application gives a command", async () => {
    const healthy = context();
    const deployed = await deployRun(
      start("dpl_hc", `pier/${name}:dpl_two`, {
        health_check: { command: "wget -q -O /dev/null http://127.0.0.1/index.html", interval_seconds: 1, retries: 3 },
      }),
      healthy.ctx,
    );
    expect(healthy.output()).toContain("Waiting for Docker's health check");
    expect(await run("inspect", "-f", "{{.State.Health.Status}}", name)).toBe("healthy");
    const bad = await deployRun(
      start("dpl_hc_bad", `pier/${name}:dpl_two`, { health_check: { command: "exit 1", interval_seconds: 1, retries: 1 } }),
      context().ctx,
    ).catch((e) => e);
    expect(toRelayError(bad).message).toMatch(/unhealthy/);
    expect(await run("inspect", "-f", "{{.Id}}", name)).toBe(deployed.container_id);
  });

  it("builds a specific older commit, and fails clearly on a missing Dockerfile", async () => {
    const { stdout } = await git("rev-list", "--max-parents=0", "HEAD");
    const old = await deployBuild(
      build("dpl_old", { git: { url: `file://${repo}`, branch: "main", commit: stdout.trim() } }),
      context().ctx,
    );
    expect(old.commit).toBe(stdout.trim());
    const error = await deployBuild(build("dpl_nofile", { build_type: "dockerfile" }), context().ctx).catch((e) => e);
    expect(toRelayError(error).code).toBe("deploy_failed");
    expect(toRelayError(error).message).toMatch(/Dockerfile/i);
  });

  it("follows pull policies: never fails on a missing image, missing uses the local one", async () => {
    const never = await deployBuild(
      {
        app_id: appId,
        deployment_id: "dpl_img",
        app_name: name,
        image_tag: `pier/${name}:dpl_img`,
        source: { type: "image", image: "pier-test/absent:1", pull_policy: "never" },
        timeout_ms: 10_000,
      },
      context().ctx,
    ).catch((e) => e);
    expect(toRelayError(never)).toMatchObject({ code: "deploy_failed", message: expect.stringContaining('pull policy is "never"') });
    const local = await deployBuild(
      {
        app_id: appId,
        deployment_id: "dpl_img",
        app_name: name,
        image_tag: `pier/${name}:dpl_img`,
        source: { type: "image", image: TEST_IMAGE, pull_policy: "missing" },
        timeout_ms: 10_000,
      },
      context().ctx,
    );
    expect(local.image).toBe(`pier/${name}:dpl_img`);
    expect(await run("image", "inspect", "-f", "{{.Id}}", local.image!)).toBe(local.image_id);
  });

  it("names the missing tool of a build type", async () => {
    for (const [buildType, tool] of [
      ["nixpacks", "nixpacks"],
      ["railpack", "railpack"],
      ["paketo_buildpacks", "pack"],
    ] as const) {
      const error = await deployBuild(build(`dpl_${buildType}`, { build_type: buildType }), context().ctx).catch((e) => e);
      expect(toRelayError(error)).toMatchObject({ code: "deploy_failed", message: expect.stringContaining(`\`${tool}\` CLI`) });
    }
    const hasCompose =
      (await exec("docker", ["compose", "version"]).then(
        () => true,
        () => false,
      )) ||
      (await exec("docker-compose", ["version"]).then(
        () => true,
        () => false,
      ));
    if (!hasCompose) {
      const error = await deployBuild(build("dpl_compose", { build_type: "compose" }), context().ctx).catch((e) => e);
      expect(toRelayError(error).message).toMatch(/needs Docker Compose.*docker-compose/);
    }
  });

  it("never shows a git token, even when the fetch fails", async () => {
    const token = "ghp_supersecrettoken123456";
    const out = context(30_000);
    const error = await deployBuild(
      build("dpl_token", { git: { url: "https://127.0.0.1:9/private/repo.git", branch: "main", token } }),
      out.ctx,
    ).catch((e) => e);
    expect(toRelayError(error).code).toBe("deploy_failed");
    expect(JSON.stringify(toRelayError(error))).not.toContain(token);
    expect(out.output()).not.toContain(token);
    expect(out.output()).not.toContain(Buffer.from(`x-access-token:${token}`).toString("base64"));
  });
});
