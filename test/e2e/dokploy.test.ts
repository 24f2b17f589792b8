// The Dokploy surface (seed 000) driven by the document itself: its full-flow script (7.1), its
// GitHub Actions step (7.2) and its config.sh functions run unchanged under bash with curl and
// jq, against `npm start` with a real agent. Only the placeholders the document asks the reader
// to fill in (URL, API key, ids) are filled in.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  dockerAvailable,
  type NewHost,
  newOwner,
  onlineHost,
  type Owner,
  pierUrl,
  TEST_IMAGE,
  type TestAgent,
  waitFor,
} from "./client.ts";
import { cleanupOwner, gitRepo, served, type TestRepo } from "./deploy-helpers.ts";

const exec = promisify(execFile);
const hasJq = await exec("jq", ["--version"]).then(
  () => true,
  () => false,
);
if (!hasJq && process.env.CI === "true") throw new Error("the Dokploy end-to-end test runs the document's scripts, which need jq and curl");
if (!hasJq) process.stderr.write("\n!!! SKIPPING the Dokploy script tests: jq is not installed (apt-get install jq).\n\n");

const SHIPPED_CONFIG = fileURLToPath(new URL("../../examples/dokploy/config.sh", import.meta.url));

/** The document's config.sh functions, verbatim. */
const CONFIG_FUNCTIONS = `
# Dokploy API 호출 함수
dokploy_api() {
  local endpoint="$1"
  curl -s "$DOKPLOY_URL$endpoint" -H "x-api-key: $DOKPLOY_API_KEY"
}

# 배포 목록 가져오기
get_deployments() {
  dokploy_api "/api/deployment.all?applicationId=$DOKPLOY_APP_ID"
}

# 최신 배포 정보 가져오기
get_latest_deployment() {
  get_deployments | jq -r '.[0]'
}

# 최신 배포 상태 가져오기
get_latest_status() {
  get_deployments | jq -r '.[0].status'
}
`;

/** Section 7.1, verbatim after its two `export` lines. */
const FULL_FLOW = `
# 1. 프로젝트 생성
PROJECT_RESPONSE=$(curl -s -X 'POST' \\
  "\${DOKPLOY_URL}/project.create" \\
  -H 'Content-Type: application/json' \\
  -H "x-api-key: \${DOKPLOY_API_KEY}" \\
  -d '{"name": "production-app", "description": "프로덕션 애플리케이션"}')

PROJECT_ID=$(echo $PROJECT_RESPONSE | jq -r '.projectId')
echo "프로젝트 ID: $PROJECT_ID"

# 2. 애플리케이션 생성
APP_RESPONSE=$(curl -s -X 'POST' \\
  "\${DOKPLOY_URL}/application.create" \\
  -H 'Content-Type: application/json' \\
  -H "x-api-key: \${DOKPLOY_API_KEY}" \\
  -d "{\\"name\\": \\"web-app\\", \\"projectId\\": \\"\${PROJECT_ID}\\", \\"appName\\": \\"web-app\\"}")

APP_ID=$(echo $APP_RESPONSE | jq -r '.applicationId')
echo "애플리케이션 ID: $APP_ID"

# 3. 환경 변수 설정
curl -X 'POST' \\
  "\${DOKPLOY_URL}/application.saveEnvironment" \\
  -H 'Content-Type: application/json' \\
  -H "x-api-key: \${DOKPLOY_API_KEY}" \\
  -d "{\\"applicationId\\": \\"\${APP_ID}\\", \\"env\\": \\"NODE_ENV=production\\nPORT=3000\\"}"

# 4. 애플리케이션 배포
curl -X 'POST' \\
  "\${DOKPLOY_URL}/application.redeploy" \\
  -H 'Content-Type: application/json' \\
  -H "x-api-key: \${DOKPLOY_API_KEY}" \\
  -d "{\\"applicationId\\": \\"\${APP_ID}\\"}"

echo "배포 완료!"
`;

/** Section 7.2's step, as GitHub Actions runs it once `\${{ secrets.X }}` are substituted. */
const CI_STEP = `
          curl -X 'POST' \\
            '\${{ secrets.DOKPLOY_URL }}/api/application.redeploy' \\
            -H 'Content-Type: application/json' \\
            -H 'x-api-key: \${{ secrets.DOKPLOY_API_KEY }}' \\
            -d '{"applicationId": "\${{ secrets.DOKPLOY_APP_ID }}"}'
`;

