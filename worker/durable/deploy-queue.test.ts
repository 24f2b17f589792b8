// The DeployQueue Durable Object for real, with the agent played by the test over the HostRelay's
// WebSocket (as in host-relay.test.ts), so that timing, output and failures are exact: ordering,
// coalescing, cancel (waiting and running), timeouts, rollback, stored output with secrets
// scrubbed, tasks and notifications; and push webhooks from each provider, signed right and wrong.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../services/webhooks.ts";
import { waitFor } from "../../test/support/wait.ts";
import { call, expectProblem, json, newOwner, type TestAccount, waitForStatus } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

async function setup(label: string, appBody: Record<string, unknown> = {}) {
  const owner = await newOwner(label);
  const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: "h" } }), 201);
  const agent = await ScriptedAgent.connect(host.agent_token);
  await waitForStatus(owner, host.id, "online");
  const project = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "p" } }), 201);
  const app = await json(
    await call("/api/v1/applications", {
      token: owner.token,
      body: {
        project_id: project.id,
        name: "web",
        git_url: "https://git.example.com/o/web.git",
        git_token: "tok-secret-123",
        environment: { API_KEY: "sekrit-value-42" },
        ...appBody,
      },
    }),
    201,
  );
  return { owner, host, agent, project, app };
}

async function waitDeployment(
  owner: TestAccount,
  id: string,
  done: (d: any) => boolean = (d) => ["succeeded", "failed", "cancelled"].includes(d.status),
) {
  return waitFor(`deployment ${id} to settle`, async () => {
    const d = await json(await call(`/api/v1/deployments/${id}`, { token: owner.token }), 200);
    return done(d) ? d : undefined;
  });
}

/** Waits until the owner's notification center holds a notification of `kind`. */
const notified = (owner: TestAccount, kind: string) =>
  waitFor(`a ${kind} notification`, async () => {
    const inbox = await json(await call("/api/v1/notifications", { token: owner.token }), 200);
    return inbox.notifications.find((n: { kind: string }) => n.kind === kind);
  });

const deploy = async (owner: TestAccount, appId: string, body?: Record<string, unknown>) =>
  json(await call(`/api/v1/applications/${appId}/deployments`, { token: owner.token, method: "POST", ...(body ? { body } : {}) }), 202);

