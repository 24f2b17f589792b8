// Dokploy's own CLI (@dokploy/cli, pinned in package.json), unmodified, pointed at `npm start` with
// a Pier API key and a real agent: it speaks tRPC (`/api/trpc/<procedure>`, `{"json": …}` bodies,
// `?input=` queries, answers read from `result.data.json`), so this is the wire format as Dokploy's
// tools use it, not as we think they do.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, dockerAvailable, newOwner, onlineHost, pierUrl, TEST_IMAGE, type TestAgent, waitFor } from "./client.ts";
import { cleanupOwner, served } from "./deploy-helpers.ts";

const exec = promisify(execFile);
const CLI_PACKAGE = createRequire(import.meta.url).resolve("@dokploy/cli/package.json");
const CLI = join(dirname(CLI_PACKAGE), "dist", "index.js");
/** `dokploy auth` saves its URL and key beside the package; the test removes what it wrote. */
const CLI_CONFIG = join(dirname(CLI_PACKAGE), "config.json");

describe.skipIf(!dockerAvailable())("Dokploy's CLI against Pier", () => {
  let agent: TestAgent;
  let workDir: string;
  let apiKey: string;
  let hostId: string;
  const cleanup: Array<() => Promise<unknown>> = [];
  const hadConfig = existsSync(CLI_CONFIG);

  /** Runs `dokploy …` as a user would; the URL and key come from the environment, as its README allows. */
  const dokploy = async (...args: string[]) => {
    const { stdout } = await exec(process.execPath, [CLI, ...args], {
      cwd: workDir,
      env: { ...process.env, DOKPLOY_URL: pierUrl(), DOKPLOY_API_KEY: apiKey, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    return stdout.trim();
  };
  const dokployJson = async (...args: string[]) => JSON.parse(await dokploy(...args, "--json"));

  beforeAll(async () => {
    const owner = await newOwner("dokploy-cli");
    const online = await onlineHost(owner);
    hostId = online.host.id;
    agent = online.agent;
    apiKey = (await api("/api/v1/api-keys", { token: owner.token, body: { name: "dokploy cli" } })).body.key;
    workDir = await mkdtemp(join(tmpdir(), "pier-dokploy-cli-"));
    // The CLI reads `.env` from its working directory: make sure none interferes.
    await writeFile(join(workDir, ".env"), "");
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    if (!hadConfig) await rm(CLI_CONFIG, { force: true });
    await agent?.agent.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("authenticates with a Pier API key, and refuses a wrong one", async () => {
    const { stdout } = await exec(process.execPath, [CLI, "auth", "--url", pierUrl(), "--token", apiKey], {
      cwd: workDir,
      env: { ...process.env, DOKPLOY_URL: "", DOKPLOY_API_KEY: "", NO_COLOR: "1" },
    });
    expect(stdout).toContain("Authenticated successfully.");
    const refused = await exec(process.execPath, [CLI, "auth", "--url", pierUrl(), "--token", "pk_not_a_key"], {
      cwd: workDir,
      env: { ...process.env, DOKPLOY_URL: "", DOKPLOY_API_KEY: "", NO_COLOR: "1" },
    }).then(
      () => "accepted",
      (err: { stderr: string }) => err.stderr,
    );
    expect(refused).toMatch(/Authentication failed: Request failed with status code 401/);
    expect(await dokployJson("user", "get")).toMatchObject({ role: "owner", user: { email: expect.stringContaining("@example.test") } });
  });

  it("creates a project and an environment, an application from an image, deploys it and reads its deployments until done", async () => {
    expect(await dokployJson("project", "all")).toEqual([]);
    const created = await dokployJson("project", "create", "--name", "cli-shop", "--description", "made by dokploy's CLI");
    expect(created).toMatchObject({
      project: { projectId: expect.stringMatching(/^prj_/), name: "cli-shop" },
      environment: { name: "production", isDefault: true },
    });
    const projectId = created.project.projectId;
    cleanup.push(() => api("/api/project.remove", { headers: { "x-api-key": apiKey }, body: { projectId } }));
    const staging = await dokployJson("environment", "create", "--name", "staging", "--projectId", projectId);
    expect(staging).toMatchObject({ environmentId: expect.stringMatching(/^env_/), name: "staging", projectId });
    expect((await dokployJson("environment", "by-project-id", "--projectId", projectId)).map((e: { name: string }) => e.name)).toEqual([
      "production",
      "staging",
    ]);

    const app = await dokployJson("application", "create", "--name", "cli-web", "--environmentId", staging.environmentId);
    expect(app).toMatchObject({ applicationId: expect.stringMatching(/^app_/), environmentId: staging.environmentId, serverId: hostId });
    const appId = app.applicationId;
    cleanup.push(() => cleanupOwner("dev.pier.app", appId, app.appName));

    // The CLI's required options, as a user without a private registry fills them in.
    expect(
      await dokploy(
        "application",
        "save-docker-provider",
        "--applicationId",
        appId,
        "--dockerImage",
        TEST_IMAGE,
        "--username",
        "",
        "--password",
        "",
        "--registryUrl",
        "",
      ),
    ).toBe("true");
    expect(
      await dokploy(
        "application",
        "save-environment",
        "--applicationId",
        appId,
        "--env",
        "GREETING=hello from the cli\nPORT=8080",
        "--buildArgs",
        "",
        "--buildSecrets",
        "",
        "--createEnvFile",
      ),
    ).toBe("true");
    expect(
      await dokploy(
        "application",
        "save-build-type",
        "--applicationId",
        appId,
        "--buildType",
        "dockerfile",
        "--dockerfile",
        "Dockerfile",
        "--dockerContextPath",
        ".",
        "--dockerBuildStage",
        "",
        "--herokuVersion",
        "",
        "--railpackVersion",
        "",
      ),
    ).toBe("true");
    // The busybox stand-in has no server of its own: give it one, through application.update.
    expect(
      await dokploy(
        "application",
        "update",
        "--applicationId",
        appId,
        "--command",
        'mkdir -p /www; echo "$GREETING" > /www/index.html; trap \'exit 0\' TERM; httpd -f -p "$PORT" -h /www & wait',
      ),
    ).toBe("true");

    const one = await dokployJson("application", "one", "--applicationId", appId);
    expect(one).toMatchObject({
      sourceType: "docker",
      dockerImage: TEST_IMAGE,
      buildType: "dockerfile",
      env: "GREETING=********\nPORT=********",
    });

    expect(await dokploy("application", "deploy", "--applicationId", appId)).toBe("true");
    const deployments = await waitFor(
      "the CLI's deployment to finish",
      async () => {
        const list = await dokployJson("deployment", "all", "--applicationId", appId);
        return list[0]?.status !== "running" ? list : undefined;
      },
      { timeout: 90_000, interval: 500 },
    );
    expect(deployments).toEqual([expect.objectContaining({ status: "done", title: "Manual deployment", applicationId: appId })]);
    expect((await served(one.appName)).trim()).toBe("hello from the cli");

    // A database and a domain in the same environment.
    const pg = await dokployJson(
      "postgres",
      "create",
      "--name",
      "cli-db",
      "--databaseName",
      "shop",
      "--databaseUser",
      "shop",
      "--databasePassword",
      "cli-secret-pw",
      "--environmentId",
      staging.environmentId,
    );
    expect(pg).toMatchObject({
      postgresId: expect.stringMatching(/^dbs_/),
      databaseName: "shop",
      databaseUser: "shop",
      databasePassword: "cli-secret-pw",
      environmentId: staging.environmentId,
      projectId,
    });
    const domain = await dokployJson(
      "domain",
      "create",
      "--host",
      "cli-web.example.test",
      "--applicationId",
      appId,
      "--port",
      "8080",
      "--https",
    );
    expect(domain).toMatchObject({ domainId: expect.stringMatching(/^dom_/), host: "cli-web.example.test", port: 8080, https: true });
    expect(await dokployJson("domain", "by-application-id", "--applicationId", appId)).toEqual([domain]);

    // What the CLI made is in Pier's own model: the environment holds the application and database.
    const [project] = await dokployJson("project", "all");
    const env = project.environments.find((e: { environmentId: string }) => e.environmentId === staging.environmentId);
    expect(env.applications.map((a: { applicationId: string }) => a.applicationId)).toEqual([appId]);
    expect(env.postgres.map((d: { postgresId: string }) => d.postgresId)).toEqual([pg.postgresId]);
    const canonical = await api(`/api/v1/environments/${staging.environmentId}`, { headers: { "x-api-key": apiKey } });
    expect(canonical.body).toMatchObject({
      applications: [expect.objectContaining({ id: appId })],
      databases: [expect.objectContaining({ id: pg.postgresId })],
    });
  });

  it("prints the API's message when a procedure fails", async () => {
    const failed = await dokploy("project", "one", "--projectId", "prj_missing").then(
      () => "succeeded",
      (err: { stderr: string }) => err.stderr,
    );
    // The CLI prints axios' message; the body it got is tRPC's error with Pier's message.
    expect(failed).toMatch(/status code 404/);
    const res = await fetch(`${pierUrl()}/api/trpc/project.one?input=${encodeURIComponent(JSON.stringify({ projectId: "prj_missing" }))}`, {
      headers: { "x-api-key": apiKey },
    });
    expect(await res.json()).toMatchObject({
      error: { json: { message: "Project prj_missing was not found.", data: { code: "NOT_FOUND" } } },
    });
  });
});
