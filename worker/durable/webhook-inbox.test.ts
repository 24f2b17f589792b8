// The WebhookInbox for real (workerd, its SQLite storage, the local libSQL server): a delivery is
// answered from the object's memory and storage, recorded in the database after the answer, and
// not lost when the object dies in between; whatever changes the application or its secret takes
// effect on the very next delivery.
import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/wait.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { hmacSha256Hex } from "../services/webhooks.ts";
import { call, json, newOwner, type TestAccount } from "../testing.ts";
import type { WebhookInbox } from "./webhook-inbox.ts";

async function setup(label: string) {
  const owner = await newOwner(label);
  const project = await json(await call("/api/v1/projects", { token: owner.token, body: { name: "p" } }), 201);
  const app = await json(
    await call("/api/v1/applications", {
      token: owner.token,
      body: { project_id: project.id, name: "w", git_url: "https://git.example.com/o/w.git", git_branch: "main" },
    }),
    201,
  );
  return { owner, app };
}

const push = (branch: string, sha: string) =>
  JSON.stringify({ ref: `refs/heads/${branch}`, after: sha, head_commit: { id: sha, message: `change ${sha.slice(0, 6)}` } });

async function githubHeaders(secret: string, body: string, delivery = crypto.randomUUID()): Promise<Record<string, string>> {
  return {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": delivery,
    "x-hub-signature-256": `sha256=${await hmacSha256Hex(secret, new TextEncoder().encode(body))}`,
  };
}

async function post(url: string, secret: string, body: string): Promise<Response> {
  return SELF.fetch(url.replace(/^https?:\/\/[^/]+/, "http://pier.test"), {
    method: "POST",
    headers: await githubHeaders(secret, body),
    body,
  });
}

const deliveries = async (owner: TestAccount, appId: string) =>
  (await json(await call(`/api/v1/applications/${appId}/webhook-deliveries`, { token: owner.token }), 200)).deliveries as any[];

describe("WebhookInbox", () => {
  it("records a delivery it acknowledged even when it dies before recording it", async () => {
    const { owner, app } = await setup("inbox-crash");
    const token = app.webhook_url.split("/").at(-1)!;
    const stub = env.WEBHOOK_INBOX.getByName(await sha256Hex(token));
    const sha = "c".repeat(40);
    const body = push("main", sha);
    const answer = await runInDurableObject(stub, async (inbox: WebhookInbox, state) => {
      const received = await inbox.receive({
        headers: Object.entries(await githubHeaders(app.webhook_secret, body)),
        body: new TextEncoder().encode(body),
        limit: 30,
      });
      // Worse than a crash right after the answer: the wake-up it set is gone too.
      await state.storage.deleteAlarm();
      return received;
    });
    expect(answer).toMatchObject({ kind: "received", result: { status: 202, outcome: "queued", deploymentId: null } });
    // Its memory is gone; only what it wrote before answering is left.
    await evictDurableObject(stub);
    expect(await deliveries(owner, app.id)).toEqual([]);

    // Woken again (by anything: here a count), it records the delivery and queues the deployment.
    await stub.pendingCount();
    const [recorded] = await waitFor("the delivery recorded after the restart", async () => {
      const list = await deliveries(owner, app.id);
      return list.length === 1 && list[0].detail !== "received" ? list : undefined;
    });
    expect(recorded).toMatchObject({
      id: answer.kind === "received" ? answer.result.deliveryRowId : "",
      outcome: "deployed",
      commit: sha,
      deployment_id: expect.stringMatching(/^dpl_/),
    });
    const deployment = await json(await call(`/api/v1/deployments/${recorded.deployment_id}`, { token: owner.token }), 200);
    expect(deployment).toMatchObject({ trigger: "webhook", commit: sha });
    expect(await stub.pendingCount()).toBe(0);
  });

  it("takes a changed secret, branch, token or a deletion into account at the very next delivery", async () => {
    const { owner, app } = await setup("inbox-cache");
    const old = app.webhook_secret;
    // Cached: the application and its secret are read once, then answered from memory.
    expect(await (await post(app.webhook_url, old, push("release", "1".repeat(40)))).json()).toMatchObject({ outcome: "ignored" });

    const rotated = await json(
      await call(`/api/v1/applications/${app.id}/webhook/rotate`, { method: "POST", token: owner.token, body: { rotate: "secret" } }),
      200,
    );
    expect((await post(app.webhook_url, old, push("release", "2".repeat(40)))).status).toBe(401);
    expect((await post(app.webhook_url, rotated.webhook_secret, push("release", "3".repeat(40)))).status).toBe(200);

    await json(await call(`/api/v1/applications/${app.id}`, { method: "PATCH", token: owner.token, body: { git_branch: "release" } }), 200);
    const onRelease = await post(app.webhook_url, rotated.webhook_secret, push("release", "4".repeat(40)));
    expect(onRelease.status).toBe(202);

    const moved = await json(
      await call(`/api/v1/applications/${app.id}/webhook/rotate`, { method: "POST", token: owner.token, body: { rotate: "token" } }),
      200,
    );
    expect((await post(app.webhook_url, rotated.webhook_secret, push("main", "5".repeat(40)))).status).toBe(404);
    expect((await post(moved.webhook_url, moved.webhook_secret, push("main", "6".repeat(40)))).status).toBe(200);

    expect((await call(`/api/v1/applications/${app.id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect((await post(moved.webhook_url, moved.webhook_secret, push("main", "7".repeat(40)))).status).toBe(404);
  });
});