describe("DeployQueue", () => {
  it("runs a deployment: build then run on the host, output stored in pieces with secrets scrubbed, task and notification", async () => {
    const { owner, agent, app } = await setup("dq-run");
    const queued = await deploy(owner, app.id);
    expect(queued).toMatchObject({
      status: "queued",
      coalesced: false,
      trigger: "api",
      ref: "main",
      task_id: expect.stringMatching(/^tsk_/),
    });
    const build = await agent.next();
    expect(build.op).toBe("deploy.build");
    expect(build.args).toMatchObject({
      app_id: app.id,
      deployment_id: queued.id,
      image_tag: `pier/web:${queued.id}`,
      source: {
        type: "git",
        build_type: "dockerfile",
        git: { url: "https://git.example.com/o/web.git", branch: "main", token: "tok-secret-123" },
      },
    });
    expect((build.args as { timeout_ms: number }).timeout_ms).toBeGreaterThan(1_700_000);
    agent.chunk(build, 0, "Step 1/2 : FROM busybox\n");
    agent.chunk(build, 1, "leaked sekrit-value-42 and tok-secret-123\n");
    // A secret split across two chunks is caught too.
    agent.chunk(build, 2, "split sekrit-va");
    agent.chunk(build, 3, "lue-42 end\n");
    expect((await waitDeployment(owner, queued.id, (d) => d.status === "building")).started_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    agent.end(build, {
      image: `pier/web:${queued.id}`,
      image_id: "sha256:abc",
      commit: "f".repeat(40),
      commit_message: "Add feature",
      compose: false,
    });
    const run = await agent.next();
    expect(run.op).toBe("deploy.run");
    expect(run.args).toMatchObject({
      kind: "application",
      owner_id: app.id,
      name: "web",
      image: `pier/web:${queued.id}`,
      strategy: "start-first",
      env: { API_KEY: "sekrit-value-42" },
      network: { name: `pier-${app.project_id}`, aliases: ["web"] },
    });
    agent.chunk(run, 0, "==> Healthy\n");
    agent.end(run, { container_id: "c".repeat(64), container_name: "web", replaced: [] });

    const done = await waitDeployment(owner, queued.id);
    expect(done).toMatchObject({
      status: "succeeded",
      commit: "f".repeat(40),
      commit_message: "Add feature",
      image_tag: `pier/web:${queued.id}`,
      container_id: "c".repeat(64),
    });
    const logs = await json(await call(`/api/v1/deployments/${queued.id}/logs`, { token: owner.token }), 200);
    const text = logs.logs.map((l: { text: string }) => l.text).join("");
    expect(text).toContain("Step 1/2 : FROM busybox");
    expect(text).toContain("==> Deployment succeeded");
    expect(text).not.toContain("sekrit-value-42");
    expect(text).not.toContain("tok-secret-123");
    expect(text).toContain("split *** end");
    expect(logs.logs.map((l: { seq: number }) => l.seq)).toEqual([...logs.logs.keys()]);
    const tail = await json(await call(`/api/v1/deployments/${queued.id}/logs?after=${logs.next_after - 1}`, { token: owner.token }), 200);
    expect(tail.logs).toHaveLength(1);

    const appNow = await json(await call(`/api/v1/applications/${app.id}`, { token: owner.token }), 200);
    expect(appNow).toMatchObject({ status: "running", current_deployment_id: queued.id });
    const task = await json(await call(`/api/v1/tasks/${queued.task_id}`, { token: owner.token }), 200);
    // The task names its application: the overview's and the tasks page's lists show only this.
    expect(task).toMatchObject({ status: "succeeded", progress: 100, message: `${app.name}: deployed` });
    await notified(owner, "deployment.succeeded");
    agent.ws.close(1000);
  });

  it("runs one at a time in order, coalesces a waiting commit, cancels waiting and running ones", async () => {
    const { owner, agent, app } = await setup("dq-order");
    const first = await deploy(owner, app.id, { commit: "1111111" });
    const build1 = await agent.next();
    const second = await deploy(owner, app.id, { commit: "2222222" });
    const again = await deploy(owner, app.id, { commit: "2222222" });
    expect(again).toMatchObject({ id: second.id, coalesced: true, status: "queued" });
    const third = await deploy(owner, app.id, { commit: "3333333" });

    // Cancel a waiting one: dropped without reaching the host.
    expect(await json(await call(`/api/v1/deployments/${third.id}/cancel`, { method: "POST", token: owner.token }), 200)).toMatchObject({
      status: "cancelled",
    });
    // Cancel the running one: the host is told to abort.
    await json(await call(`/api/v1/deployments/${first.id}/cancel`, { method: "POST", token: owner.token }), 200);
    await agent.received("the cancel of the running build", (m) => m.type === "cancel" && m.id === build1.id);
    expect(await waitDeployment(owner, first.id)).toMatchObject({ status: "cancelled", error: expect.stringMatching(/cancelled by/) });
    await expectProblem(
      await call(`/api/v1/deployments/${first.id}/cancel`, { method: "POST", token: owner.token }),
      409,
      /already cancelled/,
    );

    // The next in line runs only now, with its commit.
    const build2 = await agent.next();
    expect(build2.args).toMatchObject({ deployment_id: second.id, source: { git: { commit: "2222222" } } });
    agent.end(build2, { image: "pier/web:2", image_id: "sha256:2", commit: "2".repeat(40), commit_message: "two", compose: false });
    const run2 = await agent.next();
    agent.end(run2, { container_id: "d".repeat(64), container_name: "web", replaced: [] });
    expect(await waitDeployment(owner, second.id)).toMatchObject({ status: "succeeded" });

    const history = await json(await call(`/api/v1/applications/${app.id}/deployments`, { token: owner.token }), 200);
    expect(history.deployments.map((d: { id: string }) => d.id)).toEqual([third.id, second.id, first.id]);
    agent.ws.close(1000);
  });

  it("fails a build with the host's reason, times out a stuck one, and rolls back to an earlier image", async () => {
    const { owner, agent, app } = await setup("dq-fail");
    const good = await deploy(owner, app.id);
    await agent.succeed(`pier/web:${good.id}`);
    await waitDeployment(owner, good.id);

    const bad = await deploy(owner, app.id);
    const build = await agent.next();
    agent.chunk(build, 0, "Step 2/2 : RUN exit 1\n");
    agent.end(build, undefined, {
      code: "deploy_failed",
      message: "docker build failed: The command '/bin/sh -c exit 1' returned a non-zero code: 1",
    });
    expect(await waitDeployment(owner, bad.id)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/returned a non-zero code/),
    });
    // The old version is still the current one.
    expect(await json(await call(`/api/v1/applications/${app.id}`, { token: owner.token }), 200)).toMatchObject({
      status: "running",
      current_deployment_id: good.id,
    });
    await expectProblem(
      await call(`/api/v1/deployments/${bad.id}/rollback`, { method: "POST", token: owner.token }),
      409,
      /did not succeed/,
    );

    await json(
      await call(`/api/v1/applications/${app.id}`, { method: "PATCH", token: owner.token, body: { deploy_timeout_seconds: 1 } }),
      200,
    );
    const stuck = await deploy(owner, app.id);
    const stuckBuild = await agent.next();
    expect((stuckBuild.args as { timeout_ms: number }).timeout_ms).toBeLessThanOrEqual(1000);
    const timedOut = await waitDeployment(owner, stuck.id);
    expect(timedOut).toMatchObject({ status: "failed", error: expect.stringMatching(/timed out after 1 s/) });
    // The notification follows the status by a moment.
    await notified(owner, "deployment.timed_out");
    await json(
      await call(`/api/v1/applications/${app.id}`, { method: "PATCH", token: owner.token, body: { deploy_timeout_seconds: 600 } }),
      200,
    );

    const rollback = await json(
      await call(`/api/v1/applications/${app.id}/rollback`, { token: owner.token, body: { deployment_id: good.id } }),
      202,
    );
    expect(rollback).toMatchObject({ trigger: "rollback", rollback_of: good.id, image_tag: `pier/web:${good.id}` });
    const run = await agent.next();
    // No build: the earlier image runs again.
    expect(run.op).toBe("deploy.run");
    expect(run.args).toMatchObject({ image: `pier/web:${good.id}`, deployment_id: rollback.id });
    agent.end(run, { container_id: "e".repeat(64), container_name: "web", replaced: ["c".repeat(64)] });
    expect(await waitDeployment(owner, rollback.id)).toMatchObject({ status: "succeeded" });
    agent.ws.close(1000);
  });

  it("fails at once, with the reason, when the host is offline", async () => {
    const { owner, host, agent, app } = await setup("dq-offline");
    agent.ws.close(1000);
    await waitForStatus(owner, host.id, "disconnected");
    const d = await deploy(owner, app.id);
    const failed = await waitDeployment(owner, d.id);
    expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(/offline/) });
    const task = await json(await call(`/api/v1/tasks/${d.task_id}`, { token: owner.token }), 200);
    expect(task).toMatchObject({ status: "failed", message: `${app.name}: ${failed.error}` });
  });
});

