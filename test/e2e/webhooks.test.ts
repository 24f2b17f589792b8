// Push webhooks end to end: deliveries built from GitHub's, GitLab's and Bitbucket's documented
// push payloads, signed right and wrong, a duplicate, ten quick pushes that end on the newest
// commit; and DevFlow's deploy webhook (seed 003) driven with the document's own payloads and
// its deploy-with-backup script's curl.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, dockerAvailable, newOwner, onlineHost, type Owner, pierUrl, TEST_IMAGE, type TestAgent, unique, waitFor } from "./client.ts";
import {
  bitbucketPush,
  cleanupOwner,
  deployLogs,
  FINISHED,
  githubDelivery,
  githubPush,
  gitlabPush,
  gitRepo,
  hmac,
  post,
  served,
  waitDeployment,
  type TestRepo,
} from "./deploy-helpers.ts";

const sh = promisify(execFile);
const page = (marker: string) => ({ "public/index.html": `${marker}\n` });

describe.skipIf(!dockerAvailable())("push webhooks", () => {
  let owner: Owner;
  let agent: TestAgent;
  let repo: TestRepo;
  let app: { id: string; project_id: string; app_name: string; webhook_url: string; webhook_secret: string };
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    owner = await newOwner("hooks");
    ({ agent } = await onlineHost(owner));
    const project = (await api("/api/v1/projects", { token: owner.token, body: { name: "hooks" } })).body;
    repo = await gitRepo();
    cleanups.push(() => repo.remove());
    await repo.commit(page("initial"), "initial");
    // A static site: the repository's public/ served by busybox httpd (the static build type).
    const res = await api("/api/v1/applications", {
      token: owner.token,
      body: {
        project_id: project.id,
        name: "site",
        app_name: unique("hook-site"),
        git_url: repo.url,
        git_branch: "main",
        build_type: "static",
        publish_dir: "public",
        static_image: TEST_IMAGE,
        health_check: { http_path: "/index.html", port: 80, interval_seconds: 1, retries: 10 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    app = res.body;
    cleanups.push(() => cleanupOwner("dev.pier.app", app.id, app.app_name));
  });

  afterAll(async () => {
    if (app) await api(`/api/v1/projects/${app.project_id}?force=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await agent?.agent.stop();
  });

  const deliveries = async () =>
    (await api(`/api/v1/applications/${app.id}/webhook-deliveries?limit=200`, { token: owner.token })).body.deliveries as any[];
  const deploymentsOf = async () =>
    (await api(`/api/v1/applications/${app.id}/deployments?limit=200`, { token: owner.token })).body.deployments as any[];
  /** A push is acknowledged before its deployment is queued: the deployment's id appears in its delivery's record. */
  const deploymentOf = (delivery: string) =>
    waitFor(`delivery ${delivery} to name its deployment`, async () => {
      const row = (await deliveries()).find((x) => x.id === delivery);
      return row?.deployment_id ? (row.deployment_id as string) : undefined;
    });
  const settled = () =>
    waitFor("the queue to settle", async () => ((await deploymentsOf()).every((d) => FINISHED.includes(d.status)) ? true : undefined), {
      timeout: 90_000,
    });

  it("deploys a GitHub push signed with the secret, and nothing on a wrong signature or a duplicate", async () => {
    const sha = await repo.commit(page("from-github"), "Deploy from GitHub");
    const wrong = await post(app.webhook_url, githubDelivery("wrong-secret", githubPush("main", sha, "Deploy from GitHub", repo.url)));
    expect(wrong.status).toBe(401);
    expect(await deploymentsOf()).toHaveLength(0);

    const ping = await post(
      app.webhook_url,
      githubDelivery(
        app.webhook_secret,
        { zen: "Design for failure.", hook_id: 1, hook: { type: "Repository", events: ["push"] } },
        "ping",
      ),
    );
    expect(ping.status).toBe(200);

    const delivery = githubDelivery(app.webhook_secret, githubPush("main", sha, "Deploy from GitHub", repo.url));
    const ok = await post(app.webhook_url, delivery);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    expect(ok.headers.get("x-ratelimit-limit")).toBe("30");
    expect(ok.body).toMatchObject({ outcome: "queued", deployment_id: null });
    const duplicate = await post(app.webhook_url, delivery);
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toMatchObject({ outcome: "duplicate" });

    const d = await waitDeployment(owner, await deploymentOf(ok.body.delivery));
    expect(d, await deployLogs(owner, d.id)).toMatchObject({
      status: "succeeded",
      trigger: "webhook",
      commit: sha,
      title: "Deploy from GitHub",
    });
    expect(await served(app.app_name, "http://127.0.0.1/index.html")).toBe("from-github");
    expect(await deploymentsOf()).toHaveLength(1);
    const recorded = await waitFor("every delivery recorded", async () => {
      const list = await deliveries();
      return list.length === 4 && list.every((x) => x.detail !== "received") ? list : undefined;
    });
    expect(recorded[0].deployment_id).toBe(d.id);
    expect(recorded.map((x) => [x.provider, x.verified, x.outcome])).toEqual([
      ["github", true, "duplicate"],
      ["github", true, "deployed"],
      ["github", true, "ping"],
      ["github", false, "rejected"],
    ]);
  });

  it("deploys GitLab and Bitbucket pushes verified by their own schemes", async () => {
    const glSha = await repo.commit(page("from-gitlab"), "Deploy from GitLab");
    const glBody = JSON.stringify(gitlabPush("main", glSha, "Deploy from GitLab"));
    const glHeaders = (token: string) => ({
      "content-type": "application/json",
      "x-gitlab-event": "Push Hook",
      "x-gitlab-token": token,
      "x-gitlab-event-uuid": crypto.randomUUID(),
      "x-gitlab-instance": "https://gitlab.example.com",
      "user-agent": "GitLab/18.0",
    });
    expect((await post(app.webhook_url, { body: glBody, headers: glHeaders("not-it") })).status).toBe(401);
    const gl = await post(app.webhook_url, { body: glBody, headers: glHeaders(app.webhook_secret) });
    expect(gl.status).toBe(202);
    expect(await waitDeployment(owner, await deploymentOf(gl.body.delivery))).toMatchObject({ status: "succeeded", commit: glSha });
    expect(await served(app.app_name, "http://127.0.0.1/index.html")).toBe("from-gitlab");

    const bbSha = await repo.commit(page("from-bitbucket"), "Deploy from Bitbucket");
    const bbBody = JSON.stringify(bitbucketPush("main", bbSha, "Deploy from Bitbucket"));
    const bbHeaders = (signature: string) => ({
      "content-type": "application/json",
      "x-event-key": "repo:push",
      "x-request-uuid": crypto.randomUUID(),
      "x-hook-uuid": crypto.randomUUID(),
      "user-agent": "Bitbucket-Webhooks/2.0",
      "x-hub-signature": signature,
    });
    expect((await post(app.webhook_url, { body: bbBody, headers: bbHeaders(hmac("nope", bbBody)) })).status).toBe(401);
    const bb = await post(app.webhook_url, { body: bbBody, headers: bbHeaders(hmac(app.webhook_secret, bbBody)) });
    expect(bb.status).toBe(202);
    expect(await waitDeployment(owner, await deploymentOf(bb.body.delivery))).toMatchObject({ status: "succeeded", commit: bbSha });
    expect(await served(app.app_name, "http://127.0.0.1/index.html")).toBe("from-bitbucket");

    // Another branch, or a commit asking to skip CI, deploys nothing.
    expect(
      (await post(app.webhook_url, githubDelivery(app.webhook_secret, githubPush("feature", bbSha, "wip", repo.url)))).body,
    ).toMatchObject({ outcome: "ignored" });
    expect(
      (await post(app.webhook_url, githubDelivery(app.webhook_secret, githubPush("main", bbSha, "Typo [ci skip]", repo.url)))).body,
    ).toMatchObject({ outcome: "skipped" });
  });

  it("ends a burst of ten quick pushes on the newest commit", async () => {
    const before = (await deploymentsOf()).length;
    const shas: string[] = [];
    const received: string[] = [];
    for (let i = 1; i <= 10; i++) {
      const sha = await repo.commit(page(`burst-${i}`), `Burst ${i}`);
      shas.push(sha);
      const res = await post(app.webhook_url, githubDelivery(app.webhook_secret, githubPush("main", sha, `Burst ${i}`, repo.url)));
      expect(res.status).toBe(202);
      received.push(res.body.delivery);
    }
    for (const delivery of received) await deploymentOf(delivery);
    await settled();
    const burst = (await deploymentsOf()).slice(0, (await deploymentsOf()).length - before);
    expect(burst).toHaveLength(10);
    // Newest first: the last push ran and won; those that were still waiting were superseded.
    expect(burst[0]).toMatchObject({ commit: shas[9], status: "succeeded" });
    expect(burst.filter((d) => d.status === "cancelled").every((d) => /superseded/.test(d.error))).toBe(true);
    expect(burst.filter((d) => d.status === "succeeded").length).toBeLessThan(10);
    expect(await served(app.app_name, "http://127.0.0.1/index.html")).toBe("burst-10");
    expect((await api(`/api/v1/applications/${app.id}`, { token: owner.token })).body.current_deployment_id).toBe(burst[0].id);
  });
});

describe.skipIf(!dockerAvailable())("DevFlow deploy webhook (seed 003)", () => {
  let owner: Owner;
  let agent: TestAgent;
  let app: { id: string; project_id: string; app_name: string; webhook_url: string };
  let apiKey: string;

  beforeAll(async () => {
    owner = await newOwner("devflow");
    ({ agent } = await onlineHost(owner));
    const project = (await api("/api/v1/projects", { token: owner.token, body: { name: "devflow" } })).body;
    app = (
      await api("/api/v1/applications", {
        token: owner.token,
        body: {
          project_id: project.id,
          name: "my project",
          app_name: unique("my-project"),
          image: TEST_IMAGE,
          pull_policy: "never",
          command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
          health_check: null,
        },
      })
    ).body;
    apiKey = (await api("/api/v1/api-keys", { token: owner.token, body: { name: "devflow" } })).body.key;
  });

  afterAll(async () => {
    if (app) await api(`/api/v1/projects/${app.project_id}?force=true`, { token: owner.token, method: "DELETE" }).catch(() => undefined);
    await cleanupOwner("dev.pier.app", app.id, app.app_name).catch(() => undefined);
    await agent?.agent.stop();
  });

  const token = () => app.webhook_url.split("/").pop()!;

  it("accepts the three documented payloads on the application's token", async () => {
    const url = `${pierUrl()}/api/webhooks/deploy/${token()}`;
    // The document's payloads, verbatim.
    const payloads = [
      { ref: "refs/heads/main", after: "abc123def456", head_commit: { message: "Update feature X" } },
      { object_kind: "push", ref: "refs/heads/main", checkout_sha: "abc123def456", commits: [{ message: "Update feature X" }] },
      { push: { changes: [{ new: { name: "main", target: { hash: "abc123def456", message: "Update feature X" } } }] } },
    ];
    const ids: string[] = [];
    for (const payload of payloads) {
      const res = await api(url.replace(pierUrl(), ""), { body: payload });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ message: "Deployment triggered successfully", deployment_id: expect.stringMatching(/^dpl_/) });
      ids.push(res.body.deployment_id);
      await waitDeployment(owner, res.body.deployment_id);
    }
    for (const id of ids)
      expect((await api(`/api/v1/deployments/${id}`, { token: owner.token })).body).toMatchObject({
        status: "succeeded",
        trigger: "devflow",
        title: "Update feature X",
      });
    const hooks = (await api(`/api/v1/applications/${app.id}/webhook-deliveries`, { token: owner.token })).body.deliveries;
    expect(hooks.map((h: { event: string }) => h.event)).toEqual([
      "push (bitbucket payload)",
      "push (gitlab payload)",
      "push (github payload)",
    ]);
  });

  it("takes the app's slug with credentials (the deploy-with-backup script's curl), and refuses it without", async () => {
    // The script's deploy step, as written, with its variables set.
    const script = `
PROJECT_ID="${app.app_name}"
API_URL="${pierUrl()}/api"
TOKEN="${apiKey}"
curl -X POST "\${API_URL}/webhooks/deploy/\${PROJECT_ID}" \\
  -H "Authorization: Bearer \${TOKEN}"
`;
    const { stdout } = await sh("bash", ["-c", script]);
    const answer = JSON.parse(stdout);
    expect(answer).toEqual({ message: "Deployment triggered successfully", deployment_id: expect.stringMatching(/^dpl_/) });
    expect(await waitDeployment(owner, answer.deployment_id)).toMatchObject({ status: "succeeded" });

    const anonymous = await api(`/api/webhooks/deploy/${app.app_name}`, {
      body: { ref: "refs/heads/main", after: "abc123def456", head_commit: { message: "x" } },
    });
    expect(anonymous.status).toBe(404);
    expect(anonymous.body).toMatchObject({ message: expect.stringMatching(/Unknown deploy webhook/), status: 404 });
    const stranger = await newOwner("devflow-stranger");
    expect((await api(`/api/webhooks/deploy/${app.app_name}`, { token: stranger.token, method: "POST" })).status).toBe(404);
  });
});