describe.skipIf(!dockerAvailable() || !hasJq)("Dokploy API compatibility (seed 000)", () => {
  let owner: Owner;
  let agent: TestAgent;
  let host: NewHost;
  let apiKey: string;
  let workDir: string;
  let repo: TestRepo;
  let projectId: string;
  let appId: string;
  let appName: string;

  const bash = async (script: string, env: Record<string, string> = {}) =>
    (await exec("bash", ["-c", script], { cwd: workDir, env: { ...process.env, ...env } })).stdout;
  const dokploy = (path: string, options: { body?: unknown; method?: string } = {}) =>
    api(`/api/${path}`, { ...options, headers: { "x-api-key": apiKey } });

  beforeAll(async () => {
    owner = await newOwner("dokploy");
    ({ host, agent } = await onlineHost(owner));
    apiKey = (await api("/api/v1/api-keys", { token: owner.token, body: { name: "dokploy ci" } })).body.key;
    workDir = await mkdtemp(join(tmpdir(), "pier-dokploy-"));
    repo = await gitRepo();
    await repo.commit(
      {
        Dockerfile: `FROM ${TEST_IMAGE}\nRUN mkdir -p /www && echo dokploy-app > /www/index.html\nCMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 3000 -h /www & wait"]\n`,
      },
      "app",
    );
  });

  afterAll(async () => {
    if (projectId) await dokploy("project.remove", { body: { projectId } }).catch(() => undefined);
    if (appId) await cleanupOwner("dev.pier.app", appId, appName).catch(() => undefined);
    await agent?.agent.stop();
    await rm(workDir, { recursive: true, force: true });
    await repo?.remove();
  });

  it("runs the document's full flow (7.1) unchanged: project, application on the default host, environment, redeploy", async () => {
    const script = `export DOKPLOY_API_KEY="${apiKey}"\nexport DOKPLOY_URL="${pierUrl()}/api"\n${FULL_FLOW}`;
    const output = await bash(script);
    projectId = /프로젝트 ID: (prj_\w+)/.exec(output)?.[1] ?? "";
    appId = /애플리케이션 ID: (app_\w+)/.exec(output)?.[1] ?? "";
    expect(projectId, output).toMatch(/^prj_/);
    expect(appId, output).toMatch(/^app_/);
    expect(output).toContain("true"); // saveEnvironment's answer
    expect(output).toContain("배포 완료!");

    const app = (await dokploy(`application.one?applicationId=${appId}`)).body;
    // Dokploy suffixes the app name it is given.
    expect(app).toMatchObject({
      applicationId: appId,
      name: "web-app",
      appName: expect.stringMatching(/^web-app-[a-z0-9]{6}$/),
      projectId,
      serverId: host.id,
      env: "NODE_ENV=********\nPORT=********",
    });
    appName = app.appName;
    const env = (await api(`/api/v1/applications/${appId}/environment?reveal=true`, { token: owner.token })).body;
    expect(env.environment).toEqual({ NODE_ENV: "production", PORT: "3000" });
    // The application had no source yet: its deployment fails and says why, as Dokploy's would.
    const deployments = await waitFor("the redeploy to finish", async () => {
      const list = (await dokploy(`deployment.all?applicationId=${appId}`)).body;
      return list[0]?.status !== "running" ? list : undefined;
    });
    expect(deployments[0]).toMatchObject({
      status: "error",
      title: "Rebuild deployment",
      errorMessage: expect.stringMatching(/no source/),
    });
  });

  it("makes the application deployable, and the CI step and config.sh functions work unchanged", async () => {
    expect(
      (
        await dokploy("application.saveGitProvider", {
          body: { applicationId: appId, customGitUrl: repo.url, customGitBranch: "main", customGitBuildPath: "/" },
        })
      ).body,
    ).toBe(true);
    // The document's saveBuildType request.
    const buildType = await bash(`curl -s -X 'POST' \\
  '${pierUrl()}/api/application.saveBuildType' \\
  -H 'Content-Type: application/json' \\
  -H 'x-api-key: ${apiKey}' \\
  -d '{
    "applicationId": "${appId}",
    "buildType": "dockerfile"
  }'`);
    expect(buildType).toBe("true");

    // The document's GitHub Actions expressions (`${{ … }}`), replaced as the runner would (biome.json).
    const ci = CI_STEP.replaceAll("${{ secrets.DOKPLOY_URL }}", pierUrl())
      .replaceAll("${{ secrets.DOKPLOY_API_KEY }}", apiKey)
      .replaceAll("${{ secrets.DOKPLOY_APP_ID }}", appId);
    expect(await bash(ci)).toBe("true");

    // The repository ships the document's functions (examples/dokploy/config.sh); use that file.
    const shipped = await readFile(SHIPPED_CONFIG, "utf8");
    expect(shipped).toContain(CONFIG_FUNCTIONS.trim());
    const config = `DOKPLOY_URL="${pierUrl()}"\nDOKPLOY_APP_ID="${appId}"\nDOKPLOY_API_KEY="${apiKey}"\nsource "${SHIPPED_CONFIG}"\n`;
    await writeFile(join(workDir, "config.sh"), config);
    const status = await waitFor(
      "the CI deployment to finish",
      async () => {
        const s = (await bash("source ./config.sh\nget_latest_status")).trim();
        return s !== "running" ? s : undefined;
      },
      { timeout: 90_000 },
    );
    expect(status).toBe("done");
    expect(await served(appName, "http://127.0.0.1:3000/index.html")).toBe("dokploy-app");

    const listed = JSON.parse(
      `[${(await bash("source ./config.sh\nget_deployments | jq -c '.[] | {status, createdAt, title}'")).trim().split("\n").join(",")}]`,
    );
    expect(listed).toEqual([
      { status: "done", createdAt: expect.any(String), title: "Rebuild deployment" },
      { status: "error", createdAt: expect.any(String), title: "Rebuild deployment" },
    ]);
    expect(listed[0].createdAt > listed[1].createdAt).toBe(true);
    const latest = JSON.parse(await bash("source ./config.sh\nget_latest_deployment"));
    expect(latest).toMatchObject({ deploymentId: expect.stringMatching(/^dpl_/), status: "done", applicationId: appId });
  });

  it("answers the document's other requests: projects, start/stop, databases, domains", async () => {
    const curl = (path: string, body?: string) =>
      bash(
        `curl -s -X '${body ? "POST" : "GET"}' '${pierUrl()}/api/${path}' -H 'accept: application/json' -H 'Content-Type: application/json' -H 'x-api-key: ${apiKey}'${body ? ` -d '${body}'` : ""}`,
      ).then((t) => JSON.parse(t));

    const all = await curl("project.all");
    expect(all).toEqual([
      expect.objectContaining({
        projectId,
        name: "production-app",
        applications: [expect.objectContaining({ applicationId: appId, applicationStatus: "done" })],
      }),
    ]);
    const created = await curl("project.create", '{\n    "name": "my-project",\n    "description": "프로젝트 설명"\n  }');
    expect(created).toMatchObject({ projectId: expect.stringMatching(/^prj_/), name: "my-project", description: "프로젝트 설명" });

    expect(await curl("application.stop", `{"applicationId": "${appId}"}`)).toMatchObject({
      applicationId: appId,
      applicationStatus: "idle",
    });
    expect(await curl("application.start", `{"applicationId": "${appId}"}`)).toMatchObject({
      applicationId: appId,
      applicationStatus: "done",
    });

    const pg = await curl(
      "postgres.create",
      JSON.stringify({
        name: "my-postgres",
        projectId: created.projectId,
        databaseName: "mydb",
        databaseUser: "admin",
        databasePassword: "secure-password",
      }),
    );
    expect(pg).toMatchObject({
      postgresId: expect.stringMatching(/^dbs_/),
      name: "my-postgres",
      databaseName: "mydb",
      databaseUser: "admin",
      databasePassword: "secure-password",
      dockerImage: "postgres:16",
      applicationStatus: "idle",
      serverId: host.id,
    });
    const mysql = await curl(
      "mysql.create",
      JSON.stringify({
        name: "my-mysql",
        projectId: created.projectId,
        databaseName: "mydb",
        databaseRootPassword: "root-password",
        databaseUser: "admin",
        databasePassword: "secure-password",
      }),
    );
    expect(mysql).toMatchObject({ mysqlId: expect.stringMatching(/^dbs_/), databaseRootPassword: "root-password" });
    expect(
      await curl(
        "mongo.create",
        JSON.stringify({ name: "my-mongo", projectId: created.projectId, databaseUser: "admin", databasePassword: "secure-password" }),
      ),
    ).toMatchObject({ mongoId: expect.stringMatching(/^dbs_/), databaseUser: "admin" });
    expect(await curl("redis.create", JSON.stringify({ name: "my-redis", projectId: created.projectId }))).toMatchObject({
      redisId: expect.stringMatching(/^dbs_/),
      databasePassword: expect.stringMatching(/^[a-z0-9]{32}$/),
    });

    const domain = await curl(
      "domain.create",
      `{\n    "applicationId": "${appId}",\n    "host": "myapp.example.com",\n    "https": true,\n    "certificateType": "letsencrypt"\n  }`,
    );
    expect(domain).toMatchObject({
      domainId: expect.stringMatching(/^dom_/),
      host: "myapp.example.com",
      https: true,
      certificateType: "letsencrypt",
      applicationId: appId,
    });

    // Canonical and Dokploy views agree.
    expect((await api(`/api/v1/projects/${created.projectId}`, { token: owner.token })).body.databases).toHaveLength(4);
    expect((await dokploy("project.remove", { body: { projectId: created.projectId } })).status).toBe(200);
    expect((await api(`/api/v1/projects/${created.projectId}`, { token: owner.token })).status).toBe(404);
  });
});