// ---- webhooks -------------------------------------------------------------------------------

const GITHUB_PUSH = (branch: string, sha: string, message: string) => ({
  ref: `refs/heads/${branch}`,
  before: `${"0".repeat(39)}1`,
  after: sha,
  created: false,
  deleted: false,
  forced: false,
  base_ref: null,
  compare: `https://github.com/o/web/compare/${sha}`,
  commits: [
    {
      id: sha,
      tree_id: "t".repeat(40),
      distinct: true,
      message,
      timestamp: "2026-11-20T10:00:00Z",
      url: `https://github.com/o/web/commit/${sha}`,
      author: { name: "A", email: "a@example.com", username: "a" },
      committer: { name: "A", email: "a@example.com", username: "a" },
      added: [],
      removed: [],
      modified: ["README.md"],
    },
  ],
  head_commit: {
    id: sha,
    tree_id: "t".repeat(40),
    distinct: true,
    message,
    timestamp: "2026-11-20T10:00:00Z",
    url: `https://github.com/o/web/commit/${sha}`,
    author: { name: "A", email: "a@example.com" },
    committer: { name: "A", email: "a@example.com" },
    added: [],
    removed: [],
    modified: ["README.md"],
  },
  repository: { id: 1, name: "web", full_name: "o/web", private: true, default_branch: "main", clone_url: "https://github.com/o/web.git" },
  pusher: { name: "a", email: "a@example.com" },
  sender: { login: "a", id: 1 },
});

async function signedGitHub(url: string, secret: string, payload: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${await hmacSha256Hex(secret, new TextEncoder().encode(body))}`;
  return SELF.fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": signature,
      "user-agent": "GitHub-Hookshot/abc",
      ...headers,
    },
    body,
  });
}

describe("webhooks", () => {
  it("verify GitHub signatures, answer ping, filter branches, skip [skip ci], deploy once per delivery id, and record everything", async () => {
    const { owner, agent, app } = await setup("wh-github");
    const url = app.webhook_url.replace(/^https?:\/\/[^/]+/, "http://pier.test");
    const sha = "abcdef0123456789abcdef0123456789abcdef01";

    const ping = await SELF.fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${await hmacSha256Hex(app.webhook_secret, new TextEncoder().encode('{"zen":"Keep it simple.","hook_id":1}'))}`,
      },
      body: '{"zen":"Keep it simple.","hook_id":1}',
    });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ outcome: "ping" });

    const wrong = await signedGitHub(url, "not-the-secret", GITHUB_PUSH("main", sha, "x"));
    expect(wrong.status).toBe(401);
    const unsigned = await SELF.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": crypto.randomUUID() },
      body: JSON.stringify(GITHUB_PUSH("main", sha, "x")),
    });
    expect(unsigned.status).toBe(401);

    expect(await (await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("feature", sha, "x"))).json()).toMatchObject({
      outcome: "ignored",
      detail: expect.stringMatching(/push to feature/),
    });
    // A push of many commits outgrows the API's 1 MiB body limit; webhooks take GitHub's 25 MB.
    const big = { ...GITHUB_PUSH("feature", sha, "x"), padding: "x".repeat(2 * 1024 * 1024) };
    expect(await (await signedGitHub(url, app.webhook_secret, big)).json()).toMatchObject({ outcome: "ignored" });
    expect(await (await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("main", sha, "Docs only [skip ci]"))).json()).toMatchObject({
      outcome: "skipped",
    });

    const delivery = crypto.randomUUID();
    const first = await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("main", sha, "Ship it\n\nbody"), {
      "x-github-delivery": delivery,
    });
    expect(first.status).toBe(202);
    expect(first.headers.get("x-ratelimit-limit")).toBe("30");
    // Acknowledged before the deployment exists: it is queued right after the answer.
    expect(await first.json()).toMatchObject({ outcome: "queued", deployment_id: null });
    const again = await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("main", sha, "Ship it\n\nbody"), {
      "x-github-delivery": delivery,
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: "duplicate" });

    const build = await agent.next();
    const deploymentId = (build.args as { deployment_id: string }).deployment_id;
    expect(build.args).toMatchObject({ source: { git: { commit: sha, branch: "main" } } });
    const d = await json(await call(`/api/v1/deployments/${deploymentId}`, { token: owner.token }), 200);
    expect(d).toMatchObject({ trigger: "webhook", title: "Ship it", commit: sha });
    agent.end(build, undefined, { code: "deploy_failed", message: "no" });

    // Recorded in the order they arrived, each with what came of it.
    const deliveries = await waitFor("every delivery recorded", async () => {
      const page = await json(await call(`/api/v1/applications/${app.id}/webhook-deliveries`, { token: owner.token }), 200);
      return page.deliveries.length === 8 && page.deliveries.every((x: any) => x.detail !== "received") ? page.deliveries : undefined;
    });
    expect(deliveries.map((x: any) => [x.provider, x.verified, x.outcome])).toEqual([
      ["github", true, "duplicate"],
      ["github", true, "deployed"],
      ["github", true, "skipped"],
      ["github", true, "ignored"],
      ["github", true, "ignored"],
      ["github", false, "rejected"],
      ["github", false, "rejected"],
      ["github", true, "ping"],
    ]);
    expect(deliveries[0].deployment_id).toBe(deploymentId);
    expect(deliveries[1].deployment_id).toBe(deploymentId);
    // A repeated delivery id is answered with the deployment once it is known.
    const third = await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("main", sha, "Ship it\n\nbody"), {
      "x-github-delivery": delivery,
    });
    expect(await third.json()).toMatchObject({ outcome: "duplicate", deployment_id: deploymentId });
    agent.ws.close(1000);
  });

  it("verify GitLab's token and Bitbucket's signature on their documented push payloads", async () => {
    const { agent, app } = await setup("wh-others");
    const url = app.webhook_url.replace(/^https?:\/\/[^/]+/, "http://pier.test");
    const sha = "1234567890abcdef1234567890abcdef12345678";
    const gitlab = {
      object_kind: "push",
      event_name: "push",
      before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
      after: sha,
      ref: "refs/heads/main",
      ref_protected: true,
      checkout_sha: sha,
      user_id: 4,
      user_name: "John Smith",
      user_username: "jsmith",
      project_id: 15,
      project: { id: 15, name: "Web", web_url: "https://gitlab.example.com/o/web", path_with_namespace: "o/web", default_branch: "main" },
      commits: [
        {
          id: "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
          message: "Older commit\n",
          title: "Older commit",
          timestamp: "2026-11-20T09:00:00+00:00",
          author: { name: "J", email: "j@example.com" },
          added: [],
          modified: [],
          removed: [],
        },
        {
          id: sha,
          message: "Fix the thing\n",
          title: "Fix the thing",
          timestamp: "2026-11-20T10:00:00+00:00",
          author: { name: "J", email: "j@example.com" },
          added: [],
          modified: ["a"],
          removed: [],
        },
      ],
      total_commits_count: 2,
      repository: { name: "Web", url: "git@gitlab.example.com:o/web.git", homepage: "https://gitlab.example.com/o/web" },
    };
    const gitlabHeaders = (token: string) => ({
      "content-type": "application/json",
      "x-gitlab-event": "Push Hook",
      "x-gitlab-token": token,
      "x-gitlab-event-uuid": crypto.randomUUID(),
      "x-gitlab-instance": "https://gitlab.example.com",
    });
    expect((await SELF.fetch(url, { method: "POST", headers: gitlabHeaders("wrong"), body: JSON.stringify(gitlab) })).status).toBe(401);
    const ok = await SELF.fetch(url, { method: "POST", headers: gitlabHeaders(app.webhook_secret), body: JSON.stringify(gitlab) });
    expect(ok.status).toBe(202);
    const build = await agent.next();
    expect(build.args).toMatchObject({ source: { git: { commit: sha } } });
    agent.end(build, undefined, { code: "deploy_failed", message: "no" });

    const bbSha = "fedcba9876543210fedcba9876543210fedcba98";
    const bitbucket = {
      actor: { display_name: "A", type: "user" },
      repository: { full_name: "o/web", name: "web", type: "repository" },
      push: {
        changes: [
          {
            new: {
              type: "branch",
              name: "main",
              target: { type: "commit", hash: bbSha, message: "Bitbucket change\n", date: "2026-11-20T10:00:00+00:00" },
            },
            old: { type: "branch", name: "main", target: { hash: "0123456789abcdef0123456789abcdef01234567" } },
            created: false,
            closed: false,
            forced: false,
            truncated: false,
          },
        ],
      },
    };
    const body = JSON.stringify(bitbucket);
    const bbHeaders = (sig: string) => ({
      "content-type": "application/json",
      "x-event-key": "repo:push",
      "x-request-uuid": crypto.randomUUID(),
      "x-hook-uuid": crypto.randomUUID(),
      "user-agent": "Bitbucket-Webhooks/2.0",
      "x-hub-signature": sig,
    });
    expect((await SELF.fetch(url, { method: "POST", headers: bbHeaders(`sha256=${"0".repeat(64)}`), body })).status).toBe(401);
    const bb = await SELF.fetch(url, {
      method: "POST",
      headers: bbHeaders(`sha256=${await hmacSha256Hex(app.webhook_secret, new TextEncoder().encode(body))}`),
      body,
    });
    expect(bb.status).toBe(202);
    const bbBuild = await agent.next();
    expect(bbBuild.args).toMatchObject({ source: { git: { commit: bbSha } } });
    agent.end(bbBuild, undefined, { code: "deploy_failed", message: "no" });

    // No provider headers at all: refused.
    expect((await SELF.fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect((await SELF.fetch("http://pier.test/api/v1/webhooks/whk_unknown", { method: "POST", body: "{}" })).status).toBe(404);
    agent.ws.close(1000);
  });

  it("take DevFlow's deploy webhook by token, or by app name when a provider signature proves it", async () => {
    const { owner, agent, app } = await setup("wh-devflow");
    const sha = "00112233445566778899aabbccddeeff00112233";
    const payload = { ref: "refs/heads/main", after: sha, head_commit: { message: "Update feature X" } };
    // By app name, signed: the application whose secret verifies it.
    const body = JSON.stringify(payload);
    const signed = await SELF.fetch(`http://pier.test/api/webhooks/deploy/${app.app_name}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${await hmacSha256Hex(app.webhook_secret, new TextEncoder().encode(body))}`,
      },
      body,
    });
    expect(signed.status).toBe(200);
    const answer = await signed.json<{ message: string; deployment_id: string }>();
    expect(answer).toEqual({ message: "Deployment triggered successfully", deployment_id: expect.stringMatching(/^dpl_/) });
    const build = await agent.next();
    expect(build.args).toMatchObject({ source: { git: { commit: sha } } });
    agent.end(build, undefined, { code: "deploy_failed", message: "no" });
    // DevFlow's setup configures no secret: an unsigned provider delivery to the token URL deploys.
    const unsigned = await SELF.fetch(`http://pier.test/api/webhooks/deploy/${app.webhook_token ?? app.webhook_url.split("/").pop()}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": crypto.randomUUID() },
      body,
    });
    expect(unsigned.status).toBe(200);
    expect(await unsigned.json()).toEqual({ message: "Deployment triggered successfully", deployment_id: expect.stringMatching(/^dpl_/) });
    const nullBody = await SELF.fetch(`http://pier.test/api/webhooks/deploy/${app.webhook_url.split("/").pop()}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "null",
    });
    // Not a push: refused as a bad request, and recorded as an invalid delivery.
    expect(nullBody.status).toBe(400);
    expect(await nullBody.text()).toContain("the payload is not a JSON object");
    // A wrong signature on the app name finds nothing to deploy.
    const forged = await SELF.fetch(`http://pier.test/api/webhooks/deploy/${app.app_name}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
      body,
    });
    expect(forged.status).toBe(404);
    expect(await forged.json()).toMatchObject({ error: "Not Found", status: 404 });
    // The log stream (and only it) takes ?access_token= for browsers' EventSource.
    expect((await SELF.fetch(`http://pier.test/api/v1/deployments/${answer.deployment_id}/logs?access_token=${owner.token}`)).status).toBe(
      200,
    );
    expect((await SELF.fetch(`http://pier.test/api/v1/deployments/${answer.deployment_id}?access_token=${owner.token}`)).status).toBe(401);
    agent.ws.close(1000);
  });

  it("limit each application to 30 deliveries a minute with the rate-limit headers", async () => {
    const owner = await newOwner("wh-limit");
    const project = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "p" } }), 201);
    const app = await json(
      await call("/api/v1/applications", {
        token: owner.token,
        body: { project_id: project.id, name: "w", git_url: "https://git.example.com/o/w.git" },
      }),
      201,
    );
    const url = app.webhook_url.replace(/^https?:\/\/[^/]+/, "http://pier.test");
    let last: Response | undefined;
    for (let i = 0; i < 31; i++) last = await signedGitHub(url, app.webhook_secret, GITHUB_PUSH("other", "a".repeat(40), "x"));
    expect(last!.status).toBe(429);
    expect(last!.headers.get("x-ratelimit-limit")).toBe("30");
    expect(last!.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
